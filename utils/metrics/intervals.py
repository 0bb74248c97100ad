"""95 % bootstrap confidence intervals over source images, the error bars of every headline number.

Patches cut from one image are not independent measurements: a test set of 224 patches from 14 images
knows about 14 images, not 224. :func:`bootstrap_ci` therefore resamples *source images*, not patches.
When each value depends on two sources (a secret image and a cover photograph), both are resampled at
once: each bootstrap round draws, for every factor, how often each of its sources is taken (a multinomial
draw), and weighs each value by the product of its sources' counts (Owen's "pigeonhole" bootstrap for
crossed factors, 2007). The interval is the percentile interval of the weighted means.

With a single source in every factor there is nothing to resample between images; the interval is then
taken over the values themselves, and :attr:`Interval.over` says so.

With few sources the percentile interval runs short of its 95 %: over a factor of 3 sources it holds the
true mean about 70 % of the time, over 8 about 90 % (``tests/test_metrics.py`` measures it). Below
:data:`FEW_SOURCES` in any factor, :meth:`Interval.describe` says so next to the interval.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np

__all__ = ["FEW_SOURCES", "Interval", "bootstrap_ci", "bootstrap_statistic", "summarize"]

#: Below this many sources in a factor an interval is flagged as running short (see the module text).
FEW_SOURCES = 8


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap interval.

    Attributes:
        mean: the mean of the values (every value weighted alike).
        low, high: the interval's ends.
        n: number of values (pairs or images).
        sources: number of distinct sources per factor, e.g. (14, 3) for 14 secret images x 3 covers.
        level: the confidence level (0.95).
        over: what was resampled: ``"sources"`` or ``"values"`` (a single source per factor).
    """

    mean: float
    low: float
    high: float
    n: int
    sources: tuple[int, ...] = ()
    level: float = 0.95
    over: str = "sources"

    def format(self, digits: int = 1) -> str:
        """``"32.1 [31.4, 32.9]"``; ``"exact"`` for infinite values (PSNR of identical images)."""
        if np.isinf(self.mean) and np.isinf(self.low):
            return "exact"
        text = f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"
        if EDGE_LOG_VARIABLE in os.environ:
            _log_edges(text, (self.mean, self.low, self.high), digits)
        return text

    @property
    def few_sources(self) -> bool:
        """True when a factor has fewer than :data:`FEW_SOURCES` sources: the interval runs short."""
        return bool(self.sources) and min(self.sources) < FEW_SOURCES

    def describe(self) -> str:
        """``"n = 224, 14 x 3 sources"``: what stands behind the interval, and a warning where a factor has
        fewer than :data:`FEW_SOURCES` sources."""
        src = " x ".join(str(s) for s in self.sources) if self.sources else "?"
        text = f"n = {self.n}, {src} sources" + ("" if self.over == "sources" else ", interval over values")
        if self.few_sources:
            text += f"; under {FEW_SOURCES} sources in a factor, so the interval runs short of 95 %"
        return text

    def __str__(self) -> str:
        return f"{self.format(2)} ({self.describe()})"

    def record(self) -> dict:
        """The interval as a JSON-ready dict: ``mean``, ``low``, ``high``, ``n``, ``sources`` (the stored
        results' format; ``Interval(**record)`` reads it back)."""
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n, "sources": list(self.sources)}


#: Set to a file path, every :meth:`Interval.format` with a value within 2 % of a unit of its last digit from an
#: edge nbval sees (:func:`near_edge`) appends a JSON line there (``python -m utils.runner.stability --edges``).
EDGE_LOG_VARIABLE = "MEDSTEGO_EDGE_LOG"


#: Digits the nbval sanitizer (``notebooks/nbval_sanitize.cfg``) keeps after the decimal point (a test in
#: tests/test_stability.py holds the two together).
SANITIZED_DIGITS = 2
_SPEC = re.compile(r"\.(\d+)([fF%])$")


def near_edge(value, spec: str, margin: float = 0.02) -> bool:
    """True when ``format(value, spec)`` prints a digit (after nbval's cut to two decimals) that flips if
    ``value`` moves by less than ``margin`` of a unit of its last printed digit. Only real, finite, non-integer
    values with a fixed-point or percent spec (``.1f``, ``>8.2f``, ``.0%``) are judged; anything else is False.

    With ``d`` printed decimals the last digit flips where the value crosses a half unit of ``10**-d``. For
    ``d > 2`` only the flips that carry into the second decimal matter: ``0.7795`` (printed ``0.780`` or
    ``0.779``, compared as ``0.78`` or ``0.77``) is at an edge, ``0.7800`` is not."""
    if isinstance(value, (bool, Integral)) or not isinstance(value, Real):
        return False
    found = _SPEC.search(spec)
    value = float(value)
    if not found or not math.isfinite(value):
        return False
    digits = int(found.group(1))
    if found.group(2) == "%":
        value *= 100
    scaled = abs(value) * 10 ** digits  # the printed digits round this to an integer
    if digits > SANITIZED_DIGITS:
        # nbval keeps two decimals of the printed text: it changes only where the rounded integer crosses a
        # multiple of 10 ** (digits - 2), i.e. where scaled + 0.5 does
        step = 10 ** (digits - SANITIZED_DIGITS)
        offset = (scaled + 0.5) % step
        return min(offset, step - offset) < margin
    return abs(scaled - math.floor(scaled) - 0.5) < margin


