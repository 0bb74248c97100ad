"""utils.metrics: known answers, the Wu et al. critical values, and inputs that must be refused."""

import math

import numpy as np
import pytest

from utils import metrics
from utils.data import load_sample


@pytest.fixture(scope="module")
def random_pair():
    rng = np.random.default_rng(123)
    return (rng.integers(0, 256, (512, 512), dtype=np.uint8), rng.integers(0, 256, (512, 512), dtype=np.uint8))


@pytest.fixture(scope="module")
def natural_uint8():
    image, _ = load_sample("astronaut")
    return (image * 255).round().astype(np.uint8)


def test_identical_images():
    image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    assert metrics.mse(image, image) == 0.0
    assert metrics.psnr(image, image) == math.inf
    assert metrics.ssim(image, image) == pytest.approx(1.0)
    assert metrics.mean_abs_error_255(image, image) == 0.0


def test_mse_is_the_mean_of_squared_differences_and_psnr_follows():
    x = np.zeros((4, 4), np.uint8)
    y = np.full((4, 4), 10, np.uint8)
    y[0, 0] = 0
    expected = 15 * 100 / 16
    assert metrics.mse(x, y) == pytest.approx(expected)
    assert metrics.rmse(x, y) == pytest.approx(math.sqrt(expected))
    assert metrics.psnr(x, y) == pytest.approx(10 * math.log10(255 ** 2 / expected))
    assert metrics.mean_abs_error_255(x, y) == pytest.approx(150 / 16)


def test_float_and_uint8_scales_agree():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-5, 6, a.shape), 0, 255).astype(np.uint8)
    assert metrics.psnr(a / 255.0, b / 255.0) == pytest.approx(metrics.psnr(a, b))
    assert metrics.mean_abs_error_255(a / 255.0, b / 255.0) == pytest.approx(metrics.mean_abs_error_255(a, b))
    assert metrics.ssim(a / 255.0, b / 255.0) == pytest.approx(metrics.ssim(a, b), abs=1e-6)


def test_ssim_of_a_batch_is_the_mean_of_its_images():
    rng = np.random.default_rng(2)
    a = rng.random((3, 16, 16, 3))
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1)
    assert metrics.ssim(a, b) == pytest.approx(np.mean([metrics.ssim(x, y) for x, y in zip(a, b)]))


def test_independent_uniform_images_meet_the_ideal_statistics(random_pair):
    c1, c2 = random_pair
    assert metrics.npcr(c1, c2) == pytest.approx(99.6094, abs=0.05)
    assert metrics.uaci(c1, c2) == pytest.approx(33.4635, abs=0.15)
    assert metrics.entropy(c1) == pytest.approx(7.9993, abs=0.0007)
    assert abs(metrics.adjacent_correlation(c1, "horizontal")) < 0.01
    test = metrics.npcr_uaci_test(c1, c2)
    assert test["npcr_pass"] and test["uaci_pass"]


def test_wu_critical_values_match_the_published_table():
    assert metrics.npcr_critical((256, 256)) == pytest.approx(99.5693, abs=1e-4)
    assert metrics.npcr_critical((512, 512)) == pytest.approx(99.5893, abs=1e-4)
    assert metrics.uaci_interval((256, 256)) == pytest.approx((33.2824, 33.6447), abs=1e-4)
    assert metrics.uaci_interval((512, 512)) == pytest.approx((33.3730, 33.5541), abs=1e-4)
    flat = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert metrics.chi_square(flat)["critical"] == pytest.approx(293.2478, abs=1e-3)


def test_natural_image_is_strongly_correlated_and_fails_chi_square(natural_uint8):
    corr = metrics.adjacent_correlations(natural_uint8)
    assert min(corr.values()) > 0.9
    assert not metrics.chi_square(natural_uint8)["pass"]
    assert metrics.entropy(natural_uint8) < 7.8


def test_flat_histogram_passes_chi_square_and_has_entropy_8():
    flat = np.tile(np.arange(256, dtype=np.uint8), 64)
    assert metrics.entropy(flat.reshape(128, 128)) == pytest.approx(8.0)
    result = metrics.chi_square(flat.reshape(128, 128))
    assert result["statistic"] == 0.0 and result["pass"]


def test_one_changed_pixel_gives_tiny_npcr():
    a = np.zeros((100, 100), np.uint8)
    b = a.copy()
    b[5, 5] = 255
    assert metrics.npcr(a, b) == pytest.approx(0.01)
    assert metrics.uaci(a, b) == pytest.approx(0.01)


def test_encoded_size():
    assert metrics.encoded_size_kb(b"x" * 2500) == 2.5
    flat = np.zeros((256, 256), np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (256, 256), dtype=np.uint8)
    assert metrics.encoded_size_kb(flat) < 2 < 60 < metrics.encoded_size_kb(noise)
    with pytest.raises(TypeError, match="quantise first"):
        metrics.encoded_size_kb(flat.astype(np.float32))
    with pytest.raises(ValueError, match="lossless"):
        metrics.encoded_size_kb(flat, fmt="jpg")


