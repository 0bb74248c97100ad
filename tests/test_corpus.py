"""utils.data corpus and patches: every image loads offline, splits are fixed, patches are deterministic."""

import numpy as np
import pytest

from utils.data import (MODALITIES, heldout_pairs, load_sample, patch_set, sample_names, sample_path, sample_table,
                        split_names, square_image)
from utils.data import patches as patches_module

REQUIRED = {"xray": 2, "ct": 1, "mr": 2, "ultrasound": 2, "retina": 1, "histology": 1, "phantom": 1}


def test_corpus_covers_the_required_modalities_and_covers():
    medical = sample_names(kind="medical")
    for modality, count in REQUIRED.items():
        assert sum(m == modality for m in medical.values()) >= count, modality
    natural = sample_names(kind="natural")
    assert len(natural) >= 12
    assert set(medical.values()) | {"natural"} <= set(MODALITIES)


@pytest.mark.parametrize("name", list(sample_names()))
def test_every_sample_loads_offline_as_unit_float(name):
    image, info = load_sample(name)
    assert image.dtype == np.float32
    assert image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 3)
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert image.std() > 0.02, "a blank image means a wrong window or a failed decode"
    assert info["name"] == name and info["modality"] == sample_names()[name]
    assert {"original_dtype", "original_shape", "split", "package"} <= set(info)
    assert sample_path(name).exists()


def test_load_sample_returns_a_private_copy():
    image, _ = load_sample("phantom")
    image[:] = 0
    again, _ = load_sample("phantom")
    assert again.max() > 0


def test_multiframe_sample_gives_all_frames_on_request():
    frames, info = load_sample("head_mr_cine", frame="all")
    assert frames.shape == (10, 64, 64) and info["n_frames"] == 10


def test_unknown_names_and_filters_are_refused():
    with pytest.raises(KeyError, match="no sample named 'lena'"):
        load_sample("lena")
    with pytest.raises(ValueError, match="split='test'"):
        sample_names(split="test")


def test_every_modality_has_a_heldout_image_and_splits_are_disjoint():
    for modality in set(sample_names(kind="medical").values()):
        assert split_names("medical", "heldout", modality), modality
    for kind in ("natural", "medical"):
        assert not set(split_names(kind, "train")) & set(split_names(kind, "heldout"))
    assert len(sample_table()) == len(sample_names())


def test_patch_set_is_deterministic_and_seed_dependent():
    names = split_names("natural", "train")
    a = patch_set(names, 32, 6, seed=5)
    b = patch_set(names, 32, 6, seed=5)
    c = patch_set(names, 32, 6, seed=6)
    assert a.shape == (6, 32, 32, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_patch_set_channels():
    grey = patch_set(["retina"], 16, 3, seed=0, channels=1)
    rgb = patch_set(["head_ct"], 16, 3, seed=0, channels=3)
    assert grey.shape == (3, 16, 16, 1)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    with pytest.raises(ValueError, match="channels must be 1"):
        patch_set(["retina"], 16, 1, seed=0, channels=2)
    with pytest.raises(ValueError, match="smaller than the patch size"):
        patch_set(["retina"], 64, 1, seed=0, shorter_side=32)


@pytest.fixture
def images_read(monkeypatch):
    """The corpus names that patch cutting reads, in order (a spy on the resize cache)."""
    used = []
    original = patches_module._resized

    def spy(name, shorter_side, min_side):
        used.append(name)
        return original(name, shorter_side, min_side)

    monkeypatch.setattr(patches_module, "_resized", spy)
    return used


def test_heldout_pairs_come_only_from_heldout_images(images_read):
    used = images_read
    for secrets in ("natural", "medical"):
        used.clear()
        secret, cover = heldout_pairs(size=32, n=12, secrets=secrets)
        assert set(used) <= set(sample_names(split="heldout"))
        assert set(used) & set(split_names(secrets, "heldout"))
        # secret and cover of a pair never come from one image: pairs are drawn cover first, then secret
        assert all(a != b for a, b in zip(used[0::2], used[1::2]))
    assert secret.shape == (12, 32, 32, 3) and cover.shape == (12, 32, 32, 3)


def test_heldout_pairs_are_fixed():
    a = heldout_pairs(size=32, n=4)
    b = heldout_pairs(size=32, n=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_heldout_pairs_of_one_modality(images_read):
    used = images_read
    secret, cover = heldout_pairs(size=32, n=3, secrets="medical", channels=1, modality="xray")
    assert secret.shape == (3, 32, 32, 1) and cover.shape == (3, 32, 32, 3)
    assert used[1::2] == ["extremity_xray"] * 3  # secrets: the held-out radiograph only
    with pytest.raises(ValueError, match="no held-out natural images of modality 'ct'"):
        heldout_pairs(size=32, n=1, secrets="natural", modality="ct")
    with pytest.raises(ValueError, match="modality='bone'"):
        heldout_pairs(size=32, n=1, secrets="medical", modality="bone")


def test_square_image_crops_the_centre_and_resizes():
    wide = np.zeros((10, 30), np.float32)
    wide[:, 10:20] = 1.0  # the centre square is all ones
    assert np.allclose(square_image(wide, 5), 1.0)
    assert square_image("coffee", 64).shape == (64, 64, 3)
    assert square_image("coffee", 64, channels=1).shape == (64, 64, 1)
    with pytest.raises(ValueError, match="expected an"):
        square_image(np.zeros(5, np.float32), 4)
