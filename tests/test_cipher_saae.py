"""utils.ciphers.saae: the scrambling adversarial autoencoder behind the cipher interface, its CLI, and the
chosen-plaintext attack its public encoder invites."""

import json

import numpy as np
import pytest

from utils import ciphers
from utils.ciphers import saae
from utils.ciphers.evaluation import as_uint8
from utils.data import image_set
from utils.metrics import psnr

#: The shipped model's decryption must stay above this mean PSNR on test images (its card: 27.2 dB on 224).
PSNR_FLOOR = 25.0


@pytest.fixture(scope="module")
def cipher():
    return ciphers.load("saae")


@pytest.fixture(scope="module")
def test_images():
    return image_set("test", size=64, n=64)


def test_interface_and_refusals(cipher):
    assert "saae" in ciphers.available()
    assert (cipher.name, cipher.kind, cipher.image_size, cipher.trained_size) == ("saae", "learned", None, 64)
    images = np.random.default_rng(0).random((3, 64, 64)).astype(np.float32)
    ct = cipher.encrypt(images)
    assert ct.dtype == np.uint8 and ct.shape == (3, 64, 64), "encrypt returns the 8-bit cipher images"
    np.testing.assert_array_equal(ct, cipher.encrypt(images), err_msg="deterministic: no nonce")
    np.testing.assert_array_equal(cipher.cipher_image(ct), ct)
    assert cipher.features(ct).shape == (3, 64, 64, 1) and cipher.features(ct).max() <= 1.0
    assert cipher.stored_bytes(ct) == 64 * 64
    with pytest.raises(ValueError, match="multiples of 4"):
        cipher.encrypt(np.zeros((1, 34, 34), np.float32))
    with pytest.raises(TypeError, match="must be uint8"):
        cipher.decrypt(ct.astype(np.float32) / 255)
    with pytest.raises(ValueError, match="multiples of 4"):
        cipher.decrypt(np.zeros((1, 30, 32), np.uint8))
    public = cipher.public()
    np.testing.assert_array_equal(public.encrypt(images), ct)
    with pytest.raises(PermissionError, match="private key"):
        public.decrypt(ct)
    with pytest.raises(TypeError, match="uint8 cipher images"):
        saae.invert_encoder(public.encoder, ct.astype(np.float32))
    with pytest.raises(TypeError, match="key must be a trained SAAE"):
        cipher.with_key(b"0123")
    with pytest.raises(FileNotFoundError, match="no pretrained SAAE model 'saae_nothing'"):
        saae.load_model("saae_nothing")
    with pytest.raises(ValueError, match="multiple of 8"):
        saae.SAAEConfig(image_size=60)
    with pytest.raises(ValueError, match="kind must be one of"):
        saae.chosen_plaintexts("faces", 4)
    with pytest.raises(ValueError, match="keep='best' needs validation images"):
        saae.train(cipher.model, images, steps=1, keep="best")


def test_shipped_model_decrypts_test_images_and_another_key_does_not(cipher, test_images):
    plain8 = as_uint8(test_images.images)
    ct = cipher.encrypt(test_images.images)
    right = np.mean([psnr(a, b) for a, b in zip(plain8, as_uint8(cipher.decrypt(ct)))])
    assert right > PSNR_FLOOR, f"the shipped decoder reads test images at {right:.1f} dB, below {PSNR_FLOOR}"
    wrong = np.mean([psnr(a, b) for a, b in zip(plain8, as_uint8(cipher.with_key(saae.OTHER_KEY_MODEL).decrypt(ct)))])
    assert wrong < right - 10, f"the seed-1 decoder reads seed-0 cipher images at {wrong:.1f} dB (right key {right:.1f})"


def test_cli_trains_a_tiny_model_end_to_end(tmp_path):
    out = tmp_path / "tiny"
    saae._main(["--out", str(out), "--steps", "4", "--batch", "2", "--pool", "8", "--width", "4", "--blocks", "1",
                "--critic-width", "4", "--n-val", "4", "--n-test", "8", "--eval-every", "2", "--quiet"])
    card = json.loads((out / "model_card.json").read_text())
    assert card["command"].startswith("python -m utils.ciphers.saae --out")
    assert card["steps"] == 4 and card["config"]["width"] == 4 and len(card["curve"]) == 2
    assert "[" in card["test_metrics"]["psnr"] and card["test_metrics_values"]["psnr"][3] == 8
    assert "Command" in (out / "README.md").read_text() and (out / "model.weights.h5").exists()
    tiny = saae.load(out)
    images = image_set("test", size=64, n=2).images
    assert tiny.decrypt(tiny.encrypt(images)).shape == (2, 64, 64)
    np.testing.assert_allclose(tiny.model.encode(images), saae.load_model(out).encode(images), atol=1e-6)


