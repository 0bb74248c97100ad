"""Chaotic maps as key-stream generators, and the Arnold cat map (notebook 06).

The two maps of chaotic image ciphers:

* the **logistic map** ``x <- r x (1 - x)`` on (0, 1); chaotic for most r between about 3.57 and 4, with a
  Lyapunov exponent of ln 2 (about 0.69 per step) at r = 4;
* the **Henon map** ``(x, y) <- (1 - a x^2 + y, b x)``; with the classical a = 1.4, b = 0.3 its orbits fall
  onto a strange attractor, Lyapunov exponent about 0.42 per step.

A *key* is their parameters and initial conditions (:class:`MapKey`). An orbit is iterated ``burn_in``
times (the transient, thrown away), then read out. Orbits are computed in IEEE double precision, one
multiplication and one subtraction at a time in a fixed order: every machine gives the same orbit bit for
bit (no fused multiply-add, no reordering), which a cipher needs, since the receiver must regenerate the
sender's stream exactly.

* :func:`logistic_orbit`, :func:`henon_orbit`: orbits of one key, or of many keys at once (``lanes``:
  arrays of parameters iterate in parallel, e.g. 1000 values of r for the bifurcation diagram).
* :func:`orbit_bytes`: orbit values to key-stream bytes, ``floor(|x| * 1e14) mod 256`` (the digits far
  behind the decimal point, which are uniform; ``floor(256 x)`` would inherit the map's U-shaped density).
* :func:`logistic_stream`, :func:`henon_stream`: key streams (uint8) of a given length.
* :func:`sort_permutation`: the permutation that sorts an orbit, a chaotic shuffle of n positions.
* :func:`cat_map_permutation`: the generalised Arnold cat map on an N x N grid, as a shuffle of positions.
* :func:`bifurcation_data`, :func:`henon_attractor`, :func:`divergence`: what the figures of notebook 06 plot.

Permutations are *gather* indices: ``shuffled = flat[perm]``, undone by ``flat[perm] = shuffled``
(:func:`apply_permutation`, :func:`invert_permutation`).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, replace

import numpy as np

__all__ = ["BURN_IN", "clear_caches", "BYTE_SCALE", "MapKey", "logistic_orbit", "henon_orbit", "orbit_bytes", "logistic_stream",
           "henon_stream", "sort_permutation", "cat_map_permutation", "apply_permutation", "invert_permutation",
           "bifurcation_data", "henon_attractor", "divergence"]

#: Iterations thrown away before an orbit is read (the transient).
BURN_IN = 1000
#: Orbit values are multiplied by this before the byte is taken (``floor(|x| * 1e14) mod 256``).
BYTE_SCALE = 1e14


# ------------------------------------------------------------------------------------------------------
# orbits
# ------------------------------------------------------------------------------------------------------

def _scalar(*values) -> bool:
    return all(np.ndim(v) == 0 for v in values)


def logistic_orbit(x0, r, n: int, burn_in: int = 0) -> np.ndarray:
    """``n`` values of the logistic map ``x <- r x (1 - x)`` after ``burn_in`` discarded steps.

    ``x0`` and ``r`` are numbers (one orbit: returns float64 (n,)) or arrays of one shape S (parallel
    orbits, "lanes": returns (n, *S)). The first returned value is the state after ``burn_in + 1`` steps.
    """
    n, burn_in = _counts(n, burn_in)
    if _scalar(x0, r):
        x, rr = float(x0), float(r)
        for _ in range(burn_in):
            x = rr * x * (1.0 - x)
        out = np.empty(n)
        for i in range(n):
            x = rr * x * (1.0 - x)
            out[i] = x
        return out
    x, rr = np.broadcast_arrays(np.asarray(x0, np.float64), np.asarray(r, np.float64))
    x = x.copy()
    for _ in range(burn_in):
        x = rr * x * (1.0 - x)
    out = np.empty((n,) + x.shape)
    for i in range(n):
        x = rr * x * (1.0 - x)
        out[i] = x
    return out


def henon_orbit(x0, y0, a, b, n: int, burn_in: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points (x, y) of the Henon map ``(x, y) <- (1 - a x^2 + y, b x)`` after ``burn_in`` steps.

    Numbers give one orbit (two float64 arrays (n,)); arrays give parallel orbits ((n, *S) each).
    """
    n, burn_in = _counts(n, burn_in)
    if _scalar(x0, y0, a, b):
        x, y, aa, bb = float(x0), float(y0), float(a), float(b)
        for _ in range(burn_in):
            x, y = 1.0 - aa * x * x + y, bb * x
        xs, ys = np.empty(n), np.empty(n)
        for i in range(n):
            x, y = 1.0 - aa * x * x + y, bb * x
            xs[i], ys[i] = x, y
        return xs, ys
    x, y, aa, bb = (v.copy() for v in np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (x0, y0, a, b))))
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(burn_in):
            x, y = 1.0 - aa * x * x + y, bb * x
        xs, ys = np.empty((n,) + x.shape), np.empty((n,) + x.shape)
        for i in range(n):
            x, y = 1.0 - aa * x * x + y, bb * x
            xs[i], ys[i] = x, y
    return xs, ys


