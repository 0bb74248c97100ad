"""The content rule of the evaluation sets (utils.data.content) and its use by image_set and pair_set."""

import numpy as np
import pytest

from utils.data import image_set, pair_set
from utils.data.content import FLAT_STD, background_level, carries_content, rejected_share


def _noise(level, std, shape=(64, 64), seed=0):
    return np.clip(level + np.random.default_rng(seed).normal(0, std, shape), 0, 1).astype(np.float32)


def test_background_is_the_mode_at_an_end_of_the_scale_and_none_in_the_middle():
    frame = np.zeros((128, 128), np.float32)
    frame[32:96, 32:96] = _noise(0.5, 0.1)
    assert background_level(frame) == pytest.approx(0.5 / 64)  # the air: the first bin's centre
    glass = np.ones((128, 128, 3), np.float32)
    glass[:40] = 0.4
    assert background_level(glass) == pytest.approx(1 - 0.5 / 64)
    assert background_level(_noise(0.45, 0.03, (128, 128))) is None  # tissue fills the frame


def test_the_rule_rejects_flat_and_background_patches_and_keeps_texture_and_smooth_tissue():
    assert not carries_content(np.full((64, 64), 0.6, np.float32), None)  # flat, whatever the level
    assert not carries_content(_noise(0.01, 0.03), 0.0078)  # noise on the air
    assert carries_content(_noise(0.3, 0.03), 0.0078)  # smooth tissue, away from the background
    assert carries_content(_noise(0.02, 0.03), None)  # a frame without background: only flatness counts
    edge = np.zeros((64, 64), np.float32)
    edge[:, 40:] = 0.5  # an organ's border against the air: textured, kept
    assert carries_content(edge, 0.0078)
    assert carries_content(edge[..., None].repeat(3, -1), 0.0078)  # colour patches are judged on luma


def test_rejected_share_counts_background_and_refuses_bad_arguments():
    frames = np.zeros((2, 128, 128), np.float32)
    frames[:, :, 64:] = _noise(0.5, 0.1, (128, 64))
    share = rejected_share(frames, 32, draws=400)
    assert 0.3 < share < 0.6  # patches wholly left of the boundary are air
    assert rejected_share(frames[:, :, 64:], 32) == 0
    with pytest.raises(ValueError, match="cannot hold"):
        rejected_share(frames, 256)
    with pytest.raises(ValueError, match="draws"):
        rejected_share(frames, 32, draws=0)


@pytest.fixture(scope="module")
def both_image_sets():
    return image_set("test", 64), image_set("test", 64, content=True)


def test_image_set_with_content_has_no_flat_patch_and_keeps_every_accepted_first_draw(both_image_sets):
    plain, content = both_image_sets
    spread = content.images.reshape(len(content), -1).std(1)
    assert spread.min() >= FLAT_STD
    assert (plain.images.reshape(len(plain), -1).std(1) < FLAT_STD).sum() > 20  # the random set had many
    same = np.all(plain.images == content.images, axis=(1, 2))
    assert content.redrawn == int((~same).sum()) > 0
    np.testing.assert_array_equal(plain.ids, content.ids)
    np.testing.assert_array_equal(plain.frames, content.frames)
    assert f"{content.redrawn} of {len(content)} first positions rejected" in content.description
    assert "content rule" not in plain.description
    np.testing.assert_array_equal(image_set("test", 64, content=True).images, content.images)  # deterministic


def test_pair_set_with_content_redraws_secrets_only():
    plain, content = pair_set("test"), pair_set("test", content=True)
    np.testing.assert_array_equal(plain.covers, content.covers)
    assert content.secrets.reshape(len(content), -1).std(1).min() >= FLAT_STD
    changed = ~np.all(plain.secrets == content.secrets, axis=(1, 2, 3))
    assert content.redrawn == int(changed.sum()) > 0
    assert len(content.subset(content.modalities == "ultrasound")) > 0


