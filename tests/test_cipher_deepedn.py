"""utils.ciphers.deepedn: the key domain, the interface, the shipped model's quality, the ROI rule, the CLI."""

import json

import numpy as np
import pytest

from utils import ciphers
from utils.ciphers import deepedn
from utils.data import ImageSet, image_set

#: The floor the shipped model must clear on held-out test images (its card gives the measured value).
PSNR_FLOOR = 20.0


@pytest.fixture(scope="module")
def cipher():
    return ciphers.load("deepedn")


@pytest.fixture(scope="module")
def test_images():
    from utils.data import image_set

    return image_set("test", size=64, n=64)


def test_key_domain_is_uniform_uncorrelated_at_one_pixel_and_keyed():
    offsets, weights = deepedn.key_taps(deepedn.DEFAULT_KEY)
    assert len(offsets) == 8 and np.isclose(np.linalg.norm(weights), 1.0)
    gaps = np.abs(offsets[:, None, :] - offsets[None, :, :]).max(-1)
    assert (gaps[~np.eye(8, dtype=bool)] >= 2).all(), "no two taps may be neighbours"
    a = deepedn.key_domain_images(64, 64, "texture", deepedn.DEFAULT_KEY, seed=1)
    b = deepedn.key_domain_images(64, 64, "texture", deepedn.SECOND_KEY, seed=1)
    assert a.shape == (64, 64, 64) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    hist = np.histogram(a, bins=16, range=(0, 1))[0] / a.size
    assert np.abs(hist - 1 / 16).max() < 0.005, "uniform marginals"
    ac_a, ac_b = deepedn.autocorrelation(a, 8), deepedn.autocorrelation(b, 8)
    assert abs(ac_a[8, 9]) < 0.02 and abs(ac_a[9, 8]) < 0.02 and abs(ac_a[9, 9]) < 0.02, "one-pixel lags"
    assert np.abs(ac_a).max() == pytest.approx(1.0) and np.sort(np.abs(ac_a).ravel())[-2] > 0.1, "a keyed pattern"
    assert np.abs(ac_a - ac_b).max() > 0.1, "another key is another domain"
    np.testing.assert_array_equal(a, deepedn.key_domain_images(64, 64, "texture", deepedn.DEFAULT_KEY, seed=1))
    with pytest.raises(ValueError, match="kind must be one of"):
        deepedn.key_domain_images(2, kind="chaos")
    with pytest.raises(TypeError, match="key must be an integer"):
        deepedn.key_taps("secret")


def test_interface_shapes_dtypes_and_refusals(cipher):
    assert (cipher.name, cipher.kind, cipher.image_size, cipher.trained_size) == ("deepedn", "learned", None, 64)
    images = np.random.default_rng(0).random((3, 64, 64)).astype(np.float32)
    ct = cipher.encrypt(images)
    assert ct.shape == (3, 64, 64) and ct.dtype == np.uint8
    np.testing.assert_array_equal(ct, cipher.encrypt(images), err_msg="deterministic: no nonce")
    back = cipher.decrypt(ct)
    assert back.shape == (3, 64, 64) and back.dtype == np.float32 and 0 <= back.min() and back.max() <= 1
    np.testing.assert_array_equal(cipher.cipher_image(ct), ct)
    assert cipher.features(ct).shape == (3, 64, 64, 1) and cipher.stored_bytes(ct) == 64 * 64
    with pytest.raises(ValueError, match="multiples of 4.*66x66.*square_image\\(image, 64\\)"):
        cipher.encrypt(np.zeros((1, 66, 66), np.float32))
    with pytest.raises(TypeError, match="must be uint8"):
        cipher.decrypt(ct.astype(np.float32))
    with pytest.raises(ValueError, match="multiples of 4"):
        cipher.decrypt(np.zeros((1, 30, 30), np.uint8))
    with pytest.raises(TypeError, match="trained model"):
        cipher.with_key(1234)
    assert cipher.other_key().model.config.seed == 1 and cipher.dedicated_attack(images, ct) is None
    with pytest.raises(FileNotFoundError, match="no pretrained DeepEDN model"):
        deepedn.load("deepedn_nonexistent")


