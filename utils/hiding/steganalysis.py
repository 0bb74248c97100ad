"""Steganalysis: telling covers from containers, with classical statistics and a small learned detector.

Two classical statistics, each computed per image:

* :func:`chi_square_attack` -- Westfeld and Pfitzmann's chi-square attack (1999). Replacing the least
  significant bit with message bits makes the counts of each pair of values ``(2k, 2k + 1)`` equal. The
  statistic compares the count of the even value with the pair's mean; the p-value is the probability
  of a difference at least this small if the pair counts were equalised, so **a p-value near 1 says
  "LSB embedding"**. It detects LSB replacement; it was not designed for anything else.
* :func:`noise_level` -- Immerkaer's fast noise estimate (1996): the mean absolute response to a 3x3
  kernel that cancels locally linear image content (the difference of two Laplacians), scaled to a
  Gaussian noise standard deviation. A hiding method that adds a faint high-frequency pattern raises
  it. It needs a threshold, fitted on training images with :func:`fit_threshold`.

The learned detector (:func:`make_detector`) is a small CNN in the spirit of Qian et al. (2015) and
Xu-Net: a fixed high-pass "KV" filter removes most of the image content, so the network sees the noise
residual where hiding leaves its traces; three small convolutions and global average pooling follow.
"""

from __future__ import annotations

import numpy as np

from ..runtime import quiet_tensorflow

__all__ = ["chi_square_attack", "noise_level", "fit_threshold", "threshold_accuracy", "detection_report",
           "mutual_information", "mutual_information_interval", "KV_KERNEL", "make_detector", "train_detector", "detector_scores"]

#: The 5x5 "KV" high-pass kernel of the spatial rich model (Fridrich and Kodovsky 2012), divided by 12.
KV_KERNEL = np.array([[-1, 2, -2, 2, -1],
                      [2, -6, 8, -6, 2],
                      [-2, 8, -12, 8, -2],
                      [2, -6, 8, -6, 2],
                      [-1, 2, -2, 2, -1]], dtype=np.float32) / 12.0


def _uint8_image(image, name: str = "image") -> np.ndarray:
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8 (the stored 8-bit image), got {array.dtype}; "
                        "use utils.plotting.to_uint8 on float images")
    if array.ndim not in (2, 3) or array.size == 0:
        raise ValueError(f"{name} must be an (H, W) or (H, W, C) image, got shape {array.shape}")
    return array


def chi_square_attack(image) -> float:
    """Westfeld's chi-square attack on one uint8 image (all channels pooled); returns the p-value.

    For each pair of values (2k, 2k+1) with at least 5 pixels in it, the expected count of the even value
    after full LSB replacement is the pair's mean ``(n_2k + n_2k+1) / 2``. The statistic
    ``sum (n_2k - mean)^2 / mean`` is chi-square with (pairs - 1) degrees of freedom when the LSBs carry a
    message; the returned p-value ``P(chi2 >= statistic)`` is near 1 for LSB-replaced images and near 0
    for natural ones. Returns 0.0 when fewer than 2 pairs are populated (nothing can be said).
    """
    from scipy.stats import chi2

    counts = np.bincount(_uint8_image(image).ravel(), minlength=256).astype(np.float64)
    even, odd = counts[0::2], counts[1::2]
    mean = (even + odd) / 2.0
    keep = (even + odd) >= 5
    if keep.sum() < 2:
        return 0.0
    statistic = float(np.sum((even[keep] - mean[keep]) ** 2 / mean[keep]))
    return float(chi2.sf(statistic, int(keep.sum()) - 1))


_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float64)


def noise_level(image) -> float:
    """Immerkaer's noise standard deviation (0-255 scale) of a uint8 image, averaged over its channels.

    ``sigma = sqrt(pi / 2) / (6 (W - 2)(H - 2)) * sum |I * N|`` with N the kernel above (valid pixels
    only). Images must be at least 3x3.
    """
    from scipy.signal import convolve2d

    array = _uint8_image(image).astype(np.float64)
    planes = [array] if array.ndim == 2 else [array[..., c] for c in range(array.shape[-1])]
    h, w = planes[0].shape
    if h < 3 or w < 3:
        raise ValueError(f"noise_level needs an image of at least 3x3 pixels, got {h}x{w}")
    sigmas = [np.sqrt(np.pi / 2) * np.abs(convolve2d(p, _IMMERKAER, mode="valid")).sum() / (6.0 * (w - 2) * (h - 2))
              for p in planes]
    return float(np.mean(sigmas))


