"""The ROI-mining network: segmenting the object of interest from cipher images, and its Dice score."""

from __future__ import annotations

import time

import numpy as np

from ...layers.blocks import run_image_network
from ..base import check_images


def roi_masks(images, sigma: float = 1.0, min_contrast: float = 0.1) -> np.ndarray:
    """The object of interest in plain images (N, H, W) -> boolean masks (N, H, W). The rule:

    smooth with a Gaussian of ``sigma`` pixels; if the smoothed image's contrast (99th minus 1st
    percentile) is below ``min_contrast``, the ROI is empty (a flat patch of background or tissue);
    otherwise the ROI is every pixel brighter than the smoothed image's Otsu threshold (the bright
    structure: bone, contrast-filled vessels, tissue against the dark background of a scan).
    """
    from scipy.ndimage import gaussian_filter
    from skimage.filters import threshold_otsu

    batch = check_images(images, None, "images")
    out = np.zeros(batch.shape, bool)
    for i, image in enumerate(batch):
        smooth = gaussian_filter(image.astype(np.float64), sigma)
        low, high = np.percentile(smooth, [1, 99])
        if high - low >= min_contrast:
            out[i] = smooth > threshold_otsu(smooth)
    return out


def dice(pred, true) -> np.ndarray:
    """Dice coefficient per image, 2|P and T| / (|P| + |T|); 1 where both masks are empty."""
    p, t = np.asarray(pred, bool), np.asarray(true, bool)
    if p.shape != t.shape:
        raise ValueError(f"pred and true must have the same shape, got {p.shape} and {t.shape}")
    axes = tuple(range(1, p.ndim))
    inter = (p & t).sum(axis=axes).astype(np.float64)
    total = (p.sum(axis=axes) + t.sum(axis=axes)).astype(np.float64)
    return np.where(total == 0, 1.0, 2 * inter / np.maximum(total, 1))


def train_roi(network, features: np.ndarray, masks: np.ndarray, steps: int = 300, batch: int = 16,
              learning_rate: float = 2e-3, seed: int = 0) -> dict:
    """Train the ROI-mining network (any Keras model (N, H, W, 1) -> (N, H, W, 1) in [0, 1]) on
    ``features`` (cipher images / 255, (N, H, W)) and boolean ``masks``: binary cross-entropy + soft Dice.
    Returns ``{"loss": [...], "seconds": ...}``."""
    import keras
    import tensorflow as tf

    from ...fitting import fit_supervised

    x = np.asarray(features, np.float32)[..., None]
    y = np.asarray(masks, np.float32)[..., None]
    if x.shape != y.shape:
        raise ValueError(f"features and masks must have the same shape, got {x.shape[:3]} and {y.shape[:3]}")
    bce = keras.losses.BinaryCrossentropy()

    def loss(yb, p):
        soft = 1 - (2 * tf.reduce_sum(p * yb) + 1) / (tf.reduce_sum(p) + tf.reduce_sum(yb) + 1)
        return bce(yb, p) + soft

    rng = np.random.default_rng([seed, 0x201])
    size = min(batch, len(x))

    def batches():
        while True:
            i = rng.integers(len(x), size=size)
            yield x[i], y[i]

    began = time.perf_counter()
    losses = fit_supervised(network, batches, [(size, *x.shape[1:])] * 2, int(steps), loss, learning_rate)
    return {"loss": losses, "seconds": time.perf_counter() - began}


def predict_roi(network, features: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Boolean masks (N, H, W) that the ROI-mining network reads from ``features`` (N, H, W)."""
    return run_image_network(network, features) > threshold