def test_shipped_model_decrypts_test_images_above_the_floor_and_wrong_keys_do_not(cipher, test_images):
    ct = cipher.encrypt(test_images.images)
    plain8 = np.round(test_images.images * 255)
    psnr = [10 * np.log10(255 ** 2 / max(np.mean((p - np.round(b * 255)) ** 2), 1e-10))
            for p, b in zip(plain8, cipher.decrypt(ct))]
    assert np.mean(psnr) > PSNR_FLOOR, f"mean decryption PSNR {np.mean(psnr):.1f} dB on 64 test images"
    card = cipher.model.card
    assert card["test_metrics"]["psnr"]["mean"] > PSNR_FLOOR and "command" in card and "machine" in card
    for other in ("deepedn_64_seed1", "deepedn_64_key7"):
        wrong = cipher.with_key(other).decrypt(ct)
        wrong_psnr = np.mean([10 * np.log10(255 ** 2 / np.mean((p - np.round(b * 255)) ** 2))
                              for p, b in zip(plain8, wrong)])
        assert wrong_psnr < np.mean(psnr) - 5, f"{other} decrypts at {wrong_psnr:.1f} dB"


def test_roi_rule_and_dice():
    flat = np.full((1, 64, 64), 0.4, np.float32)
    disc = np.zeros((1, 64, 64), np.float32)
    yy, xx = np.mgrid[:64, :64]
    disc[0][(yy - 32) ** 2 + (xx - 32) ** 2 < 15 ** 2] = 0.8
    masks = deepedn.roi_masks(np.concatenate([flat, disc]))
    assert not masks[0].any(), "a flat image has no ROI"
    assert deepedn.dice(masks[1:], disc > 0.4)[0] > 0.95
    np.testing.assert_allclose(deepedn.dice(np.zeros((2, 4, 4)), np.zeros((2, 4, 4))), [1.0, 1.0])
    assert deepedn.dice(np.ones((1, 4, 4)), np.zeros((1, 4, 4)))[0] == 0.0
    with pytest.raises(ValueError, match="same shape"):
        deepedn.dice(np.zeros((1, 4, 4)), np.zeros((1, 5, 5)))


def _fake_image_set(split="test", size=64, n=None, seed=0, **_):
    """Smooth synthetic images with sources, so that the CLI test needs no corpus decoding."""
    n = 8 if n is None else int(n)
    rng = np.random.default_rng(seed + {"train": 0, "val": 1, "test": 2}[split])
    yy, xx = np.mgrid[:size, :size] / size
    images = np.stack([np.clip(0.5 + 0.4 * np.sin(6 * (a * yy + b * xx)), 0, 1)
                       for a, b in rng.random((n, 2))]).astype(np.float32)
    ids = np.array([f"{split}{i % 4}" for i in range(n)])
    return ImageSet(images, ids, np.zeros(n, int), np.array(["ct"] * n), split, f"{n} synthetic {split} images")


def test_cli_trains_a_tiny_model_end_to_end_and_writes_a_card(tmp_path, monkeypatch, capsys):
    import utils.data

    monkeypatch.setattr(utils.data, "image_set", _fake_image_set)
    out = tmp_path / "tiny"
    deepedn._main(["--out", str(out), "--steps", "3", "--batch", "2", "--pool", "8", "--width", "2", "--blocks", "1",
                   "--disc-width", "2", "--roi-width", "2", "--roi-steps", "2", "--n-test", "8", "--eval-every", "3"])
    card = json.loads((out / "model_card.json").read_text())
    assert card["steps"] == 3 and card["config"]["width"] == 2 and card["command"].endswith("--eval-every 3")
    assert [e["step"] for e in card["curve"]] == [3] and len(card["losses_every_10"]["cycle_x"]) == 0
    metrics = card["test_metrics"]
    assert {"psnr", "ssim", "mse", "entropy", "chi_square", "npcr", "uaci", "roi_dice"} <= set(metrics)
    assert metrics["npcr_critical"] == pytest.approx(99.4491, abs=1e-3)
    assert "8 synthetic test images" in card["data"] and card["wall_time_minutes"] >= 0
    assert "# Model card: tiny" in (out / "README.md").read_text()
    model = deepedn.load_pretrained(out)
    assert model.config.width == 2 and deepedn.load(model).encrypt(_fake_image_set(n=2).images).shape == (2, 64, 64)
    assert "cpu_minutes" in capsys.readouterr().out


