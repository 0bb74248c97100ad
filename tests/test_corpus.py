"""utils.data corpus and patches: every image loads offline, splits are fixed, patches are deterministic."""

import numpy as np
import pytest

from utils.data import (
    MODALITIES,
    SPLITS,
    corpus_source,
    image_set,
    load_sample,
    pair_set,
    patch_set,
    sample_names,
    sample_path,
    sample_table,
    sources,
    split_names,
    square_image,
)

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
    with pytest.raises(ValueError, match="split='heldout'"):
        sample_names(split="heldout")


def test_every_modality_has_a_test_image_and_the_three_splits_are_disjoint():
    for modality in set(sample_names(kind="medical").values()):
        assert split_names("medical", "test", modality), modality
    for kind in ("natural", "medical"):
        names = [set(split_names(kind, split)) for split in SPLITS]
        assert all(names), kind  # every split has images of both kinds
        assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    assert len(sample_table()) == len(sample_names())


def test_files_of_one_patient_or_scene_share_a_split():
    """Two views of one scene, seven photographs of one table: one split each, never train against test."""
    splits = {name: corpus_source(name).split for name in sample_names()}
    assert splits["motorcycle_left"] == splits["motorcycle_right"]
    assert len({splits[f"cookies_{k}"] for k in range(1, 8)}) == 1


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


def test_pair_set_uses_only_its_split_and_balances_sources():
    for secrets in ("natural", "medical"):
        pairs = pair_set("test", secrets, size=32, n=28)
        test_names = set(sample_names(split="test"))
        assert set(pairs.secret_ids) <= test_names and set(pairs.cover_ids) <= test_names
        assert set(pairs.secret_ids) == set(split_names(secrets, "test"))  # every test source is used
        assert all(a != b for a, b in zip(pairs.secret_ids, pairs.cover_ids))
        counts = np.unique(pairs.secret_ids, return_counts=True)[1]
        assert counts.max() - counts.min() <= 1  # equal shares per source, not per frame
    assert pairs.secrets.shape == (28, 32, 32, 1) and pairs.covers.shape == (28, 32, 32, 3)
    assert "28 test pairs" in pairs.description and "14 source images" in pairs.description


def test_pair_set_spreads_a_cine_over_all_its_frames():
    pairs = pair_set("test", "medical", size=32, n=14 * 30, modality=None)
    cine = pairs.secret_frames[pairs.secret_ids == "echo_doppler_cine"]
    assert sorted(cine) == list(range(30))


def test_pair_set_is_fixed_and_unpacks_like_a_tuple():
    a = pair_set("val", "medical", size=32, n=8)
    secret, cover = pair_set("val", "medical", size=32, n=8)
    np.testing.assert_array_equal(a.secrets, secret)
    np.testing.assert_array_equal(a.covers, cover)
    assert len(a.subset(a.modalities == a.modalities[0])) >= 1


def test_pair_set_of_one_modality_and_bad_requests():
    pairs = pair_set("test", "medical", size=32, n=3, modality="xray")
    assert set(pairs.secret_ids) == {"extremity_xray"}
    with pytest.raises(ValueError, match="no test natural images of modality 'ct'"):
        pair_set("test", "natural", size=32, n=1, modality="ct")
    with pytest.raises(ValueError, match="modality='bone'"):
        pair_set("test", "medical", size=32, n=1, modality="bone")
    with pytest.raises(ValueError, match="split must be one of"):
        pair_set("heldout", "medical", size=32, n=1)


def test_image_set_patches_and_whole_images():
    patches = image_set("test", size=32, n=20)
    assert patches.images.shape == (20, 32, 32) and patches.images.dtype == np.float32
    assert set(patches.ids) <= set(split_names("medical", "test"))
    whole = image_set("test", size=32, mode="whole")
    n_frames = sum(len(corpus_source(name).frames()) for name in split_names("medical", "test"))
    assert len(whole) == n_frames  # one per frame of every test source
    with pytest.raises(ValueError, match="mode must be"):
        image_set("test", size=32, mode="tile")


def test_sources_say_what_they_used():
    found, text = sources("medical", "val")
    assert [s.split for s in found] == ["val"] * len(found) and "offline corpus" in text
    with pytest.raises(KeyError, match="unknown dataset"):
        sources("medical", "test", data="imagenet")


def test_square_image_crops_the_centre_and_resizes():
    wide = np.zeros((10, 30), np.float32)
    wide[:, 10:20] = 1.0  # the centre square is all ones
    assert np.allclose(square_image(wide, 5), 1.0)
    assert square_image("coffee", 64).shape == (64, 64, 3)
    assert square_image("coffee", 64, channels=1).shape == (64, 64, 1)
    with pytest.raises(ValueError, match="expected an"):
        square_image(np.zeros(5, np.float32), 4)


def test_a_misspelt_sample_name_gets_the_close_names():
    with pytest.raises(KeyError, match=r"did you mean 'chest_xray'"):
        load_sample("chest-xray")
    with pytest.raises(KeyError, match=r"sample_names\(\) lists every name"):
        load_sample("zzzz")


@pytest.mark.parametrize("make", [lambda: image_set("test", size=0), lambda: pair_set("test", size=64, n=0)])
def test_empty_evaluation_sets_are_refused(make):
    with pytest.raises(ValueError, match="must be at least 1"):
        make()