def test_training_lowers_the_reconstruction_loss():
    model = saae.SAAE(saae.SAAEConfig(width=4, blocks=1, critic_width=4, seed=3))
    images = np.random.default_rng(0).random((8, 64, 64)).astype(np.float32)
    smooth = np.cumsum(np.cumsum(images, 1), 2)
    smooth = (smooth / smooth.max(axis=(1, 2), keepdims=True)).astype(np.float32)
    history = saae.train(model, smooth, steps=40, batch=4, learning_rate=3e-3, progress=False)
    first, last = np.mean(history["reconstruction"][:5]), np.mean(history["reconstruction"][-5:])
    assert last < 0.7 * first, f"reconstruction loss {first:.3f} -> {last:.3f}"
    assert len(history["critic"]) == 40 and history["kept_step"] == 40


def test_fit_keeps_the_weights_of_the_best_validation_and_reproduces_itself():
    import keras

    config = saae.SAAEConfig(width=4, blocks=1, critic_width=4, seed=3)
    assert isinstance(saae.AdversarialAutoencoder(saae.SAAE(config)), keras.Model)
    rng = np.random.default_rng(0)
    images, val = rng.random((8, 64, 64)).astype(np.float32), rng.random((4, 64, 64)).astype(np.float32)
    runs = []
    for keep in ("best", "best", "last"):
        model = saae.SAAE(config)
        # a large rate, so that the validation peaks before the last step (at step 4 with this seed)
        history = saae.train(model, images, steps=6, batch=2, learning_rate=0.3, val=val, eval_every=2, keep=keep,
                             progress=False)
        runs.append((history, model))
    (best, model), (again, twin), (last, last_model) = runs
    assert best["total"] == again["total"] == last["total"]  # the same seed, the same steps
    assert [e["step"] for e in best["evals"]] == [2, 4, 6] and last["kept_step"] == 6
    psnrs = [e["val_psnr"] for e in best["evals"]]
    assert best["kept_step"] == best["evals"][int(np.argmax(psnrs))]["step"] < 6  # an earlier step was better
    assert saae.evaluate(model, val)["psnr"] == pytest.approx(max(psnrs), abs=1e-4)  # its weights were restored
    assert saae.evaluate(last_model, val)["psnr"] == pytest.approx(psnrs[-1], abs=1e-4)
    assert not all(np.array_equal(a, b) for net, other in zip(model.get_weights(), last_model.get_weights())
                   for a, b in zip(net, other))
    with pytest.raises(ValueError, match="steps and batch must be >= 1"):
        saae.train(saae.SAAE(config), images, steps=0, progress=False)
    assert all(np.array_equal(a, b) for net, other in zip(model.get_weights(), twin.get_weights())
               for a, b in zip(net, other))


@pytest.mark.slow  # over 10 s: left out of the quick lane (make quick)
def test_chosen_plaintext_attack_learns_from_the_public_encoder(cipher, test_images):
    small = test_images.subset(np.arange(0, 64, 4))
    plains = saae.chosen_plaintexts("natural", 64, seed=5)
    assert plains.shape == (64, 64, 64) and 0 <= plains.min() and plains.max() <= 1
    curve = saae.chosen_plaintext_curve(cipher, plains, small, ks=(0, 64), steps=60, width=8, blocks=1)
    gain = curve[64]["psnr"].mean - curve[0]["psnr"].mean
    assert gain > 1, f"60 steps on 64 chosen pairs gained only {gain:.1f} dB over a constant guess"