def fit_threshold(negatives, positives) -> tuple[float, int]:
    """The threshold on a score that best separates negatives (covers) from positives (containers).

    Returns ``(threshold, sign)``: an image is called positive when ``sign * score > sign * threshold``
    (sign +1: containers score higher; -1: lower). Chosen to maximise balanced accuracy on the given scores,
    over the midpoints between consecutive distinct scores and one step beyond either end; of equal
    candidates the lowest threshold, and sign +1 before -1, wins. Every candidate is scored at once from
    the sorted scores (n log n), with the same counts :func:`threshold_accuracy` makes one by one.
    """
    neg, pos = np.asarray(negatives, np.float64).ravel(), np.asarray(positives, np.float64).ravel()
    if neg.size == 0 or pos.size == 0:
        raise ValueError("fit_threshold needs at least one negative and one positive score")
    values = np.unique(np.concatenate([neg, pos]))
    candidates = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2.0, [values[-1] + 1.0]])
    neg, pos = np.sort(neg), np.sort(pos)
    n_neg, n_pos = len(neg), len(pos)
    at_most_neg = np.searchsorted(neg, candidates, side="right")   # negatives <= t
    at_most_pos = np.searchsorted(pos, candidates, side="right")   # positives <= t
    below_neg = np.searchsorted(neg, candidates, side="left")      # negatives < t
    below_pos = np.searchsorted(pos, candidates, side="left")      # positives < t
    up = 0.5 * (at_most_neg / n_neg) + 0.5 * ((n_pos - at_most_pos) / n_pos)   # sign +1: positive above t
    down = 0.5 * ((n_neg - below_neg) / n_neg) + 0.5 * (below_pos / n_pos)     # sign -1: positive below t
    i, j = int(np.argmax(up)), int(np.argmax(down))
    if down[j] > up[i]:
        return float(candidates[j]), -1
    return float(candidates[i]), 1


def threshold_accuracy(negatives, positives, threshold: float, sign: int = 1) -> float:
    """Balanced accuracy of the rule ``sign * score > sign * threshold`` -> positive."""
    neg, pos = np.asarray(negatives, np.float64), np.asarray(positives, np.float64)
    return float(0.5 * np.mean(sign * neg <= sign * threshold) + 0.5 * np.mean(sign * pos > sign * threshold))


def detection_report(negatives, positives, threshold: float, sign: int = 1) -> dict:
    """What a detection rule does on covers (negatives) and containers (positives).

    Returns ``detection_rate`` (containers called containers: the true-positive rate),
    ``false_alarm_rate`` (covers called containers), ``balanced_accuracy`` (the mean of the detection
    rate and the covers' correct-rejection rate: 0.5 is chance whatever the class balance), and ``auc``
    (the probability that a random container scores higher than a random cover, in the rule's direction:
    0.5 is chance, and below 0.5 the rule points the wrong way).
    """
    from sklearn.metrics import roc_auc_score

    neg, pos = sign * np.asarray(negatives, np.float64).ravel(), sign * np.asarray(positives, np.float64).ravel()
    t = sign * threshold
    detection, false_alarm = float(np.mean(pos > t)), float(np.mean(neg > t))
    auc = float(roc_auc_score(np.r_[np.zeros(len(neg)), np.ones(len(pos))], np.r_[neg, pos]))  # ties count one half
    return {"detection_rate": detection, "false_alarm_rate": false_alarm,
            "balanced_accuracy": 0.5 * detection + 0.5 * (1 - false_alarm), "auc": auc}


def mutual_information(x, y, bins: int = 16) -> float:
    """Plug-in estimate of the mutual information (bits) between two arrays of paired values.

    Each array is cut into ``bins`` equal-count bins (quantiles), so the estimate does not depend on the
    scale; it is biased upwards for few samples, so compare it with the same estimate on shuffled pairs.
    Unlike a correlation, it is zero only for independent variables and sees any dependence, not just a
    linear one.
    """
    x, y = np.asarray(x, np.float64).ravel(), np.asarray(y, np.float64).ravel()
    if x.shape != y.shape or x.size < bins:
        raise ValueError(f"x and y must be paired values, at least {bins} of them; got {x.size} and {y.size}")

    joint = np.bincount(_equal_count_codes(x, bins) * bins + _equal_count_codes(y, bins), minlength=bins * bins)
    return float(_plug_in_bits(joint.reshape(1, bins, bins).astype(np.float64))[0])


def _equal_count_codes(values, bins: int) -> np.ndarray:
    """The bin (0 ... bins - 1) of each value, for ``bins`` equal-count bins (quantile edges; tied edges merge)."""
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right")


