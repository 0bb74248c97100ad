"""Lossy channels (utils.hiding.channel), the QIM baseline (utils.hiding.qim) and the robustness curves."""

import io

import numpy as np
import pytest

from utils.hiding import channel
from utils.hiding.channel import CHROMA, LUMA, Channel, quality_table
from utils.hiding.qim import QIM, zigzag


@pytest.fixture(scope="module")
def pairs():
    from utils.data import pair_set

    return pair_set("test", "medical", 64, n=24, channels=1, content=True)


def _u8(x):
    return np.clip(np.round(np.asarray(x) * 255), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("quality", [10, 50, 75, 95])
def test_quality_tables_are_libjpegs(quality):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(buffer, "JPEG", quality=quality)
    tables = Image.open(buffer).quantization
    np.testing.assert_array_equal(np.reshape(tables[0], (8, 8)), quality_table(LUMA, quality))
    np.testing.assert_array_equal(np.reshape(tables[1], (8, 8)), quality_table(CHROMA, quality))


@pytest.mark.parametrize("quality", [50, 75, 95])
def test_differentiable_jpeg_follows_pillow(pairs, quality):
    """The imitation lands far closer to Pillow's decoded image than JPEG lands to the original."""
    from utils.metrics import psnr

    result = channel.imitation_error(pairs.covers, quality)
    real = _u8(channel.jpeg(pairs.covers, quality))
    distortion = np.mean([psnr(a, b) for a, b in zip(_u8(pairs.covers), real)])
    assert result["psnr"].mean() > 42.0, result["psnr"].mean()
    assert result["psnr"].min() > 38.0, result["psnr"].min()
    assert result["psnr"].mean() > distortion + 6.0


def test_differentiable_jpeg_passes_gradients(pairs):
    import tensorflow as tf

    x = tf.Variable(pairs.covers[:4])
    with tf.GradientTape() as tape:
        y = channel.DiffJPEG()(x, tf.fill((4,), 75.0))
        loss = tf.reduce_mean(tf.square(y - 0.5))
    grad = tape.gradient(loss, x).numpy()
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


def test_lossy_channel_draws_per_image_and_only_in_training(pairs):
    layer = channel.LossyChannel(seed=3)
    x = pairs.covers[:16]
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    y = np.asarray(layer(x, training=True))
    assert y.shape == x.shape
    np.testing.assert_allclose(y * 255, np.round(y * 255), atol=1e-3)  # on the 8-bit grid
    error = np.abs(y - _u8(x) / 255.0).reshape(16, -1).max(axis=1)
    assert (error < 1e-6).any() and (error > 1e-3).sum() >= 8  # some images lossless, most changed
    with pytest.raises(ValueError, match="probabilities"):
        channel.LossyChannel(weights=(1, 0, 0))


def test_real_channels_and_bad_input(pairs):
    x = pairs.covers[:4]
    for c in channel.CHANNELS:
        y = channel.apply(x, c)
        assert y.shape == x.shape and y.dtype == np.float32 and 0 <= y.min() and y.max() <= 1
    np.testing.assert_array_equal(channel.apply(x, Channel("png")), _u8(x) / np.float32(255))
    assert np.abs(channel.apply(x, Channel("jpeg", 50)) - x).mean() > np.abs(channel.apply(x, Channel("jpeg", 95)) - x).mean()
    with pytest.raises(ValueError, match="quality must be 1-100"):
        channel.jpeg(x, 0)
    with pytest.raises(ValueError, match="needs a level"):
        Channel("jpeg")
    with pytest.raises(ValueError, match="kind"):
        Channel("webp", 80)
    with pytest.raises(ValueError, match="batch"):
        channel.jpeg(x[0], 75)


def test_zigzag_is_jpegs():
    assert zigzag()[:10] == [(0, 0), (0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0)]
    assert sorted(zigzag()) == [(i, j) for i in range(8) for j in range(8)]


def test_qim_round_trip_is_exact_on_png_and_survives_jpeg(pairs):
    from PIL import Image

    qim = QIM()
    s8, c8 = _u8(pairs.secrets), _u8(pairs.covers)
    container = qim.hide(s8, c8)
    assert container.dtype == np.uint8 and container.shape == c8.shape
    got = qim.reveal(container)
    # on PNG every bit comes back: the revealed image is the sent 16x16 code scaled up
    levels = np.stack([np.asarray(Image.fromarray(g[..., 0]).resize((16, 16), Image.BOX)) for g in s8])
    codes = (levels.astype(int) >> 4 << 4) + 8
    sent = np.stack([np.asarray(Image.fromarray(c.astype(np.uint8)).resize((64, 64), Image.BICUBIC)) for c in codes])
    np.testing.assert_array_equal(got[..., 0], sent)
    assert qim.payload_bits(64) == 1024 and qim.capacity_bits(64) == 1024
    # JPEG 90 flips few bits: what the receiver reveals stays close to the PNG case
    from utils.metrics import psnr

    after = qim.reveal(channel.jpeg(container, 90))
    assert np.mean([psnr(a, b) for a, b in zip(got, after)]) > 30.0
    assert np.mean([psnr(a, b) for a, b in zip(c8, container)]) > 33.0


def test_qim_bad_input():
    qim = QIM()
    s, c = np.zeros((1, 64, 64, 1), np.uint8), np.zeros((1, 64, 64, 3), np.uint8)
    with pytest.raises(TypeError, match="uint8"):
        qim.hide(s.astype(np.float32), c)
    with pytest.raises(ValueError, match="multiple of 8"):
        qim.hide(np.zeros((1, 60, 60, 1), np.uint8), np.zeros((1, 60, 60, 3), np.uint8))
    with pytest.raises(ValueError, match="do not fit"):
        QIM(factor=2, bits=8, per_block=8).hide(s, c)
    with pytest.raises(ValueError, match="factor"):
        QIM(bits=9)


def test_robustness_rows_tell_lsb_from_qim(pairs):
    from utils.hiding import robustness

    chosen = {k: v for k, v in robustness.methods().items() if k in ("LSB 3-3-2", "QIM (classic, robust)")}
    rows = robustness.measure(pairs, chosen, [Channel("png"), Channel("jpeg", 75)])
    lsb, qim = rows["LSB 3-3-2"]["channels"], rows["QIM (classic, robust)"]["channels"]
    assert np.isinf(lsb["PNG (lossless)"]["secret_psnr"]["mean"])
    assert lsb["JPEG 75"]["secret_psnr"]["mean"] < 12.0
    assert qim["JPEG 75"]["secret_psnr"]["mean"] > 20.0
    assert qim["PNG (lossless)"]["secret_psnr"]["mean"] < 35.0  # the downscaled secret bounds it
    text = robustness.report({"rows": rows, "pairs": "24 pairs"}, channels=("PNG (lossless)", "JPEG 75"))
    assert "exact" in text and "QIM" in text


def test_a_hider_config_chooses_its_training_channel(pairs):
    from utils.hiding.stego import ContainerChannel, StegoConfig, make_hider
    from utils.hiding.training import evaluate, quick_quality

    with pytest.raises(ValueError, match="lossless' or 'lossy"):
        StegoConfig(channel="jpeg")
    lossy = make_hider(StegoConfig("efficient", 8, 1, 1, channel="lossy")).build_for(64)
    plain = make_hider(StegoConfig("efficient", 8, 1, 1)).build_for(64)
    assert isinstance(lossy.channel, channel.LossyChannel) and isinstance(plain.channel, ContainerChannel)
    plain.set_weights(lossy.get_weights())  # the same weights: the channel holds one seed state in both
    s, c = pairs.secrets[:8], pairs.covers[:8]
    np.testing.assert_array_equal(lossy.reveal(lossy.hide(s, c)), plain.reveal(plain.hide(s, c)))
    q = quick_quality(plain, s, c, Channel("jpeg", 50))
    assert set(q) == {"cover_psnr", "secret_psnr", "secret_psnr_channel"}
    through = evaluate(plain, (s, c), intervals=False, channel=Channel("jpeg", 50))
    direct = evaluate(plain, (s, c), intervals=False)
    assert through["means"]["cover_psnr"] == direct["means"]["cover_psnr"]  # the cover is the stored container
    assert through["means"]["secret_psnr"] != direct["means"]["secret_psnr"]


def test_stored_channel_curves_hold_every_method_and_recompute():
    """utils/results/channel_curves: every shipped grey hider, LSB and QIM; the classic rows recompute exactly."""
    from utils.data import pair_set
    from utils.hiding import robustness

    result = robustness.stored()
    assert set(result["rows"]) == set(robustness.methods())
    assert all(set(row["channels"]) == {c.name for c in channel.CHANNELS} for row in result["rows"].values())
    pairs = pair_set("test", "medical", 64, channels=1, content=True)
    assert result["n"] == len(pairs)
    chosen = {k: v for k, v in robustness.methods().items() if k in ("LSB 3-3-2", "QIM (classic, robust)")}
    again = robustness.measure(pairs, chosen, [Channel("png"), Channel("jpeg", 75)])
    for label in chosen:
        for name in ("PNG (lossless)", "JPEG 75"):
            assert again[label]["channels"][name]["secret_psnr"] == result["rows"][label]["channels"][name]["secret_psnr"]
    assert set(result["floors"]) == {"blind constant (the attacker's mean grey, k = 0)", "mean oracle (each image's own mean grey)"}
    assert "python -m utils.hiding.robustness" in result["command"] and result["code_commit"]
