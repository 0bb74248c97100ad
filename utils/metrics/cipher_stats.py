"""Statistics of cipher images (8-bit integer images only), with the critical values of Wu et al. 2011.

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

from .quality import _as_image, _as_uint8

__all__ = ["entropy", "npcr", "uaci", "npcr_critical", "uaci_interval", "npcr_uaci_test",
           "adjacent_correlation", "adjacent_correlations", "chi_square"]


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
