"""Computed verdicts: yes/no answers and orders printed by code from the values they are about.

A number that comes from a network trained inside a notebook moves in its last digits from one machine to
another (TensorFlow's CPU kernels split their sums by the processor's caches and threads), so nbval does not
check it raw. It checks what the number *means* instead -- "the substitute decoder beats the blind constant
by more than 3 dB: yes" -- and such a sentence stays the same wherever the notebook runs, as long as the
margin it states is well clear of the measurement. The rules live here once so that every notebook words them alike.

    mean_of(x)                     the mean of an Interval, a dict with "mean", or a number
    beats(a, b, margin)            a's mean exceeds b's by more than ``margin``
    clearly_above(a, b)            a's 95 % interval lies wholly above b's
    first_k_beating(curve, b, m)   the smallest k of an attack curve whose mean beats b by more than m
    ranking(rows)                  row names, best mean first
    uncorrelated(row)              the correlation pass rule: every interval holds 0, within +-0.01
    say(statement, flag)           "statement: yes" / "statement: no"

The two baselines every attack is compared with have one name each, used everywhere:

    BLIND_CONSTANT  the attacker's best picture-independent guess: one grey level, the mean of the
                    attacker's own images (k = 0 on every attack curve)
    MEAN_ORACLE     each test image replaced by its own mean grey level: an oracle (it needs the image),
                    the floor a decryption must clear to show anything of the picture's structure

and the guesses themselves, made once here: :func:`blind_constant_guess`, :func:`mean_oracle_guess`.
A detector's baseline is ``CHANCE``: the balanced accuracy (and AUC) of a coin toss, 0.5.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BLIND_CONSTANT", "MEAN_ORACLE", "CHANCE", "CORRELATION_LIMIT", "uncorrelated", "blind_constant_guess", "mean_oracle_guess", "mean_of", "beats", "clearly_above", "first_k_beating", "ranking",
           "say"]

BLIND_CONSTANT = "blind constant (the attacker's mean grey, k = 0)"
MEAN_ORACLE = "mean oracle (each image's own mean grey)"

#: A detector's (or distinguisher's) baseline: the balanced accuracy and AUC of guessing by a coin toss.
#: Whatever the classes' balance, a rule that ignores the image scores this; a game's advantage 0 is the same.
CHANCE = 0.5


def blind_constant_guess(attacker_plains, shape) -> np.ndarray:
    """The :data:`BLIND_CONSTANT` guess: float32 images of ``shape`` at the mean grey level of the
    attacker's own images ``attacker_plains`` (it sees nothing of the test images)."""
    plains = np.asarray(attacker_plains, np.float64)
    if plains.size == 0:
        raise ValueError("the blind constant needs the attacker's own images; attacker_plains is empty")
    return np.full(shape, float(np.mean(plains)), np.float32)


def mean_oracle_guess(images) -> np.ndarray:
    """The :data:`MEAN_ORACLE` guess: each image of a batch (N, H, W) or (N, H, W, C) replaced by its own mean
    level (over all its pixels and channels), as float32. An oracle: it needs the image it guesses."""
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be a batch (N, H, W) or (N, H, W, C), got shape {images.shape}")
    # integer images (8-bit) are averaged in float64, where every sum is exact; float images in float32
    images = images.astype(np.float64 if np.issubdtype(images.dtype, np.integer) else np.float32)
    axes = tuple(range(1, images.ndim))
    return np.broadcast_to(images.mean(axis=axes, keepdims=True), images.shape).astype(np.float32)


def mean_of(value) -> float:
    """The mean of an :class:`~utils.metrics.intervals.Interval`, of a dict with ``"mean"``, or a number."""
    if hasattr(value, "mean") and not callable(value.mean):
        return float(value.mean)
    if isinstance(value, dict):
        if "mean" not in value:
            raise TypeError(f"a dict given as a value needs a 'mean' entry; it has {sorted(value)}")
        return float(value["mean"])
    if isinstance(value, (int, float)):
        return float(value)
    raise TypeError(f"expected an Interval, a dict with 'mean' or a number, got {type(value).__name__}")


def _bounds(value) -> tuple[float, float]:
    if hasattr(value, "low") and hasattr(value, "high"):
        return float(value.low), float(value.high)
    if isinstance(value, dict) and "low" in value and "high" in value:  # an interval record (stored results)
        return float(value["low"]), float(value["high"])
    m = mean_of(value)
    return m, m


def beats(a, b, margin: float = 0.0) -> bool:
    """True when the mean of ``a`` exceeds the mean of ``b`` by more than ``margin`` (same units)."""
    if margin < 0 or not math.isfinite(margin):
        raise ValueError(f"margin must be a finite number >= 0, got {margin}")
    return mean_of(a) > mean_of(b) + margin


def clearly_above(a, b) -> bool:
    """True when the whole interval of ``a`` lies above the whole interval of ``b`` (numbers: plain >)."""
    return _bounds(a)[0] > _bounds(b)[1]


def first_k_beating(curve: dict, baseline, margin: float, metric: str = "psnr"):
    """The smallest k whose row of an attack ``curve`` ({k: {metric: Interval}}) beats ``baseline`` by
    more than ``margin``; None when no k does."""
    for k in sorted(curve):
        if beats(curve[k][metric], baseline, margin):
            return k
    return None


#: The course's pass rule for adjacent-pixel correlation (see :func:`uncorrelated`).
CORRELATION_LIMIT = 0.01
CORRELATION_KEYS = ("correlation_horizontal", "correlation_vertical", "correlation_diagonal")


def uncorrelated(value, limit: float = CORRELATION_LIMIT) -> bool:
    """The one pass rule for adjacent-pixel correlation: the 95 % interval of the mean correlation holds 0
    (no correlation detectable) and lies within +-``limit`` (precise enough to say so).

    ``value``: one interval (an :class:`~utils.metrics.intervals.Interval` or its record), or a row of
    cipher statistics with the three ``correlation_*`` entries, which must all pass. A cipher whose
    correlation is small but whose interval excludes 0 (a key stream shared by every image leaves such a
    bias) fails; so does one whose interval is too wide to tell."""
    if not limit > 0:
        raise ValueError(f"limit must be > 0, got {limit}")
    if isinstance(value, dict) and "correlation_horizontal" in value:
        return all(uncorrelated(value[k], limit) for k in CORRELATION_KEYS if k in value)
    low, high = _bounds(value)
    return low <= 0.0 <= high and -limit < low and high < limit


def ranking(rows: dict, metric: str | None = None) -> list[str]:
    """Row names ordered by mean, highest first; ``metric`` picks the entry of dict rows."""
    value = (lambda r: mean_of(r[metric])) if metric else mean_of
    return sorted(rows, key=lambda name: -value(rows[name]))


def say(statement: str, flag: bool) -> str:
    """``"statement: yes"`` or ``"statement: no"``."""
    return f"{statement}: {'yes' if bool(flag) else 'no'}"
