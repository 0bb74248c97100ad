"""A rich-model steganalyser: high-pass residuals, co-occurrences, an ensemble of linear classifiers.

The learned detector of notebook 04 (:func:`utils.hiding.steganalysis.make_detector`) is small and trains
for a few hundred steps. The field's classic strong detector is different in kind. Fridrich and
Kodovsky's spatial rich model (SRM, 2012) describes an image by the statistics of its *noise*, and their
ensemble classifier (Kodovsky, Fridrich and Holub, 2012) separates covers from containers with many
simple linear rules. This module is a compact version of both:

1. **Residuals.** Each colour channel goes through high-pass kernels that cancel smooth image content
   (:data:`KERNELS`: first, second and third order differences, horizontal and vertical, and the 3x3 and
   5x5 "KB" and "KV" kernels). What is left is mostly sensor noise -- and whatever the hider added.
2. **Quantise and truncate.** ``r -> clip(round(r / q), -T, T)`` with ``T = 2``: five values.
3. **Co-occurrences.** The joint histogram of three neighbouring residual values along the rows and along
   the columns (5^3 = 125 bins each), summed over the colour channels and normalised: how often each
   small noise pattern occurs. Hiding changes those frequencies, even where it leaves every image looking
   the same. 9 kernels x 2 directions x 125 = 2250 features per image.
4. **Ensemble of Fisher linear discriminants.** Each of ``learners`` classifiers sees a random subset of
   ``subspace`` features and a bootstrap sample of the training images; the ensemble votes.

Train it on covers and containers of one hiding method from training images, test it on images it has
never seen (:func:`utils.hiding.detection` keeps the two sets' cover photographs apart).
"""

from __future__ import annotations

import numpy as np

__all__ = ["KERNELS", "features", "EnsembleFLD"]

_KB = np.array([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]], np.float64) / 4.0
_KV = np.array([[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2], [2, -6, 8, -6, 2],
                [-1, 2, -2, 2, -1]], np.float64) / 12.0


def _line(coefficients, vertical=False):
    k = np.asarray(coefficients, np.float64)[None, :]
    return k.T if vertical else k


#: The residual kernels and their quantisation steps q (the SRM's choices of scale, simplified).
KERNELS = {
    "1st, horizontal": (_line([1, -1]), 1.0), "1st, vertical": (_line([1, -1], True), 1.0),
    "2nd, horizontal": (_line([1, -2, 1]), 2.0), "2nd, vertical": (_line([1, -2, 1], True), 2.0),
    "3rd, horizontal": (_line([1, -3, 3, -1]), 3.0), "3rd, vertical": (_line([1, -3, 3, -1], True), 3.0),
    "KB 3x3": (_KB, 1.0), "KV 5x5": (_KV, 1.0),
    "edge 3x3": (np.array([[0, 0, 0], [1, -2, 1], [0, 0, 0]], np.float64) + np.array([[0, 1, 0], [0, -2, 0], [0, 1, 0]]), 2.0),
}
T = 2