def _counts(n, burn_in) -> tuple[int, int]:
    if int(n) != n or n < 0 or int(burn_in) != burn_in or burn_in < 0:
        raise ValueError(f"n and burn_in must be non-negative integers, got n={n!r}, burn_in={burn_in!r}")
    return int(n), int(burn_in)


def orbit_bytes(values) -> np.ndarray:
    """Key-stream bytes from orbit values: ``floor(|x| * 1e14) mod 256`` (uint8, same shape)."""
    v = np.asarray(values, np.float64)
    if not np.all(np.isfinite(v)):
        raise ValueError("the orbit is not finite (it escaped to infinity): choose other map parameters")
    return np.mod(np.floor(np.abs(v) * BYTE_SCALE), 256).astype(np.uint8)


# ------------------------------------------------------------------------------------------------------
# the key
# ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MapKey:
    """Parameters and initial conditions of the two maps: the secret of a chaotic cipher.

    Attributes:
        logistic_x0, logistic_r: initial value in (0, 1) and parameter in (3.57, 4] of the logistic map.
        henon_x0, henon_y0, henon_a, henon_b: initial point and parameters of the Henon map (the orbit
            must stay bounded: a near 1.4, b near 0.3).
        burn_in: transient steps thrown away before reading either orbit.

    Two keys that differ in any digit give unrelated streams (notebook 06 shows a change of 1e-15).
    ``key.replace(logistic_x0=...)`` makes a changed copy.
    """

    logistic_x0: float = 0.3784201695
    logistic_r: float = 3.9987654321
    henon_x0: float = 0.1273894510
    henon_y0: float = 0.2046188273
    henon_a: float = 1.4
    henon_b: float = 0.3
    burn_in: int = BURN_IN

    def __post_init__(self):
        for name in ("logistic_x0", "logistic_r", "henon_x0", "henon_y0", "henon_a", "henon_b"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
                    or not np.isfinite(value):
                raise TypeError(f"key field {name} must be a finite number, got {value!r}")
        if not 0.0 < self.logistic_x0 < 1.0:
            raise ValueError(f"logistic_x0 must lie in (0, 1), got {self.logistic_x0!r}")
        if not 3.57 < self.logistic_r <= 4.0:
            raise ValueError(f"logistic_r must lie in (3.57, 4], the chaotic range of the logistic map; "
                             f"got {self.logistic_r!r}")
        if not isinstance(self.burn_in, (int, np.integer)) or isinstance(self.burn_in, bool) or self.burn_in < 0:
            raise ValueError(f"burn_in must be a non-negative integer, got {self.burn_in!r}")

    def replace(self, **changes) -> "MapKey":
        """A copy with some fields changed (checked like a new key)."""
        unknown = set(changes) - set(asdict(self))
        if unknown:
            raise TypeError(f"unknown key field(s) {sorted(unknown)}; the fields are {list(asdict(self))}")
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)

    def logistic_stream(self, n: int) -> np.ndarray:
        """``n`` key-stream bytes from the logistic map (cached per key and length)."""
        return _logistic_stream(self.logistic_x0, self.logistic_r, int(n), self.burn_in).copy()

    def henon_stream(self, n: int) -> np.ndarray:
        """``n`` key-stream bytes from the Henon map's x coordinate."""
        return _henon_stream(self.henon_x0, self.henon_y0, self.henon_a, self.henon_b, int(n), self.burn_in).copy()

    def henon_permutation(self, n: int) -> np.ndarray:
        """A shuffle of ``n`` positions: the order that sorts ``n`` values of the Henon map's x coordinate."""
        return _henon_permutation(self.henon_x0, self.henon_y0, self.henon_a, self.henon_b, int(n),
                                  self.burn_in).copy()


def logistic_stream(x0: float, r: float, n: int, burn_in: int = BURN_IN) -> np.ndarray:
    """``n`` key-stream bytes (uint8) from the logistic orbit of ``(x0, r)``; refuses a periodic orbit."""
    orbit = logistic_orbit(x0, r, n, burn_in)
    _check_not_periodic(orbit, "logistic")
    return orbit_bytes(orbit)


def henon_stream(x0: float, y0: float, a: float, b: float, n: int, burn_in: int = BURN_IN) -> np.ndarray:
    """``n`` key-stream bytes (uint8) from the x coordinate of the Henon orbit; refuses an escaping orbit."""
    xs, _ = henon_orbit(x0, y0, a, b, n, burn_in)
    _check_bounded(xs)
    _check_not_periodic(xs, "Henon")
    return orbit_bytes(xs)


def _check_bounded(xs) -> None:
    if not np.all(np.isfinite(xs)) or (xs.size and np.abs(xs).max() > 10):
        raise ValueError("the Henon orbit escapes to infinity for this key: use parameters near a = 1.4, "
                         "b = 0.3 and a start near the attractor (|x|, |y| < 1)")


