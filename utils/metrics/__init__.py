"""Metrics of the field: reconstruction quality, size, and the statistics of cipher images.

Quality (two images of the same shape and dtype; ``data_range`` from the dtype: 255 for uint8, 65535
for uint16, 1.0 for floats, which must then lie in [0, 1], or given explicitly):

* :func:`mse`: mean of squared differences, ``mean((x - y)^2)``. (The seed report writes a square root
  of the difference inside the sum; that is a typo: the metric of the field is the mean *squared* error.)
* :func:`rmse`, :func:`psnr` (``10 log10(data_range^2 / MSE)``, in dB; infinite for identical images),
  :func:`ssim` (scikit-image's implementation, Wang et al. 2004, colour averaged over channels),
  :func:`mean_abs_error_255`: mean absolute pixel error on the 0-255 scale, the figure Baluja reports.
* :func:`encoded_size_kb`: the size of bytes, or of an image encoded losslessly (PNG), in kB (1000 bytes).

Cipher-image statistics (8-bit integer images only; Wu, Noonan and Agaian 2011 for NPCR/UACI):

* :func:`entropy`: Shannon entropy of the 256-bin histogram in bits (ideal: 8).
* :func:`npcr`, :func:`uaci` (in %) with :func:`npcr_critical` and :func:`uaci_interval`, the critical
  values of the randomness test (NPCR mean 99.6094 %, UACI mean 33.4635 % for two independent uniform
  images); :func:`npcr_uaci_test` applies them.
* :func:`adjacent_correlation`: Pearson correlation of neighbouring pixels (horizontal, vertical,
  diagonal); near 1 for natural images, near 0 for a good cipher image.
* :func:`chi_square`: chi-square statistic of the histogram against the uniform distribution, with its
  p-value (255 degrees of freedom; critical value 293.25 at alpha = 0.05).

NPCR and UACI measure sensitivity to the plaintext, and the others measure how random one image looks;
none of them measures security (a cipher broken by one known plaintext can pass all of them).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "mse", "rmse", "psnr", "ssim", "mean_abs_error_255", "encoded_size_kb", "quality_report", "hiding_quality",
    "format_hiding_table",
    "entropy", "npcr", "uaci", "npcr_critical", "uaci_interval", "npcr_uaci_test",
    "adjacent_correlation", "adjacent_correlations", "chi_square",
]


# ----------------------------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------------------------

def _as_image(x, name: str) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must be a numeric image array, got dtype {array.dtype}")
    if array.ndim < 2:
        raise ValueError(f"{name} must be an image with at least 2 dimensions (H, W), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _range_of(array: np.ndarray, name: str) -> float:
    if np.issubdtype(array.dtype, np.integer):
        if array.dtype == np.uint8:
            return 255.0
        if array.dtype == np.uint16:
            return 65535.0
        raise TypeError(f"{name} has dtype {array.dtype}; pass data_range= explicitly for integer images "
                        "other than uint8 and uint16")
    lo, hi = float(array.min()), float(array.max())
    if lo < 0 or hi > 1:
        raise ValueError(f"{name} is a float image with values in [{lo:.4g}, {hi:.4g}], outside [0, 1]; "
                         "scale it to [0, 1] or pass data_range= explicitly")
    return 1.0


def _pair(x, y, data_range: float | None, names=("x", "y")) -> tuple[np.ndarray, np.ndarray, float]:
    a, b = _as_image(x, names[0]), _as_image(y, names[1])
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}")
    if a.dtype != b.dtype:
        raise TypeError(f"{names[0]} and {names[1]} must have the same dtype (the same scale), got {a.dtype} and "
                        f"{b.dtype}; convert one, e.g. (img * 255).round().astype(np.uint8)")
    if data_range is None:
        data_range = _range_of(a, names[0])
        _range_of(b, names[1])
    elif not data_range > 0:
        raise ValueError(f"data_range must be positive, got {data_range!r}")
    return a.astype(np.float64), b.astype(np.float64), float(data_range)


def _as_uint8(x, name: str) -> np.ndarray:
    array = _as_image(x, name)
    if array.dtype != np.uint8:
        raise TypeError(f"{name} must be an 8-bit image (dtype uint8) for cipher statistics, got {array.dtype}; "
                        "for a float image in [0, 1] use (img * 255).round().astype(np.uint8)")
    return array


# ----------------------------------------------------------------------------------------------
# reconstruction quality
# ----------------------------------------------------------------------------------------------

def mse(x, y, data_range: float | None = None) -> float:
    """Mean of squared differences, in the images' own units (see the module docstring)."""
    a, b, _ = _pair(x, y, data_range)
    return float(np.mean((a - b) ** 2))


def rmse(x, y, data_range: float | None = None) -> float:
    """Square root of :func:`mse`, in the images' own units."""
    return math.sqrt(mse(x, y, data_range))