def _plug_in_bits(joint) -> np.ndarray:
    """The plug-in mutual information (bits) of each joint count table of ``joint`` (R, bins, bins)."""
    joint = joint / joint.sum(axis=(1, 2), keepdims=True)
    product = joint.sum(2, keepdims=True) * joint.sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log2(joint / product), 0.0)
    return terms.sum(axis=(1, 2))


def mutual_information_interval(x, y, groups=None, bins: int = 16, n_boot: int = 1000, seed: int = 0):
    """:func:`mutual_information` of paired batches ``x``, ``y`` (N, ...), with a 95 % bootstrap interval
    over the sources in ``groups`` (as :func:`utils.metrics.bootstrap_ci` reads them).

    The bins are the pooled equal-count bins of all N items; each item's joint histogram is counted once,
    and each bootstrap round adds them up with the round's weights (:func:`utils.metrics.bootstrap_statistic`),
    so the interval's mean is exactly :func:`mutual_information` of the pooled values."""
    from ..metrics import bootstrap_statistic

    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim < 2:
        raise ValueError(f"x and y must be paired batches (N, ...) of the same shape, got {x.shape} and {y.shape}")
    n = x.shape[0]

    cx, cy = (_equal_count_codes(v.ravel(), bins).reshape(n, -1) for v in (x, y))
    per_item = np.zeros((n, bins * bins))
    for i in range(n):
        per_item[i] = np.bincount(cx[i] * bins + cy[i], minlength=bins * bins)

    def information(weights):
        return _plug_in_bits((weights @ per_item).reshape(-1, bins, bins))

    return bootstrap_statistic(information, n, groups, n_boot=n_boot, seed=seed)


def make_detector(seed: int = 0):
    """The small learned steganalyser: fixed KV high-pass per channel, 3 conv layers, global pooling.

    Input: float (N, H, W, 3) in [0, 1]; output: one logit per image (> 0 means "container").
    """
    quiet_tensorflow()
    import keras

    init = keras.initializers.GlorotUniform(seed=seed)
    kv = np.repeat(KV_KERNEL[:, :, None, None], 3, axis=2)  # (5, 5, 3, 1): depthwise, one filter per channel
    model = keras.Sequential([
        keras.Input((None, None, 3)),
        keras.layers.Rescaling(255.0),  # residuals on the 0-255 scale, as in the steganalysis literature
        keras.layers.DepthwiseConv2D(5, padding="same", use_bias=False, trainable=False, name="kv_highpass",
                                     depthwise_initializer=keras.initializers.Constant(kv)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer=init),
        keras.layers.AveragePooling2D(2),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init),
        keras.layers.AveragePooling2D(2),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(1, kernel_initializer=init),
    ], name="steganalyser")
    return model


def train_detector(covers, containers, steps: int = 300, batch: int = 32, learning_rate: float = 1e-3,
                   seed: int = 0):
    """Train :func:`make_detector` on covers (label 0) and containers (label 1); returns (model, losses).

    Each step takes ``batch // 2`` covers and ``batch // 2`` containers at random (seeded). Images are
    float (N, H, W, 3) in [0, 1], as stored (quantised to 8 bits) images divided by 255.
    """
    quiet_tensorflow()
    import keras

    from ..fitting import fit_supervised

    covers, containers = np.asarray(covers, np.float32), np.asarray(containers, np.float32)
    if covers.ndim != 4 or containers.ndim != 4 or covers.shape[1:] != containers.shape[1:]:
        raise ValueError(f"covers and containers must be (N, H, W, 3) batches of one size, got "
                         f"{covers.shape} and {containers.shape}")
    model = make_detector(seed)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    labels = np.r_[np.zeros(batch // 2), np.ones(batch // 2)].astype(np.float32)[:, None]
    rng = np.random.default_rng(seed)

    def batches():
        while True:
            i = rng.integers(len(covers), size=batch // 2)
            j = rng.integers(len(containers), size=batch // 2)
            yield np.concatenate([covers[i], containers[j]]), labels

    rows = 2 * (batch // 2)
    losses = fit_supervised(model, batches, [(rows, *covers.shape[1:]), labels.shape], steps, loss_fn, learning_rate)
    return model, losses


def detector_scores(model, images, batch: int = 64) -> np.ndarray:
    """The detector's logits for float images (N, H, W, 3) in [0, 1]; > 0 means "container"."""
    images = np.asarray(images, np.float32)
    return np.concatenate([np.asarray(model(images[i:i + batch], training=False)).ravel()
                           for i in range(0, len(images), batch)])
