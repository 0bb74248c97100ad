"""utils.ciphers.drpe, utils.ciphers.drpe_attacks and utils.ciphers.invertible (notebook 07)."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from utils import ciphers
from utils.ciphers import drpe, drpe_attacks, invertible


def _smooth(n, size=32, seed=0, black=False):
    """Image-like test plaintexts: smoothed noise in [0, 1] (optionally with a black border, like scans)."""
    rng = np.random.default_rng(seed)
    out = np.stack([gaussian_filter(rng.random((size, size)), 2.0) for _ in range(n)])
    out = (out - out.min(axis=(1, 2), keepdims=True)) / np.ptp(out, axis=(1, 2), keepdims=True)
    if black:
        out[:, :, : size // 4] = 0.0
    return np.round(out * 255).astype(np.float32) / 255  # 8-bit images, as a sender has them


def test_drpe_round_trip_is_exact_to_float_precision_on_any_size():
    cipher = ciphers.load("drpe")
    for shape in ((3, 32, 32), (2, 24, 40)):
        images = np.random.default_rng(1).random(shape).astype(np.float32)
        ct = cipher.encrypt(images)
        assert ct.dtype == np.complex64 and ct.shape == shape
        assert np.abs(cipher.decrypt(ct) - images).max() < 2e-6
        assert cipher.stored_bytes(ct) == 8 * shape[1] * shape[2]
        assert cipher.cipher_image(ct).shape == (shape[0], shape[1], 2 * shape[2])
        assert cipher.features(ct).shape == shape + (2,)
    # the field has the image's energy (Parseval: the transform is unitary)
    assert np.allclose(np.mean(np.abs(ct) ** 2, axis=(1, 2)), np.mean(images ** 2, axis=(1, 2)), rtol=1e-4)


def test_drpe_is_linear_in_the_plaintext_and_has_no_avalanche():
    cipher = ciphers.load("drpe")
    f, g = _smooth(2, seed=2)
    mixed = cipher.encrypt((0.3 * f + 0.6 * g)[None])
    assert np.abs(mixed - (0.3 * cipher.encrypt(f[None]) + 0.6 * cipher.encrypt(g[None]))).max() < 1e-5
    changed = f.copy()
    changed[5, 7] += 1 / 255
    diff = np.abs(cipher.encrypt(changed[None]) - cipher.encrypt(f[None]))
    assert np.all(diff > 0) and np.allclose(diff.mean(), 1 / 255 / 32, rtol=0.3)  # everywhere, but 1/sqrt(HW) as much


def test_drpe_key_sensitivity_and_the_first_mask_not_mattering():
    images = _smooth(4, seed=3)
    cipher = drpe.DRPECipher(drpe.DEFAULT_KEY)
    ct = cipher.encrypt(images)
    assert np.array_equal(ct, drpe.load().encrypt(images)), "the key fixes the masks"
    wrong = cipher.with_key(drpe.SECOND_KEY).decrypt(ct)
    assert np.abs(wrong - images).mean() > 0.1
    n, b = drpe.phase_masks(drpe.DEFAULT_KEY, 32, 32)
    n2, _ = drpe.phase_masks(drpe.SECOND_KEY, 32, 32)
    assert not np.allclose(n, n2)
    # the right Fourier mask with the wrong input mask: the magnitude is already the image
    cn, sn, cb, sb = drpe.mask_tensors(drpe.DEFAULT_KEY, 32, 32)
    re, im = drpe.drpe_decrypt((ct.real, ct.imag), (np.cos(2 * np.pi * n2), np.sin(2 * np.pi * n2), cb, sb))
    assert np.abs(np.hypot(np.asarray(re), np.asarray(im)) - images).max() < 2e-6


def test_drpe_refuses_bad_keys_and_bad_ciphertexts():
    with pytest.raises(ValueError, match="non-negative"):
        drpe.DRPECipher(-1)
    with pytest.raises(TypeError, match="integer"):
        drpe.DRPECipher(1.5)
    with pytest.raises(TypeError, match="integer"):
        drpe.DRPECipher(True)
    cipher = drpe.load()
    ct = cipher.encrypt(_smooth(1))
    with pytest.raises(TypeError, match="complex"):
        cipher.decrypt(ct.real)
    with pytest.raises(ValueError, match="3 dimensions"):
        cipher.decrypt(ct[0])


def test_mask_recovery_breaks_drpe_with_four_known_pairs():
    cipher = drpe.load()
    plains = _smooth(4, seed=4, black=True)
    test = _smooth(6, seed=5)
    mask, info = drpe_attacks.recover_fourier_mask(plains, cipher.encrypt(plains))
    assert info["residual"] < 1e-3, "the pairs fit the DRPE model"
    recovered = drpe_attacks.decrypt_with_fourier_mask(cipher.encrypt(test), mask)
    assert np.abs(recovered - test).max() < 1e-4, "every test image recovered"
    with pytest.raises(ValueError, match="at least 2"):
        drpe_attacks.recover_fourier_mask(plains[:1], cipher.encrypt(plains[:1]))
    with pytest.raises(TypeError, match="complex"):
        drpe_attacks.recover_fourier_mask(plains, cipher.features(cipher.encrypt(plains)))


def test_linear_decoder_is_exact_once_pairs_span_the_images():
    cipher = drpe.load()
    plains = np.random.default_rng(6).random((16 * 16 + 8, 16, 16)).astype(np.float32)
    test = np.random.default_rng(7).random((3, 16, 16)).astype(np.float32)
    decode = drpe_attacks.fit_linear_decoder(cipher.features(cipher.encrypt(plains)), plains, ridge=1e-9)
    assert np.abs(decode(cipher.features(cipher.encrypt(test))) - test).max() < 1e-3
    few = drpe_attacks.fit_linear_decoder(cipher.features(cipher.encrypt(plains[:16])), plains[:16])
    assert np.abs(few(cipher.features(cipher.encrypt(test))) - test).mean() > 0.1, "16 pairs are not enough"


def _small_net(seed=0, size=32, blocks=2, width=8):
    config = invertible.InvertibleConfig(image_size=size, pre_blocks=blocks, post_blocks=blocks, width=width, seed=seed)
    return invertible.InvertibleNet(config)


def test_invertible_network_inverts_to_float_precision_whatever_its_weights():
    images = _smooth(4, seed=8)
    net = _small_net()
    _, plain_drpe = net.encode(images)
    net.randomize(scale=0.1, seed=1)
    z, y = net.encode(images)
    assert np.abs(np.asarray(z) - images).mean() > 0.01, "random weights change the image before the optics"
    assert np.abs(np.asarray(y) - np.asarray(plain_drpe)).mean() > 0.01
    assert np.abs(np.asarray(net.decode(y)) - images).max() < 1e-4
    cipher = invertible.InvertibleCipher(net)
    assert np.abs(cipher.decrypt(cipher.encrypt(images)) - images).max() < 1e-4


def test_invertible_training_makes_the_ciphertext_more_gaussian():
    net = _small_net(seed=2, size=16, blocks=1, width=4)
    history = invertible.train(net, _smooth(32, size=16, seed=9), steps=30, batch=4, progress=False)
    first, last = np.mean(history["gauss"][:5]), np.mean(history["gauss"][-5:])
    assert last < 0.5 * first
    images = _smooth(2, size=16, seed=10)
    assert np.abs(np.asarray(net.decode(net.encode(images)[1])) - images).max() < 1e-4


def test_shipped_invertible_model_decrypts_exactly_and_depends_on_its_key():
    cipher = ciphers.load("invertible")
    assert cipher.name == "invertible" and cipher.kind == "learned" and cipher.trained_size == 64
    assert cipher.image_size is None, "any even size"
    images = _smooth(4, size=64, seed=11, black=True)
    ct = cipher.encrypt(images)
    assert ct.dtype == np.complex64 and cipher.stored_bytes(ct) == 8 * 64 * 64
    assert np.abs(cipher.decrypt(ct) - images).max() < 1e-4
    assert np.abs(cipher.with_key(drpe.SECOND_KEY).decrypt(ct) - images).mean() > 0.1
    assert "test_metrics" in cipher.net.card and cipher.net.card["steps"] > 0


def test_invertible_refusals():
    cipher = ciphers.load("invertible")
    with pytest.raises(ValueError, match="multiples of 2"):
        cipher.encrypt(_smooth(1, size=33))
    with pytest.raises(TypeError, match="complex"):
        cipher.decrypt(np.zeros((1, 64, 64), np.float32))
    with pytest.raises(ValueError, match="complex cipher fields .* multiples of 2, got shape"):
        cipher.decrypt(np.zeros((1, 31, 32), np.complex64))
    with pytest.raises(FileNotFoundError, match="no pretrained invertible model"):
        invertible.load_pretrained("no_such_model")
    with pytest.raises(ValueError, match="even"):
        invertible.InvertibleNet(invertible.InvertibleConfig(image_size=33))


def test_other_key_and_dedicated_attack_for_the_benchmark():
    cipher = drpe.load()
    test = _smooth(3, seed=12)
    ct = cipher.encrypt(test)
    other = cipher.other_key()
    assert other.key == cipher.key + 1
    assert np.abs(other.decrypt(ct) - test).mean() > 0.1, "a neighbouring key decrypts nothing"
    known = _smooth(4, seed=13, black=True)
    assert cipher.dedicated_attack(known[:1], ct) is None, "one pair gives no linear equation"
    assert np.abs(cipher.dedicated_attack(known, ct) - test).max() < 1e-4, "four known pairs break DRPE"
    with pytest.raises(ValueError, match="same image size"):
        cipher.dedicated_attack(_smooth(3, size=16), ct)
    inv = ciphers.load("invertible")
    images = _smooth(2, size=64, seed=14)
    ct = inv.encrypt(images)
    assert inv.other_key().net.config.key == inv.net.config.key + 1
    assert np.abs(inv.other_key().decrypt(ct) - images).mean() > 0.1
    assert inv.dedicated_attack(images[:0], ct) is None
    assert inv.dedicated_attack(images[:1], ct) is None, "one pair gives no linear equation for the mask"
    known = _smooth(4, size=64, seed=15, black=True)
    recovered = inv.dedicated_attack(known, ct)
    assert recovered.shape == images.shape and recovered.dtype == np.float32
    # the shipped weights are public: peeled through them, 4 known pairs are DRPE pairs, and the masks follow
    assert np.abs(recovered - images).max() < 1e-4, "the peel attack with the public weights recovers the images"
    threat = inv.threat_model()
    assert "weights" in threat.public and threat.key_bits == 128 and "11 bits" in threat.note


def test_invertible_cipher_takes_a_256_pixel_image_whole_with_the_masks_of_its_size():
    """The masks follow from the key and the size; the shipped couplings (trained at 64) run at any even
    size, decrypt exactly, and the peel attack with the public weights still recovers the masks."""
    cipher = ciphers.load("invertible")
    images = _smooth(3, size=128, seed=21, black=True)
    ct = cipher.encrypt(images)
    assert ct.shape == (3, 128, 128)
    assert np.abs(cipher.decrypt(ct) - images).max() < 1e-4
    assert np.abs(cipher.with_key(cipher.net.config.key + 1).decrypt(ct) - images).mean() > 0.1
    n, b = cipher.net.masks_for(128, 128)[:2], cipher.net.masks_for(64, 64)[:2]
    assert n[0].shape == (128, 128) and b[0].shape == (64, 64)
    known = _smooth(4, size=128, seed=22, black=True)
    recovered = cipher.dedicated_attack(known, ct)
    assert np.abs(recovered - images).max() < 1e-3, "the peel attack works at the image's own size"


def _test_set(images):
    from utils.data import ImageSet

    n = len(images)
    return ImageSet(images, np.array([f"s{i % 4}" for i in range(n)]), np.zeros(n, int), np.array(["ct"] * n),
                    "test", "smooth test images")


@pytest.mark.parametrize("curve", ["mask_recovery", "peel_with_the_shipped_weights"])
def test_the_algebraic_attack_curves_start_at_the_blind_constant_and_end_exact(curve):
    """Below 2 pairs there is no equation (the blind constant, no residual); from a few pairs the masks
    come back and the test images with them, the residual near 0."""
    from utils.ciphers.evaluation import quality
    from utils.metrics import blind_constant_guess

    size = 32 if curve == "mask_recovery" else 64
    test = _test_set(_smooth(8, size=size, seed=30, black=True))
    attacker = _smooth(4, size=size, seed=31, black=True)
    if curve == "mask_recovery":
        rows = drpe_attacks.mask_recovery_curve(drpe.load(), attacker, test, ks=(0, 1, 4))
    else:
        cipher = ciphers.load("invertible")
        rows = invertible.peel_attack_curve(cipher, cipher.net, attacker, test, ks=(0, 1, 4))
    floor = quality(np.round(test.images * 255).astype(np.uint8),
                    np.round(blind_constant_guess(attacker, test.images.shape) * 255).astype(np.uint8), test.ids)
    assert rows[0]["psnr"].mean == rows[1]["psnr"].mean == pytest.approx(floor["psnr"].mean)
    assert rows[0]["residual"] is None and rows[1]["residual"] is None
    assert rows[4]["psnr"].mean > 60 and rows[4]["ssim"].mean > 0.999 and rows[4]["residual"] < 1e-3
    assert all(row["seconds"] >= 0 for row in rows.values())
