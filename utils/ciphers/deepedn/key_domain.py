"""DeepEDN's key domain: keyed sparse-tap textures only the key holder can sample (see the package text)."""

from __future__ import annotations

import numpy as np

#: The key of the shipped model's cipher domain, and the second key of the key-sensitivity test.
DEFAULT_KEY, SECOND_KEY = 2021, 7
#: The kinds of key domain.
KEY_DOMAINS = ("texture", "noise")


def key_taps(key: int, taps: int = 8, window: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """The secret of a ``"texture"`` key domain: ``taps`` offsets (dy, dx) in a ``window`` square, no two of
    them neighbours (Chebyshev distance >= 2), and their weights (Gaussian, unit L2 norm).

    Because no two taps are neighbours, the filtered noise has zero correlation at every one-pixel lag.
    """
    if not isinstance(key, (int, np.integer)) or isinstance(key, bool):
        raise TypeError(f"key must be an integer, got {type(key).__name__}")
    rng = np.random.default_rng([int(key), 0x5EED])
    cells = [(y, x) for y in range(window) for x in range(window)]
    chosen: list[tuple[int, int]] = []
    for i in rng.permutation(len(cells)):
        y, x = cells[i]
        if all(max(abs(y - a), abs(x - b)) >= 2 for a, b in chosen):
            chosen.append((y, x))
        if len(chosen) == taps:
            break
    if len(chosen) < taps:
        raise ValueError(f"cannot place {taps} non-adjacent taps in a {window}x{window} window")
    weights = rng.normal(size=taps)
    return np.array(chosen, np.int64), (weights / np.linalg.norm(weights)).astype(np.float64)


def key_domain_images(n: int, size: int = 64, kind: str = "texture", key: int = DEFAULT_KEY,
                      seed: int = 0) -> np.ndarray:
    """``n`` samples of the cipher (key) domain, float32 (n, size, size) in [0, 1].

    ``kind="texture"``: white Gaussian noise filtered by the key's taps (:func:`key_taps`), then mapped
    through the normal CDF (uniform marginals). ``kind="noise"``: i.i.d. uniform noise (``key`` unused).
    ``seed`` picks the samples; the key picks the distribution.
    """
    from scipy.special import ndtr

    if kind not in KEY_DOMAINS:
        raise ValueError(f"kind must be one of {KEY_DOMAINS}, got {kind!r}")
    if int(n) < 0 or int(size) < 1:
        raise ValueError(f"need n >= 0 and size >= 1, got n={n!r}, size={size!r}")
    rng = np.random.default_rng([int(seed), 0xC1F])
    if kind == "noise":
        return rng.random((int(n), size, size), dtype=np.float32)
    offsets, weights = key_taps(key)
    pad = int(offsets.max())
    noise = rng.standard_normal((int(n), size + pad, size + pad))
    z = np.zeros((int(n), size, size))
    for (dy, dx), w in zip(offsets, weights):
        z += w * noise[:, dy:dy + size, dx:dx + size]
    return ndtr(z).astype(np.float32)


def autocorrelation(images, lags: int = 8) -> np.ndarray:
    """Mean normalised autocorrelation of a batch of images (N, H, W) for lags -lags..lags in y and x.

    The centre is 1; a key-domain texture shows peaks where two of its taps differ by that lag.
    """
    x = np.asarray(images, np.float64)
    x = x - x.mean(axis=(1, 2), keepdims=True)
    x = x / np.maximum(x.std(axis=(1, 2), keepdims=True), 1e-12)
    spectrum = np.fft.fft2(x, s=(2 * x.shape[1], 2 * x.shape[2]))
    corr = np.fft.ifft2(np.abs(spectrum) ** 2).real.mean(0) / (x.shape[1] * x.shape[2])
    corr = np.fft.fftshift(corr)
    cy, cx = corr.shape[0] // 2, corr.shape[1] // 2
    return corr[cy - lags:cy + lags + 1, cx - lags:cx + lags + 1]