def psnr(x, y, data_range: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range^2 / MSE)``; ``inf`` for identical images."""
    a, b, r = _pair(x, y, data_range)
    err = float(np.mean((a - b) ** 2))
    return math.inf if err == 0 else 10.0 * math.log10(r * r / err)


def ssim(x, y, data_range: float | None = None) -> float:
    """Structural similarity (scikit-image, 7x7 uniform window); colour (H, W, C) averaged over channels.

    Batches (N, H, W, C) are averaged over images.
    """
    from skimage.metrics import structural_similarity

    a, b, r = _pair(x, y, data_range)
    if a.ndim == 4:
        return float(np.mean([ssim(ai, bi, r) for ai, bi in zip(a, b)]))
    if a.ndim == 3 and a.shape[-1] == 1:
        a, b = a[..., 0], b[..., 0]
    if a.ndim == 2:
        spatial, options = a.shape, {}
    elif a.ndim == 3 and a.shape[-1] == 3:
        spatial, options = a.shape[:2], {"channel_axis": -1}
    else:
        raise ValueError(f"SSIM takes (H, W), (H, W, 1|3) or (N, H, W, 1|3) images, got shape {a.shape}")
    if min(spatial) < 7:
        raise ValueError(f"SSIM needs images of at least 7x7 pixels, got shape {a.shape}")
    return float(structural_similarity(a, b, data_range=r, **options))


def mean_abs_error_255(x, y, data_range: float | None = None) -> float:
    """Mean absolute pixel error on the 0-255 scale (Baluja 2017 reports this figure)."""
    a, b, r = _pair(x, y, data_range)
    return float(np.mean(np.abs(a - b)) * 255.0 / r)


def quality_report(reference, test, data_range: float | None = None) -> dict:
    """MSE, RMSE, PSNR, SSIM and mean absolute error (0-255) of ``test`` against ``reference``, in one dict."""
    return {"mse": mse(reference, test, data_range), "rmse": rmse(reference, test, data_range),
            "psnr_db": psnr(reference, test, data_range), "ssim": ssim(reference, test, data_range),
            "mae_255": mean_abs_error_255(reference, test, data_range)}


def hiding_quality(cover, container, secret, revealed) -> dict:
    """How well a hiding method did on a batch of pairs: cover vs container and secret vs revealed.

    Inputs are batches (N, H, W, C) of one dtype (uint8 for what is stored and sent). PSNR is computed per
    image and averaged; SSIM and the mean absolute error (0-255) are averaged over the batch.
    """
    def per_image_psnr(a, b):
        return float(np.mean([psnr(x, y) for x, y in zip(a, b)]))

    return {"cover_psnr": per_image_psnr(cover, container), "secret_psnr": per_image_psnr(secret, revealed),
            "cover_ssim": ssim(cover, container), "secret_ssim": ssim(secret, revealed),
            "cover_mae_255": mean_abs_error_255(cover, container),
            "secret_mae_255": mean_abs_error_255(secret, revealed)}


def format_hiding_table(rows: dict) -> str:
    """A text table of :func:`hiding_quality` results, one row per method (PSNR dB, SSIM, MAE 0-255)."""
    lines = [f"{'method':<34}{'cover PSNR':>11}{'SSIM':>7}{'MAE':>7}{'secret PSNR':>13}{'SSIM':>7}{'MAE':>7}"]
    for label, r in rows.items():
        lines.append(f"{label:<34}{r['cover_psnr']:>11.1f}{r['cover_ssim']:>7.3f}{r['cover_mae_255']:>7.1f}"
                     f"{r['secret_psnr']:>13.1f}{r['secret_ssim']:>7.3f}{r['secret_mae_255']:>7.1f}")
    return "\n".join(lines)


def encoded_size_kb(data, fmt: str = "png") -> float:
    """Size in kB (1000 bytes) of ``bytes``, or of an image array encoded losslessly with imageio.

    Arrays must be uint8 or uint16 (what PNG stores); floats in [0, 1] are rejected: quantise first.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        return len(data) / 1000.0
    import imageio.v3 as iio

    array = _as_image(data, "data")
    if array.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"encoded_size_kb encodes uint8 or uint16 images, got {array.dtype}; "
                        "quantise first, e.g. (img * 255).round().astype(np.uint8)")
    if fmt.lower() not in ("png", "tif", "tiff", "bmp", "webp"):
        raise ValueError(f"fmt={fmt!r}: use a lossless format (png, tif, bmp) so the size reflects all the data")
    return len(iio.imwrite("<bytes>", array, extension="." + fmt.lower())) / 1000.0


# ----------------------------------------------------------------------------------------------
# cipher-image statistics
# ----------------------------------------------------------------------------------------------

def entropy(image) -> float:
    """Shannon entropy in bits of the 256-bin histogram of an 8-bit image (all channels pooled)."""
    counts = np.bincount(_as_uint8(image, "image").ravel(), minlength=256).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def npcr(c1, c2) -> float:
    """Number of pixels change rate in %: the share of positions where two 8-bit images differ."""
    a, b = _as_uint8(c1, "c1"), _as_uint8(c2, "c2")
    if a.shape != b.shape:
        raise ValueError(f"c1 and c2 must have the same shape, got {a.shape} and {b.shape}")
    return float(np.mean(a != b) * 100.0)