def test_other_key_and_dedicated_attack_for_the_benchmark(cipher, test_images):
    other = cipher.other_key()
    assert other.model.config.seed == 1 and other.model.config == saae.SAAEConfig(seed=1)
    few = test_images.subset(np.arange(0, 64, 8))
    ct = cipher.encrypt(few.images)
    with pytest.raises(ValueError, match="known_plains must have height and width that are multiples of 4"):
        cipher.dedicated_attack(few.images[:, :30, :30], ct)
    with pytest.raises(TypeError, match="must be uint8"):
        cipher.dedicated_attack(few.images[:0], ct.astype(np.float32))
    recovered = cipher.dedicated_attack(few.images[:0], ct, steps=100)
    assert recovered.shape == (8, 64, 64) and recovered.dtype == np.float32
    # the inversion finds images whose encryption is close to the cipher images (a preimage, if not the plaintext)
    grey = np.full_like(few.images, 0.5)
    mismatch = np.mean((cipher.encrypt(recovered) / 255.0 - ct / 255.0) ** 2)
    start = np.mean((cipher.encrypt(grey) / 255.0 - ct / 255.0) ** 2)
    assert mismatch < 0.7 * start, f"100 inversion steps left a mismatch of {mismatch:.4f} (grey start: {start:.4f})"


def test_the_inversion_starts_where_asked_and_records_its_checkpoints(cipher, test_images):
    few = test_images.subset(np.arange(0, 64, 16))
    ct = cipher.encrypt(few.images)
    public = cipher.public()
    with pytest.raises(ValueError, match="start must have the cipher images' shape"):
        saae.invert_encoder(public.encoder, ct, steps=1, start=few.images[:2])
    run = saae.invert_encoder(public.encoder, ct, steps=4, start=few.images, checkpoints=(0, 2, 4, 9))
    assert sorted(run["trace"]) == [0, 2, 4]  # a checkpoint beyond the steps is not recorded
    # step 0 is the start itself (through the clipped logit), the last checkpoint the returned images
    np.testing.assert_allclose(run["trace"][0], np.clip(few.images, 1e-3, 1 - 1e-3), atol=1e-5)
    np.testing.assert_array_equal(run["trace"][4], run["images"])


def test_the_inversion_study_refuses_unknown_starts_and_reports_the_plaintexts_mismatch():
    from utils.ciphers import saae_inversion

    with pytest.raises(ValueError, match=r"unknown start\(s\) \['zeros'\]"):
        saae_inversion.study(n=4, steps=1, starts=("zeros",))
    out = saae_inversion.study(n=4, steps=3, checkpoints=(0, 3), starts=("grey", "oracle"), progress=lambda *_: None)
    assert out["true_plaintext_mismatch"] == 0.0 and set(out["runs"]) == {"grey", "oracle"}
    grey, oracle = out["runs"]["grey"], out["runs"]["oracle"]
    assert [r["step"] for r in grey] == [0, 3] and grey[-1]["mismatch"] < grey[0]["mismatch"]
    assert oracle[0]["psnr"]["mean"] > grey[0]["psnr"]["mean"] + 5  # the oracle starts near the plaintext


def test_encrypts_a_256_pixel_image_whole_and_the_public_encoder_inverts_at_that_size(cipher):
    image = image_set("test", size=256, n=1).images
    ct = cipher.encrypt(image)
    assert ct.shape == (1, 256, 256) and ct.dtype == np.uint8
    np.testing.assert_array_equal(cipher.public().encrypt(image), ct)
    back = cipher.decrypt(ct)
    assert back.shape == (1, 256, 256)
    psnr = 10 * np.log10(255 ** 2 / np.mean((np.round(image * 255) - np.round(back * 255)) ** 2))
    assert psnr > 15, f"the key holder reads a 256x256 image ({psnr:.1f} dB)"
    found = saae.invert_encoder(cipher.public_key, ct, steps=3)
    assert found["images"].shape == (1, 256, 256)


def test_the_dedicated_attack_runs_the_inversion_steps_the_benchmark_sets(cipher):
    ct = cipher.encrypt(np.full((1, 32, 32), 0.3, np.float32))
    cipher.inversion_steps = 0  # what `python -m utils.benchmark --inversion-steps 0` would set: no step, the grey start
    try:
        np.testing.assert_array_equal(cipher.dedicated_attack(np.zeros((0, 32, 32), np.float32), ct), 0.5)
    finally:
        del cipher.inversion_steps
    assert cipher.inversion_steps == saae.SAAECipher.inversion_steps == 200
