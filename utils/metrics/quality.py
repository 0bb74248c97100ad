"""Reconstruction quality: MSE, PSNR, SSIM, mean absolute error, and the quality of a hiding method.

Two images of the same shape and dtype; ``data_range`` comes from the dtype (255 for uint8, 65535 for
uint16, 1.0 for floats, which must then lie in [0, 1]) or is given explicitly.

* :func:`mse`: mean of squared differences, ``mean((x - y)^2)``. (The evaluation report writes a square root
  of the difference inside the sum; that is a typo: the metric of the field is the mean *squared* error.)
* :func:`rmse`, :func:`psnr` (``10 log10(data_range^2 / MSE)``, in dB; infinite for identical images),
  :func:`ssim` (scikit-image's implementation, Wang et al. 2004, colour averaged over channels),
  :func:`mean_abs_error_255`: mean absolute pixel error on the 0-255 scale, the figure Baluja reports.
* :func:`hiding_quality` (batch means) and :func:`per_pair_quality` (one value per pair, for intervals).
* :func:`encoded_size_kb`: the size of bytes, or of an image encoded losslessly (PNG), in kB (1000 bytes).
"""


from __future__ import annotations

import math

import numpy as np

__all__ = ["mse", "rmse", "psnr", "ssim", "mean_abs_error_255", "encoded_size_kb", "quality_report",
           "hiding_quality", "per_pair_quality", "format_hiding_table"]


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


def per_pair_quality(cover, container, secret, revealed) -> dict[str, np.ndarray]:
    """:func:`hiding_quality` per pair: arrays of length N (PSNR, SSIM, MAE for cover and secret), the
    values that :func:`utils.metrics.bootstrap_ci` turns into an interval over source images."""
    return {"cover_psnr": np.array([psnr(a, b) for a, b in zip(cover, container)]),
            "secret_psnr": np.array([psnr(a, b) for a, b in zip(secret, revealed)]),
            "cover_ssim": np.array([ssim(a, b) for a, b in zip(cover, container)]),
            "secret_ssim": np.array([ssim(a, b) for a, b in zip(secret, revealed)]),
            "cover_mae_255": np.array([mean_abs_error_255(a, b) for a, b in zip(cover, container)]),
            "secret_mae_255": np.array([mean_abs_error_255(a, b) for a, b in zip(secret, revealed)])}


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
