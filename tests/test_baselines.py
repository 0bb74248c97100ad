"""utils.hiding.lsb and utils.ciphers.aes_gcm: LSB round trips, quality near theory, bad inputs refused."""

import numpy as np
import pytest

from utils import metrics
from utils.data import pair_set
from utils.hiding.lsb import lsb_hide, lsb_quality, lsb_reveal
from utils.plotting import to_uint8


@pytest.fixture(scope="module")
def pairs():
    secret, cover = pair_set("test", "natural", size=64, n=16)
    return to_uint8(secret), to_uint8(cover)


def test_four_bit_lsb_quality_is_near_its_theory(pairs):
    secret, cover = pairs
    container = lsb_hide(secret, cover, bits=4)
    revealed = lsb_reveal(container, bits=4)
    # cover: error uniform on the low 4 bits, about 31.8 dB; secret with the midpoint restored, about 34.8 dB
    assert metrics.psnr(cover, container) == pytest.approx(31.8, abs=1.0)
    assert metrics.psnr(secret, revealed) == pytest.approx(34.8, abs=1.0)
    np.testing.assert_array_equal(revealed >> 4, secret >> 4)
    np.testing.assert_array_equal(container >> 4, cover >> 4)


def test_midpoint_helps():
    rng = np.random.default_rng(0)
    secret = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    cover = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    container = lsb_hide(secret, cover)
    assert metrics.psnr(secret, lsb_reveal(container)) > metrics.psnr(secret, lsb_reveal(container, midpoint=False)) + 2


def test_grey_secret_is_exact_in_three_three_two_bits(pairs):
    secret, cover = pairs
    grey = secret[..., :1]
    container = lsb_hide(grey, cover)
    np.testing.assert_array_equal(lsb_reveal(container, secret_channels=1), grey)
    assert np.abs(container.astype(int) - cover).max() <= 7
    assert metrics.psnr(cover, container) > 36


@pytest.mark.parametrize("bits", [1, 2, 7])
def test_every_bit_depth_round_trips_its_top_bits(bits):
    rng = np.random.default_rng(bits)
    secret = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    cover = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    revealed = lsb_reveal(lsb_hide(secret, cover, bits), bits, midpoint=False)
    np.testing.assert_array_equal(revealed, (secret >> (8 - bits)) << (8 - bits))


def test_bad_inputs_are_refused():
    u8 = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(TypeError, match="uint8"):
        lsb_hide(u8.astype(np.float32), u8)
    with pytest.raises(ValueError, match="same size"):
        lsb_hide(u8, np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(ValueError, match="bits must be between 1 and 7"):
        lsb_hide(u8, u8, bits=8)
    with pytest.raises(ValueError, match="shape"):
        lsb_hide(np.zeros((8, 8), np.uint8), u8)


# ------------------------------------------------------------------------------------------------ AES-GCM

from utils.ciphers.aes_gcm import AESDecryptionError, aes_decrypt, aes_decrypt_image, aes_encrypt, aes_encrypt_image, aes_key  # noqa: E402


def test_aes_round_trip_is_exact_and_nonces_are_fresh():
    key = aes_key()
    message = b"DICM" + bytes(range(256)) * 10
    a, b = aes_encrypt(message, key), aes_encrypt(message, key)
    assert a != b and a[:12] != b[:12], "a fresh nonce every time"
    assert len(a) == len(message) + 12 + 16
    assert aes_decrypt(a, key) == aes_decrypt(b, key) == message


def test_aes_image_round_trip_keeps_dtype_and_shape():
    key = aes_key()
    image = np.random.default_rng(0).integers(0, 4096, (3, 17, 5), dtype=np.uint16)
    back = aes_decrypt_image(aes_encrypt_image(image, key), key)
    assert back.dtype == image.dtype and back.shape == image.shape
    np.testing.assert_array_equal(back, image)


@pytest.mark.parametrize("position", [0, 12, 40, -1])
def test_any_changed_byte_is_detected(position):
    key = aes_key()
    blob = bytearray(aes_encrypt(b"x" * 64, key))
    blob[position] ^= 0x01
    with pytest.raises(AESDecryptionError, match="authentication failed"):
        aes_decrypt(bytes(blob), key)


def test_changed_image_header_is_detected():
    key = aes_key()
    blob = aes_encrypt_image(np.zeros((4, 4), np.uint8), key)
    forged = blob.replace(b"[4, 4]", b"[2, 8]")
    assert forged != blob
    with pytest.raises(AESDecryptionError):
        aes_decrypt_image(forged, key)


def test_wrong_key_and_bad_keys_are_refused():
    blob = aes_encrypt(b"secret", aes_key())
    with pytest.raises(AESDecryptionError, match="key is wrong"):
        aes_decrypt(blob, aes_key())
    with pytest.raises(ValueError, match="32 bytes"):
        aes_encrypt(b"x", b"short key")
    with pytest.raises(AESDecryptionError, match="too short"):
        aes_decrypt(b"abc", aes_key())
    with pytest.raises(TypeError, match="aes_encrypt_image"):
        aes_encrypt(np.zeros(3), aes_key())


def test_lsb_quality_reports_the_theory_on_float_pairs(pairs):
    secret, cover = (x.astype(np.float32) / 255 for x in pairs)
    q = lsb_quality(secret, cover)
    assert q["cover_psnr"] == pytest.approx(31.8, abs=1.0) and q["secret_psnr"] == pytest.approx(34.8, abs=1.0)
    grey = lsb_quality(secret[..., :1], cover)
    assert grey["secret_psnr"] == float("inf") and grey["secret_mae_255"] == 0.0