@pytest.mark.parametrize("call, error, message", [
    (lambda: metrics.mse(np.zeros((4, 4)), np.zeros((4, 5))), ValueError, "same shape"),
    (lambda: metrics.psnr(np.zeros((4, 4), np.uint8), np.zeros((4, 4))), TypeError, "same dtype"),
    (lambda: metrics.psnr(np.full((4, 4), 2.0), np.zeros((4, 4))), ValueError, r"outside \[0, 1\]"),
    (lambda: metrics.mse(np.zeros(5), np.zeros(5)), ValueError, "at least 2 dimensions"),
    (lambda: metrics.mse(np.array([["a"]]), np.array([["b"]])), TypeError, "numeric"),
    (lambda: metrics.mse(np.full((3, 3), np.nan), np.zeros((3, 3))), ValueError, "NaN"),
    (lambda: metrics.ssim(np.zeros((5, 5)), np.zeros((5, 5))), ValueError, "7x7"),
    (lambda: metrics.entropy(np.zeros((4, 4))), TypeError, "uint8"),
    (lambda: metrics.npcr(np.zeros((4, 4), np.uint8), np.zeros((4, 3), np.uint8)), ValueError, "same shape"),
    (lambda: metrics.adjacent_correlation(np.zeros((4, 4), np.uint8)), ValueError, "constant"),
    (lambda: metrics.adjacent_correlation(np.eye(4), "up"), ValueError, "direction"),
    (lambda: metrics.psnr(np.zeros((4, 4), np.int32), np.zeros((4, 4), np.int32)), TypeError, "data_range"),
    (lambda: metrics.psnr(np.zeros((4, 4)), np.zeros((4, 4)), data_range=0), ValueError, "positive"),
])
def test_bad_inputs_are_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----------------------------------------------------------------------------------------------
# bootstrap intervals over source images
# ----------------------------------------------------------------------------------------------

def _clustered(n_sources=14, per_source=16, source_sd=2.0, noise_sd=1.0, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n_sources), per_source)
    return 30 + rng.normal(0, source_sd, n_sources)[ids] + rng.normal(0, noise_sd, ids.size), ids


def test_bootstrap_over_sources_is_wider_than_over_patches_when_sources_differ():
    values, ids = _clustered()
    by_source = metrics.bootstrap_ci(values, ids)
    by_value = metrics.bootstrap_ci(values)
    assert by_source.low < by_source.mean < by_source.high
    assert (by_source.high - by_source.low) > 2.5 * (by_value.high - by_value.low)
    assert by_source.n == values.size and by_source.sources == (14,)


def test_bootstrap_interval_covers_the_true_mean_about_95_percent_of_the_time():
    hits = 0
    for seed in range(120):
        values, ids = _clustered(seed=seed)
        ci = metrics.bootstrap_ci(values, ids, n_boot=400, seed=seed)
        hits += ci.low <= 30.0 <= ci.high
    assert 0.84 <= hits / 120 <= 1.0  # percentile intervals with 14 clusters run a little short


def test_few_sources_give_short_intervals_and_say_so():
    coverage = {}
    for k in (3, 14):
        hits = 0
        for seed in range(120):
            values, ids = _clustered(n_sources=k, seed=seed)
            ci = metrics.bootstrap_ci(values, ids, n_boot=400, seed=seed)
            hits += ci.low <= 30.0 <= ci.high
        coverage[k] = hits / 120
        assert ci.few_sources == (k < metrics.FEW_SOURCES)
        assert ("runs short of 95 %" in ci.describe()) == (k < metrics.FEW_SOURCES)
    assert coverage[3] < 0.8 < coverage[14]  # the module text's "about 70 %" over 3 sources


def test_bootstrap_with_two_crossed_factors_and_edge_cases():
    values, ids = _clustered(n_sources=6, per_source=12)
    covers = np.tile(np.arange(3), values.size // 3)
    ci = metrics.bootstrap_ci(values, (ids, covers))
    assert ci.sources == (6, 3) and "6 x 3 sources" in ci.describe()
    one = metrics.bootstrap_ci([1.0, 2.0, 3.0], ["a", "a", "a"])
    assert one.over == "values" and one.low < 2.0 < one.high
    assert metrics.bootstrap_ci([np.inf, np.inf]).format() == "exact"
    with pytest.raises(ValueError, match="mix finite and infinite"):
        metrics.bootstrap_ci([np.inf, 3.0])
    with pytest.raises(ValueError, match="one label per value"):
        metrics.bootstrap_ci([1.0, 2.0], ["a"])
    with pytest.raises(ValueError, match="NaN"):
        metrics.bootstrap_ci([np.nan])
    assert metrics.bootstrap_ci(values, ids, seed=3) == metrics.bootstrap_ci(values, ids, seed=3)


def test_bootstrap_without_rounds_is_refused_by_name():
    with pytest.raises(ValueError, match="n_boot must be at least 1"):
        metrics.bootstrap_ci(np.arange(10.0), n_boot=0)