def test_stored_study_agrees_with_the_cards_and_shows_what_flat_patches_lifted():
    """utils/results/content_sets: its random-patch rows are the cards' test rows; its tables render."""
    import json
    from pathlib import Path

    from utils.content_study import HIDERS, report
    from utils.hiding.pretrained import load_pretrained

    folder = Path(__file__).resolve().parents[1] / "utils" / "results" / "content_sets"
    study = json.loads((folder / "content_study.json").read_text())
    for name in HIDERS:
        card = load_pretrained(name).card
        for key in ("cover_psnr", "secret_psnr"):
            assert study["hiders"][name]["random"][key]["mean"] == pytest.approx(
                card["test"]["rows"]["this model"][key]["mean"], abs=0.05), (name, key)
    assert set(study["rejected_share"]) == {s for s in image_set("test", 64).ids}
    assert all(set(rows) == {"random", "content", "whole"} for rows in [*study["hiders"].values(), *study["ciphers"].values()])
    text = report(study)
    # on 8-bit images the invertible cipher returns most images bit for bit; float errors of about 1e-6 flip
    # the rounding of a few pixels in the rest, so its PSNR is high but finite
    invertible = study["ciphers"]["invertible"]
    assert all(invertible[k]["decryption_psnr"]["mean"] > 90 and invertible[k]["exact_share"]["mean"] > 0.5
               for k in invertible)
    assert all(study["ciphers"][name][k]["exact_share"]["mean"] == 0 for name in ("deepedn", "saae") for k in invertible)
    assert "share of images returned bit for bit" in text
    assert text in (folder / "README.md").read_text()


def test_pair_set_of_whole_images_keeps_the_covers_and_sources_and_refuses_other_modes():
    patches, whole = pair_set("test"), pair_set("test", mode="whole")
    np.testing.assert_array_equal(patches.covers, whole.covers)
    np.testing.assert_array_equal(patches.secret_ids, whole.secret_ids)
    np.testing.assert_array_equal(patches.secret_frames, whole.secret_frames)
    assert "whole-image secrets" in whole.description and "whole-image" not in patches.description
    from utils.data import square_image
    from utils.data.sources import frames_of, sources

    first = next(s for s in sources("medical", "test")[0] if s.id == whole.secret_ids[0])
    np.testing.assert_array_equal(whole.secrets[0], square_image(frames_of(first)[whole.secret_frames[0]], 64, 1))
    with pytest.raises(ValueError, match="mode"):
        pair_set("test", mode="crop")


def test_training_patches_with_content_have_no_flat_patch_and_the_default_stream_is_unchanged():
    from utils.data import PatchSampler, patch_set, split_names

    names = split_names("medical", "train")
    plain = patch_set(names, 64, 96, seed=3, channels=1)
    np.testing.assert_array_equal(plain, patch_set(names, 64, 96, seed=3, channels=1, content=False))
    content = patch_set(names, 64, 96, seed=3, channels=1, content=True)
    assert (plain.reshape(96, -1).std(1) < FLAT_STD).sum() > 0  # the random draws hold background
    assert content.reshape(96, -1).std(1).min() >= FLAT_STD
    kept = np.all(plain == content, axis=(1, 2, 3))
    assert kept.sum() > 48  # every accepted first draw is kept
    sampler = PatchSampler(names, 64, channels=1, content=True)
    batch = sampler.sample(np.random.default_rng(0), 96)
    assert batch.reshape(96, -1).std(1).min() >= FLAT_STD
    np.testing.assert_array_equal(batch, PatchSampler(names, 64, channels=1, content=True).sample(np.random.default_rng(0), 96))
    np.testing.assert_array_equal(PatchSampler(names, 64, channels=1).sample(np.random.default_rng(0), 4),
                                  patch_set_reference(names))


def patch_set_reference(names):
    """The first 4 patches of the random stream, drawn the way PatchSampler always drew them."""
    from utils.data.patches import _as_sources, _cut
    from utils.data.sources import resized_frames

    stacks = [resized_frames(s, 256, 64) for s in _as_sources(names)]
    rng, out = np.random.default_rng(0), []
    for _ in range(4):
        stack = stacks[int(rng.integers(len(stacks)))]
        out.append(_cut(stack[int(rng.integers(len(stack)))], 64, 1, rng.random(), rng.random()))
    return np.stack(out)