def test_encrypts_images_of_their_own_size_not_only_the_trained_patches(cipher):
    """G and F are fully convolutional: a 256x256 and a 128x96 image go through whole, with the same weights;
    a 64x64 tile of a larger image is not what the whole image gives (the receptive field crosses tiles)."""
    image = image_set("test", size=256, n=1).images
    ct = cipher.encrypt(image)
    assert ct.shape == (1, 256, 256) and ct.dtype == np.uint8
    back = cipher.decrypt(ct)
    plain8 = np.round(image * 255)
    psnr = 10 * np.log10(255 ** 2 / np.mean((plain8 - np.round(back * 255)) ** 2))
    assert psnr > 15, f"the key holder reads a 256x256 image ({psnr:.1f} dB)"
    assert cipher.encrypt(np.random.default_rng(3).random((2, 128, 96)).astype(np.float32)).shape == (2, 128, 96)
    tile = cipher.encrypt(image[:, 64:128, 64:128])
    assert not np.array_equal(tile, ct[:, 64:128, 64:128]), "whole-image encryption, not tiles"


def test_the_recipe_can_train_against_given_cipher_images_instead_of_the_key_domain():
    from utils.ciphers.deepedn.training import _Stream

    plains = np.random.default_rng(0).random((6, 64, 64)).astype(np.float32)
    targets = np.stack([np.full((64, 64), v, np.float32) for v in (0.1, 0.2, 0.3)])
    stream = _Stream(plains, deepedn.DeepEDNConfig(), seed=0, targets=targets)
    x, y = stream.batch(5)
    assert x.shape == y.shape == (5, 64, 64, 1)
    assert set(np.unique(y)) <= {np.float32(0.1), np.float32(0.2), np.float32(0.3)}  # drawn from the targets only
    keyed = _Stream(plains, deepedn.DeepEDNConfig(), seed=0).batch(5)[1]
    assert len(np.unique(keyed)) > 100  # the key holder's stream samples the key domain


def test_the_cycle_gan_is_a_keras_model_whose_fit_runs_the_warm_up_validation_and_time_limit():
    import keras

    config = deepedn.DeepEDNConfig(image_size=16, width=4, blocks=1, disc_width=4, roi_width=4, warmup_steps=2)
    assert isinstance(deepedn.cycle_gan(deepedn.DeepEDN(config)), keras.Model)
    rng = np.random.default_rng(0)
    plains, val = rng.random((8, 16, 16)).astype(np.float32), rng.random((4, 16, 16)).astype(np.float32)
    runs = []
    for _ in range(2):
        model = deepedn.DeepEDN(config)
        runs.append((deepedn.train_cyclegan(model, plains, 4, 2, val, eval_every=2, progress=False), model))
    history, model = runs[0]
    assert history["steps_done"] == 4 and len(history["gen"]) == 4 and [e["step"] for e in history["evals"]] == [2, 4]
    assert history["gen"] == runs[1][0]["gen"]  # the same seed, the same losses
    weights = [np.array_equal(a, b) for a, b in zip(model.G.get_weights(), runs[1][1].G.get_weights())]
    assert all(weights)
    c = config
    for i in range(4):  # the adversarial terms join the generators' loss after the warm-up
        rest = c.lambda_cycle * history["cycle_x"][i] + c.lambda_cycle_back * history["cycle_y"][i] \
            + c.lambda_identity * history["identity"][i]
        adversarial = (history["adv_G"][i] + history["adv_F"][i]) * (i >= c.warmup_steps)
        assert history["gen"][i] == pytest.approx(rest + adversarial, rel=1e-5), i
    timed = deepedn.train_cyclegan(deepedn.DeepEDN(config), plains, 50, 2, val, eval_every=10, progress=False,
                                   max_minutes=0)
    assert timed["steps_done"] == 1 and [e["step"] for e in timed["evals"]] == [1]  # the last step is validated
    with pytest.raises(ValueError, match="steps and batch must be >= 1"):
        deepedn.train_cyclegan(deepedn.DeepEDN(config), plains, 0, 2, progress=False)