def _check_not_periodic(orbit, name) -> None:
    tail = orbit[-min(len(orbit), 64):]
    if len(tail) >= 8 and len(np.unique(tail)) < len(tail) // 2:
        raise ValueError(f"the {name} orbit of this key is periodic (it repeats values); choose another "
                         "initial value or parameter")


def clear_caches() -> None:
    """Forget the cached key streams and permutations, so that the next encryption generates them again
    (what a receiver without a cache pays: the benchmark times encryption this way)."""
    for cached in (_logistic_stream, _henon_stream, _henon_permutation):
        cached.cache_clear()


@functools.lru_cache(maxsize=32)
def _logistic_stream(x0, r, n, burn_in):
    return logistic_stream(x0, r, n, burn_in)


@functools.lru_cache(maxsize=32)
def _henon_stream(x0, y0, a, b, n, burn_in):
    return henon_stream(x0, y0, a, b, n, burn_in)


@functools.lru_cache(maxsize=32)
def _henon_permutation(x0, y0, a, b, n, burn_in):
    xs, _ = henon_orbit(x0, y0, a, b, n, burn_in)
    _check_bounded(xs)
    _check_not_periodic(xs, "Henon")
    return sort_permutation(xs)


# ------------------------------------------------------------------------------------------------------
# permutations
# ------------------------------------------------------------------------------------------------------

def sort_permutation(values) -> np.ndarray:
    """The gather permutation that sorts ``values`` (stable): a chaotic orbit gives a chaotic shuffle."""
    return np.argsort(np.asarray(values, np.float64), kind="stable").astype(np.int64)


def cat_map_permutation(size: int, p: int = 1, q: int = 1, rounds: int = 1) -> np.ndarray:
    """The generalised Arnold cat map on a ``size`` x ``size`` grid, ``rounds`` times, as a gather permutation.

    One round sends pixel (row i, column j) to ``((i + p j) mod N, (q i + (p q + 1) j) mod N)``; the matrix
    ``[[1, p], [q, pq + 1]]`` has determinant 1, so the map is a bijection of the grid. Returns ``perm``
    (int64, N*N) with ``scrambled.ravel() = image.ravel()[perm]``.
    """
    for name, value in (("size", size), ("p", p), ("q", q), ("rounds", rounds)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {value!r}")
    if size < 1 or rounds < 0 or p < 0 or q < 0:
        raise ValueError(f"size >= 1, rounds >= 0 and p, q >= 0 are needed, got size={size}, p={p}, q={q}, "
                         f"rounds={rounds}")
    n = int(size)
    i, j = np.divmod(np.arange(n * n, dtype=np.int64), n)
    for _ in range(int(rounds)):
        i, j = (i + p * j) % n, (q * i + (p * q + 1) * j) % n
    destination = i * n + j                  # where each source pixel goes
    return invert_permutation(destination)   # the gather form: scrambled[d] = flat[source of d]


def invert_permutation(perm) -> np.ndarray:
    """The inverse gather permutation: ``flat[perm][inverse] == flat``."""
    perm = np.asarray(perm, np.int64)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size, dtype=np.int64)
    return inverse


def apply_permutation(images, perm, inverse: bool = False) -> np.ndarray:
    """Shuffle (or, with ``inverse``, unshuffle) the pixels of a batch (N, H, W) with a gather permutation."""
    array = np.asarray(images)
    flat = array.reshape(array.shape[0], -1)
    if flat.shape[1] != len(perm):
        raise ValueError(f"the permutation is for {len(perm)} pixels, the images have {flat.shape[1]}")
    if inverse:
        out = np.empty_like(flat)
        out[:, perm] = flat
    else:
        out = flat[:, perm]
    return out.reshape(array.shape)


# ------------------------------------------------------------------------------------------------------
# what the figures show
# ------------------------------------------------------------------------------------------------------

def bifurcation_data(r_values, keep: int = 200, burn_in: int = 500, x0: float = 0.5 + 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Points (r, x) of the logistic bifurcation diagram: for each r, ``keep`` orbit values after ``burn_in``.

    All values of r iterate at once (lanes). Returns two flat float64 arrays for a scatter plot.
    """
    r = np.asarray(r_values, np.float64).ravel()
    xs = logistic_orbit(np.full(r.shape, x0), r, keep, burn_in)
    return np.broadcast_to(r, xs.shape).ravel(), xs.ravel()


def henon_attractor(n: int = 20000, x0: float = 0.1, y0: float = 0.1, a: float = 1.4, b: float = 0.3,
                    burn_in: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the Henon attractor (after a short transient)."""
    return henon_orbit(x0, y0, a, b, n, burn_in)


def divergence(first, second) -> np.ndarray:
    """``|first - second|`` step by step: how fast two orbits from nearby keys separate."""
    return np.abs(np.asarray(first, np.float64) - np.asarray(second, np.float64))