def _log_edges(text: str, values, digits: int, margin: float = 0.02) -> None:
    close = [float(value) for value in values if near_edge(value, f".{digits}f", margin)]
    if close:
        with open(os.environ[EDGE_LOG_VARIABLE], "a") as log:
            log.write(json.dumps({"text": text, "values": close, "digits": digits}) + "\n")


def _codes(labels, n: int) -> tuple[np.ndarray, int]:
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"each group labelling must have one label per value ({n}), got shape {labels.shape}")
    _, codes = np.unique(labels, return_inverse=True)
    return codes.ravel(), int(codes.max()) + 1


def bootstrap_ci(values, groups=None, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> Interval:
    """Mean of ``values`` with a percentile bootstrap interval over the sources in ``groups``.

    Args:
        values: one number per pair or image (e.g. per-pair PSNR).
        groups: None (values independent), one array of source labels, or a tuple of such arrays (crossed
            factors, e.g. ``(secret_ids, cover_ids)`` of a :class:`utils.data.PairSet`).
        n_boot: bootstrap rounds.
        level: confidence level.
        seed: seed of the resampling (fixed, so notebooks repeat their numbers).

    Raises:
        ValueError: empty or NaN values; a mix of finite and infinite values (cap PSNR of exact pairs
            first, or report them as exact); labels of the wrong length.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if np.isnan(v).any():
        raise ValueError("values contain NaN")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be at least 1 bootstrap round (2000 is the default), got n_boot={n_boot!r}")
    if np.isinf(v).any():
        if np.isinf(v).all() and (v == v[0]).all():
            return Interval(float(v[0]), float(v[0]), float(v[0]), v.size, (), level, "values")
        raise ValueError("values mix finite and infinite numbers (PSNR of exact reconstructions?); "
                         "cap them (np.minimum(psnr, 100)) or report exact pairs separately")
    interval = bootstrap_statistic(lambda w: (w @ v) / w.sum(axis=-1), v.size, groups, n_boot, level, seed)
    return replace(interval, mean=float(v.mean()))  # numpy's pairwise sum, as every stored result was made


def _factors(groups, n: int) -> tuple[list, tuple[int, ...], str]:
    """The resampled factors (codes, number of sources), the sources per factor, and what is resampled."""
    if groups is None:
        return [(np.arange(n), n)], (), "values"
    if isinstance(groups, (tuple, list)) and len(groups) and np.ndim(groups[0]) == 1:
        factors = [_codes(g, n) for g in groups]
    else:
        factors = [_codes(groups, n)]
    counts = tuple(k for _, k in factors)
    if all(k == 1 for k in counts):
        return [(np.arange(n), n)], counts, "values"
    return factors, counts, "sources"


def bootstrap_statistic(statistic, n: int, groups=None, n_boot: int = 2000, level: float = 0.95,
                        seed: int = 0) -> Interval:
    """A percentile bootstrap interval over sources for any statistic of ``n`` paired values that takes
    per-value weights: ``statistic(weights)`` with ``weights`` of shape (rounds, n) returns one number per
    round (a pooled histogram, a ratio of sums). The weights are those of :func:`bootstrap_ci` (the
    pigeonhole scheme over crossed factors; rounds with no weight left are drawn again), and the interval's
    ``mean`` is the statistic with every value weighted alike. :func:`bootstrap_ci` is this with the
    weighted mean."""
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be at least 1 bootstrap round (2000 is the default), got n_boot={n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    factors, counts, over = _factors(groups, n)
    rng = np.random.default_rng(seed)
    stats = []
    while len(stats) < n_boot:
        weights = np.ones((n_boot, n))
        for codes, k in factors:
            draw = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot)
            weights *= draw[:, codes]
        ok = weights.sum(axis=1) > 0
        stats.extend(np.asarray(statistic(weights[ok]), np.float64).ravel().tolist())
    stats = np.array(stats[:n_boot])
    alpha = (1 - level) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    centre = float(np.asarray(statistic(np.ones((1, n))), np.float64).ravel()[0])
    return Interval(centre, float(low), float(high), int(n), counts, level, over)


def summarize(per_pair: dict, groups=None, **kwargs) -> dict[str, Interval]:
    """:func:`bootstrap_ci` of every array in ``per_pair`` (e.g. :func:`utils.metrics.per_pair_quality`)."""
    return {key: bootstrap_ci(values, groups, **kwargs) for key, values in per_pair.items()}