def test_the_two_stored_ciphertext_only_studies_are_one_attack_with_two_seeds():
    from utils.cards import file_sha256
    from utils.ciphers.deepedn import attacks
    from utils.metrics import MEAN_ORACLE

    first, second = attacks.stored(attacks.RESULTS_DIR), attacks.stored(attacks.REPEAT_DIR)
    assert (first["seed"], second["seed"]) == (1, 2)
    same = ("model", "steps", "steps_done", "batch", "pool", "n")  # the budget and the recipe; only the seed differs
    assert {k: first[k] for k in same} == {k: second[k] for k in same}
    assert {**first["config"], "seed": 2} == second["config"]
    assert (first["test"], first["attacker_images"]) == (second["test"], second["attacker_images"])
    for row in ("key holder's F", MEAN_ORACLE):  # the same shipped model on the same intercepted test images
        assert first["rows"][row] == second["rows"][row]
    assert first["command"].replace(" --out utils/results/deepedn_ciphertext_only ", " ") + " --seed 2" == \
        second["command"].replace(" --out utils/results/deepedn_ciphertext_only_seed2 ", " ")
    for folder, result in ((attacks.RESULTS_DIR, first), (attacks.REPEAT_DIR, second)):
        assert file_sha256(folder / "F.weights.h5") == result["files"]["F.weights.h5"]  # the shipped F is the scored one
    assert first["files"] != second["files"]


@pytest.mark.slow  # a two-step Cycle-GAN and the whole test split: over 10 s
def test_the_ciphertext_only_attack_writes_its_study_with_both_floors(tmp_path):
    import json

    from utils.ciphers.deepedn import attacks
    from utils.metrics import BLIND_CONSTANT, MEAN_ORACLE

    assert attacks._main(["--out", str(tmp_path / "coa"), "--steps", "2", "--pool", "8"]) == 0
    result = json.loads((tmp_path / "coa" / "results.json").read_text())
    assert result["steps_done"] == 2 and result["n"] == 224 and (tmp_path / "coa" / "F.weights.h5").exists()
    rows = result["rows"]
    assert set(rows) == {attacks.ATTACKER, attacks.FLIPPED, "key holder's F", BLIND_CONSTANT, MEAN_ORACLE}
    assert -1 <= result["correlation"]["low"] <= result["correlation"]["high"] <= 1
    flipped_rows = rows[attacks.FLIPPED] != rows[attacks.ATTACKER]
    assert flipped_rows == result["flipped"]  # the attacker's own choice of polarity, recorded
    assert rows[BLIND_CONSTANT]["psnr"]["mean"] < rows[MEAN_ORACLE]["psnr"]["mean"]  # the oracle sees each image
    assert rows["key holder's F"]["psnr"]["mean"] > 20 and result["command"].endswith("--pool 8")
    model = attacks.attacker_model(tmp_path / "coa")  # the stored F comes back, checked against its SHA-256
    assert model.F.count_params() > 0
    assert attacks._main(["--out", str(tmp_path / "coa"), "--rescore"]) == 0  # scored again, same numbers
    again = json.loads((tmp_path / "coa" / "results.json").read_text())
    assert again["rows"] == rows and "scored_commit" in again
    (tmp_path / "coa" / "F.weights.h5").write_bytes(b"not the weights")
    with pytest.raises(Exception, match="SHA-256"):
        attacks.attacker_model(tmp_path / "coa")
    with pytest.raises(TypeError, match="uint8 cipher images"):
        attacks.ciphertext_only_attack(np.zeros((2, 64, 64), np.float32), np.zeros((2, 64, 64), np.float32), 1)