def uaci(c1, c2) -> float:
    """Unified average changing intensity in %: ``mean(|c1 - c2|) / 255 * 100`` for 8-bit images."""
    a, b = _as_uint8(c1, "c1"), _as_uint8(c2, "c2")
    if a.shape != b.shape:
        raise ValueError(f"c1 and c2 must have the same shape, got {a.shape} and {b.shape}")
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))) / 255.0 * 100.0)


def _count(shape_or_size) -> int:
    if isinstance(shape_or_size, (int, np.integer)):
        count = int(shape_or_size)
    else:
        count = int(np.prod(shape_or_size))
    if count < 1:
        raise ValueError(f"need a positive number of pixels, got {shape_or_size!r}")
    return count


def npcr_critical(shape_or_size, alpha: float = 0.05) -> float:
    """Wu et al. critical NPCR in %: below it, the hypothesis 'as random as two independent images' fails.

    ``N* = (F - z_alpha sqrt(F / MN)) / (F + 1)`` with F = 255 and z_alpha the upper alpha quantile of the
    standard normal; MN is the number of values compared (pass the image shape or that number).
    """
    from scipy.stats import norm

    f, n = 255.0, _count(shape_or_size)
    return float((f - norm.ppf(1 - alpha) * math.sqrt(f / n)) / (f + 1) * 100.0)


def uaci_interval(shape_or_size, alpha: float = 0.05) -> tuple[float, float]:
    """Wu et al. acceptance interval of UACI in %: ``mu -/+ z_{alpha/2} sigma``.

    ``mu = (F + 2) / (3F + 3)``, ``sigma^2 = (F + 2)(F^2 + 2F + 3) / (18 (F + 1)^2 MN F)``, F = 255.
    """
    from scipy.stats import norm

    f, n = 255.0, _count(shape_or_size)
    mu = (f + 2) / (3 * f + 3)
    sigma = math.sqrt((f + 2) * (f * f + 2 * f + 3) / (18 * (f + 1) ** 2 * n * f))
    z = norm.ppf(1 - alpha / 2)
    return float((mu - z * sigma) * 100.0), float((mu + z * sigma) * 100.0)


def npcr_uaci_test(c1, c2, alpha: float = 0.05) -> dict:
    """NPCR and UACI of two cipher images with Wu et al.'s critical values and pass/fail verdicts."""
    value_npcr, value_uaci = npcr(c1, c2), uaci(c1, c2)
    size = np.asarray(c1).size
    critical = npcr_critical(size, alpha)
    lo, hi = uaci_interval(size, alpha)
    return {"npcr": value_npcr, "npcr_critical": critical, "npcr_pass": value_npcr >= critical,
            "uaci": value_uaci, "uaci_interval": (lo, hi), "uaci_pass": lo <= value_uaci <= hi}


_DIRECTIONS = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (1, 1)}


def adjacent_correlation(image, direction: str = "horizontal") -> float:
    """Pearson correlation of each pixel with its right (horizontal), lower (vertical) or lower-right
    (diagonal) neighbour, over all pairs; for colour images the pairs of every channel are pooled."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {list(_DIRECTIONS)}, got {direction!r}")
    array = _as_image(image, "image").astype(np.float64)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {array.shape}")
    dy, dx = _DIRECTIONS[direction]
    h, w = array.shape[:2]
    if h <= dy or w <= dx:
        raise ValueError(f"image of shape {array.shape} is too small for {direction} pairs")
    first = array[: h - dy, : w - dx].ravel()
    second = array[dy:, dx:].ravel()
    if first.std() == 0 or second.std() == 0:
        raise ValueError("correlation is undefined for a constant image")
    return float(np.corrcoef(first, second)[0, 1])


def adjacent_correlations(image) -> dict:
    """:func:`adjacent_correlation` in all three directions."""
    return {direction: adjacent_correlation(image, direction) for direction in _DIRECTIONS}


def chi_square(image, alpha: float = 0.05) -> dict:
    """Chi-square test of an 8-bit image's histogram against the uniform distribution (255 dof).

    Returns the statistic, its p-value, the critical value at ``alpha`` and whether the histogram passes
    (statistic below the critical value: no evidence against uniformity).
    """
    from scipy.stats import chi2

    counts = np.bincount(_as_uint8(image, "image").ravel(), minlength=256).astype(np.float64)
    expected = counts.sum() / 256.0
    statistic = float(((counts - expected) ** 2 / expected).sum())
    critical = float(chi2.ppf(1 - alpha, 255))
    return {"statistic": statistic, "p_value": float(chi2.sf(statistic, 255)), "critical": critical,
            "pass": statistic < critical}
