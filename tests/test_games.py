"""The distinguishing games: a deterministic cipher loses the equality game outright, randomised AES-GCM
wins it, and the CNN distinguisher tells a cipher that shows its plaintext from one that does not."""

import numpy as np
import pytest

from utils import ciphers
from utils.ciphers import aes_gcm, games
from utils.data import ImageSet


def _images(n=16, size=32, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size] / size
    out = [np.clip(0.5 + 0.4 * np.sin(2 * np.pi * (rng.random() * 3 * x + rng.random() * 3 * y)) * rng.random(), 0, 1)
           for _ in range(n)]
    return np.round(np.array(out) * 255).astype(np.float32) / 255.0


def _set(images):
    n = len(images)
    return ImageSet(images=images, ids=np.array([f"s{i % 4}" for i in range(n)]), frames=np.zeros(n, int),
                    modalities=np.array(["test"] * n), split="test", description="smooth test images")


class Identity(ciphers.Cipher):
    """A "cipher" that sends the plaintext: the control that must lose every game."""

    name = "identity"

    def encrypt(self, images):
        return np.round(ciphers.check_images(images) * 255).astype(np.uint8)

    def decrypt(self, ciphertext):
        return np.asarray(ciphertext, np.float32) / 255.0


def test_challenge_pairs_are_two_different_images():
    images = _images(6)
    m0, m1 = games.challenge_pairs(images)
    np.testing.assert_array_equal(m1, images[[3, 4, 5, 0, 1, 2]])
    same = np.repeat(images[:1], 2, axis=0)
    m0, m1 = games.challenge_pairs(same)
    np.testing.assert_allclose(m1, 1.0 - m0)  # identical images: the negative stands in
    with pytest.raises(ValueError, match="at least 2"):
        games.challenge_pairs(images[:1])


def test_equality_game_tells_deterministic_from_randomised_encryption():
    test = _set(_images(16))
    fresh = games.equality_game(aes_gcm.load(), test)
    repeated = games.equality_game(aes_gcm.repeated_nonce(), test)
    chaotic = games.equality_game(ciphers.load("chaotic"), test)
    assert fresh.advantage.mean == 0.0 and fresh.pairs == 16
    assert repeated.advantage.mean == 1.0 and repeated.advantage.low == 1.0
    assert chaotic.advantage.mean == 1.0
    assert "equality" in fresh.game and fresh.format() == "0.00 [0.00, 0.00]"


def test_real_or_random_game_sees_the_plaintext_through_a_cipher_that_shows_it():
    own, test = _images(64, seed=1), _set(_images(32, seed=2))
    shown = games.real_or_random_game(Identity(), own, test, steps=60, seed=0)
    hidden = games.real_or_random_game(aes_gcm.load(), own, test, steps=60, seed=0)
    assert shown.advantage.mean > 0.8, "smooth images against noise: an easy call"
    assert abs(hidden.advantage.mean) < 0.35, "AES-GCM's cipher images of images and of noise look alike"
    assert shown.pairs == 32 and shown.seconds > 0 and "60 steps" in shown.note
    with pytest.raises(ValueError, match="like the test images"):
        games.real_or_random_game(Identity(), own[:, :16, :16], test, steps=1)


def test_format_games_lays_out_one_row_per_cipher():
    test = _set(_images(8))
    rows = {"aes_gcm": {"lor": games.equality_game(aes_gcm.load(), test)}}
    text = games.format_games(rows)
    assert text.splitlines()[0].split() == ["lor"] and text.splitlines()[1].split()[0] == "aes_gcm"
    assert "0.00 [0.00, 0.00]" in text


@pytest.mark.parametrize("name", ciphers.NAMES)
def test_every_cipher_states_its_threat_model(name):
    threat = ciphers.load(name).threat_model()
    assert threat.public and threat.key and threat.key_bits > 0 and name not in ("", None)
    assert "bits" in threat.describe()


def test_repeated_nonce_aes_is_deterministic_and_falls_to_one_known_pair():
    images = _images(4)
    control = aes_gcm.repeated_nonce()
    ct = control.encrypt(images)
    np.testing.assert_array_equal(ct, control.encrypt(images))
    np.testing.assert_array_equal(control.dedicated_attack(images[:1], ct), images)
    assert aes_gcm.load().dedicated_attack(images[:1], aes_gcm.load().encrypt(images)) is None
    assert "MISUSE" in control.threat_model().note and control.name == "aes_gcm_repeated_nonce"
    with pytest.raises(ValueError, match="nonce must be None"):
        aes_gcm.AesGcmCipher(nonce=b"short")
