"""utils.baselines: LSB round trips, quality near theory, bad inputs refused."""

import numpy as np
import pytest

from utils import metrics
from utils.baselines import lsb_hide, lsb_reveal
from utils.data import heldout_pairs
from utils.plotting import to_uint8


@pytest.fixture(scope="module")
def pairs():
    secret, cover = heldout_pairs(size=64, n=16)
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