def _residual(channel: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'valid' correlation of a batch (N, H, W) with a small kernel."""
    kh, kw = kernel.shape
    n, h, w = channel.shape
    out = np.zeros((n, h - kh + 1, w - kw + 1))
    for i in range(kh):
        for j in range(kw):
            if kernel[i, j]:
                out += kernel[i, j] * channel[:, i:i + h - kh + 1, j:j + w - kw + 1]
    return out


def _cooccurrence(codes: np.ndarray, axis: int) -> np.ndarray:
    """Histogram (N, 125) of three consecutive codes (0-4) along ``axis`` (1: down the columns, 2: along rows)."""
    n = codes.shape[0]
    if axis == 2:
        a, b, c = codes[:, :, :-2], codes[:, :, 1:-1], codes[:, :, 2:]
    else:
        a, b, c = codes[:, :-2, :], codes[:, 1:-1, :], codes[:, 2:, :]
    index = (a * 25 + b * 5 + c).reshape(n, -1)
    hist = np.zeros((n, 125))
    np.add.at(hist, (np.repeat(np.arange(n), index.shape[1]), index.ravel()), 1.0)
    return hist


def features(images) -> np.ndarray:
    """Rich-model features (N, 2250) of 8-bit images (N, H, W, C), uint8 or float in [0, 1]."""
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or min(x.shape[1:3]) < 8:
        raise ValueError(f"images must be a batch (N, H, W, 1 or 3) of at least 8x8, got shape {x.shape}")
    x = x.astype(np.float64) if x.dtype == np.uint8 else np.round(np.asarray(x, np.float64) * 255.0)
    blocks = []
    for kernel, q in KERNELS.values():
        rows, cols = np.zeros((len(x), 125)), np.zeros((len(x), 125))
        for ch in range(x.shape[-1]):
            codes = (np.clip(np.round(_residual(x[..., ch], kernel) / q), -T, T) + T).astype(np.int64)
            rows += _cooccurrence(codes, 2)
            cols += _cooccurrence(codes, 1)
        blocks += [rows / rows.sum(1, keepdims=True), cols / cols.sum(1, keepdims=True)]
    return np.concatenate(blocks, axis=1)


class EnsembleFLD:
    """Kodovsky's ensemble: ``learners`` Fisher linear discriminants on random feature subspaces.

    Each learner draws ``subspace`` features and a bootstrap sample of the training images, computes
    ``w = (S_0 + S_1 + ridge I)^-1 (mu_1 - mu_0)`` and thresholds ``w . x`` halfway between the two classes'
    mean projections. :meth:`decision_function` is the share of learners voting "container" minus 1/2;
    :meth:`predict` is the majority vote.
    """

    def __init__(self, learners: int = 51, subspace: int = 300, ridge: float = 1e-6, seed: int = 0):
        if int(learners) < 1 or int(subspace) < 1 or float(ridge) <= 0:
            raise ValueError(f"learners and subspace must be >= 1 and ridge > 0, got {learners!r}, {subspace!r}, {ridge!r}")
        self.learners, self.subspace, self.ridge, self.seed = int(learners), int(subspace), float(ridge), int(seed)
        self.models = []

    def fit(self, covers: np.ndarray, containers: np.ndarray) -> "EnsembleFLD":
        """Fit on feature arrays of covers (label 0) and containers (label 1)."""
        c0, c1 = np.asarray(covers, np.float64), np.asarray(containers, np.float64)
        if c0.ndim != 2 or c1.ndim != 2 or c0.shape[1] != c1.shape[1] or len(c0) < 2 or len(c1) < 2:
            raise ValueError(f"covers and containers must be feature arrays (N, d) of one width, N >= 2; got "
                             f"{c0.shape} and {c1.shape}")
        rng = np.random.default_rng(self.seed)
        d = c0.shape[1]
        self.models = []
        for _ in range(self.learners):
            sub = rng.choice(d, size=min(self.subspace, d), replace=False)
            a = c0[rng.integers(len(c0), size=len(c0))][:, sub]
            b = c1[rng.integers(len(c1), size=len(c1))][:, sub]
            scatter = np.cov(a, rowvar=False) * (len(a) - 1) + np.cov(b, rowvar=False) * (len(b) - 1)
            scatter += self.ridge * np.trace(scatter) / len(sub) * np.eye(len(sub)) + 1e-12 * np.eye(len(sub))
            w = np.linalg.solve(scatter, b.mean(0) - a.mean(0))
            threshold = 0.5 * (a.mean(0) @ w + b.mean(0) @ w)
            self.models.append((sub, w, threshold))
        return self

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        if not self.models:
            raise RuntimeError("call fit before decision_function")
        x = np.asarray(x, np.float64)
        votes = np.mean([x[:, sub] @ w > t for sub, w, t in self.models], axis=0)
        return votes - 0.5

    def predict(self, x: np.ndarray) -> np.ndarray:
        return (self.decision_function(x) > 0).astype(int)
