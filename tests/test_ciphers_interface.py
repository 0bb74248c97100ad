"""utils.ciphers: the shared interface, the AES-GCM cipher behind it, and the shared measurements."""

import numpy as np
import pytest

from utils import ciphers
from utils.ciphers import attacks
from utils.ciphers import evaluation as ev
from utils.ciphers.aes_gcm import AESDecryptionError, aes_key
from utils.data import ImageSet
from utils.metrics import MEAN_ORACLE


def _set(n=6, size=16, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.random((n, size, size)).astype(np.float32)
    ids = np.array([f"src{i // 2}" for i in range(n)])
    return ImageSet(images, ids, np.zeros(n, int), np.array(["ct"] * n), "test", "random test images")


def test_registry_lists_the_course_ciphers_and_refuses_unknown_names():
    assert ciphers.NAMES == ("aes_gcm", "chaotic", "drpe", "deepedn", "bp_chaotic", "invertible", "saae")
    assert "aes_gcm" in ciphers.available()
    assert set(ciphers.available()) <= set(ciphers.NAMES)
    with pytest.raises(KeyError, match="unknown cipher 'rot13'"):
        ciphers.load("rot13")


@pytest.mark.parametrize("name", ciphers.available())
def test_every_cipher_has_the_interface_and_refuses_bad_input(name):
    cipher = ciphers.load(name)
    assert cipher.name == name and cipher.kind in ("classic", "learned")
    size = cipher.image_size or 32
    images = np.random.default_rng(1).random((2, size, size)).astype(np.float32)
    ct = cipher.encrypt(images)
    assert ct.shape[0] == 2
    back = cipher.decrypt(ct)
    assert back.shape == images.shape and back.dtype == np.float32
    assert cipher.cipher_image(ct).dtype == np.uint8 and cipher.cipher_image(ct).shape[0] == 2
    assert cipher.features(ct).ndim == 4 and cipher.stored_bytes(ct) > 0
    with pytest.raises(TypeError, match="divide by 255"):
        cipher.encrypt((images * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="batch"):
        cipher.encrypt(images[0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cipher.encrypt(images * 2)
    with pytest.raises(ValueError, match="grey images"):
        cipher.encrypt(np.zeros((2, size, size, 3), np.float32))
    if cipher.image_size:
        with pytest.raises(ValueError, match=f"must be {size}x{size}"):
            cipher.encrypt(np.zeros((1, size + 4, size + 4), np.float32))
    multiple = getattr(cipher, "multiple", None)
    if multiple and multiple > 1:
        with pytest.raises(ValueError, match=f"multiples of {multiple}"):
            cipher.encrypt(np.zeros((1, size + 1, size), np.float32))


def test_aes_gcm_cipher_is_exact_fresh_and_authenticated():
    cipher = ciphers.load("aes_gcm")
    images = _set().images
    ct = cipher.encrypt(images)
    np.testing.assert_array_equal(np.round(cipher.decrypt(ct) * 255), np.round(images * 255))
    assert not np.array_equal(ct, cipher.encrypt(images)), "a fresh nonce per encryption"
    tampered = ct.copy()
    tampered[0, -1] ^= 1
    with pytest.raises(AESDecryptionError):
        cipher.decrypt(tampered)
    with pytest.raises(AESDecryptionError):
        cipher.with_key(aes_key()).decrypt(ct)
    assert cipher.cipher_image(ct).shape == images.shape
    with pytest.raises(TypeError, match="uint8"):
        cipher.decrypt(ct.astype(np.float32))


def test_measurements_on_aes_gcm():
    cipher, test = ciphers.load("aes_gcm"), _set(n=8, size=32)
    rec = ev.reconstruction(cipher, test)
    assert rec["psnr"].format() == "exact" and rec["exact"].mean == 1.0 and rec["mse"].mean == 0.0
    stats = ev.cipher_statistics(cipher, test)
    assert 7.7 < stats["entropy"].mean <= 8.0 and abs(stats["correlation_horizontal"].mean) < 0.1
    assert stats["entropy"].sources == (4,)  # intervals over the 4 source images, not the 8 images
    aval = ev.avalanche(cipher, test)
    assert 99.0 < aval["npcr"].mean < 100.0 and 32.0 < aval["uaci"].mean < 35.0
    keys = ev.key_sensitivity(cipher, cipher.with_key(aes_key()), test)
    assert "authentication failed" in keys["wrong key"]["refused"]
    assert keys[MEAN_ORACLE]["psnr"].mean < 15  # random images: their own mean grey is a poor guess


def test_measurements_see_a_cipher_that_does_nothing():
    class Identity(ciphers.Cipher):
        name, kind = "identity", "classic"

        def encrypt(self, images):
            return ev.as_uint8(ciphers.check_images(images))

        def decrypt(self, ciphertext):
            return ciphertext.astype(np.float32) / 255.0

    smooth = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (4, 32, 1))
    test = ImageSet(smooth, np.array(["a", "a", "b", "b"]), np.zeros(4, int), np.array(["ct"] * 4), "test", "ramps")
    stats = ev.cipher_statistics(Identity(), test)
    assert stats["correlation_horizontal"].mean > 0.99 and stats["chi_square_pass"].mean == 0.0
    aval = ev.avalanche(Identity(), test)
    assert aval["npcr"].mean < 0.1 and aval["npcr_pass"].mean == 0.0
    curve = attacks.known_plaintext_curve(Identity(), smooth, test, ks=(0, 4), steps=60, width=8, blocks=1)
    assert curve[4]["psnr"].mean > curve[0]["psnr"].mean + 5, "an attacker learns the identity from 4 pairs"
    assert set(curve[4]) >= {"psnr", "ssim", "mse", "seconds"}
    assert "k pairs" in attacks.format_curve(curve)


def test_attacker_images_never_come_from_the_test_split():
    from utils.data import image_set

    plains = attacks.attacker_images(32, 10, seed=0)
    test = image_set("test", size=32, n=28).images
    assert plains.shape == (10, 32, 32)
    textured = [p for p in plains if p.std() > 0.02]  # flat black patches occur in every split
    assert textured and not any(np.array_equal(p, t) for p in textured for t in test)


def test_a_text_password_is_not_taken_for_an_aes_key():
    from utils.ciphers.aes_gcm import aes_encrypt

    with pytest.raises(TypeError, match="not a str: a text password is not a key"):
        aes_encrypt(b"secret", "k" * 32)
