"""LSB substitution: the classic hiding baseline every learned hider is measured against.

Colour secret in a colour cover (``bits=4``): the container keeps the cover's top 4 bits and stores the
secret's top 4 bits in its low 4 bits. The revealed secret is those 4 bits shifted back up, plus the
midpoint of the lost range (+8 for 4 bits), which halves the error: about 31.8 dB for the cover and
34.8 dB for the secret on images whose low bits are uniform (natural images come close).

Grey secret in a colour cover: 8 bits fit losslessly into 3 + 3 + 2 low bits of R, G and B. The secret
comes back exactly; the cover loses at most 7 grey levels per channel (about 39 dB).

The LSB functions take and return uint8 arrays (an image file's pixels) of shape (H, W, C) or (N, H, W, C).
"""

from __future__ import annotations

import numpy as np

__all__ = ["lsb_hide", "lsb_reveal", "lsb_quality", "lsb_evaluate"]

_GREY_SPLIT = (3, 3, 2)  # low bits of R, G, B that carry a grey secret's bits, most significant first


def _check(array, name: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8 (an 8-bit image), got {array.dtype}; "
                        "for floats in [0, 1] use utils.plotting.to_uint8")
    if array.ndim not in (3, 4) or array.shape[-1] not in (1, 3):
        raise ValueError(f"{name} must be (H, W, C) or (N, H, W, C) with C = 1 or 3, got shape {array.shape}")
    return array


def lsb_hide(secret, cover, bits: int = 4) -> np.ndarray:
    """Hide ``secret`` in the low bits of ``cover``.

    A colour secret (C = 3) uses ``bits`` low bits per channel (1-7); a grey secret (C = 1) uses the
    lossless 3-3-2 split and ignores ``bits``.
    """
    secret, cover = _check(secret, "secret"), _check(cover, "cover")
    if cover.shape[-1] != 3:
        raise ValueError(f"cover must have 3 channels, got shape {cover.shape}")
    if secret.shape[:-1] != cover.shape[:-1]:
        raise ValueError(f"secret and cover must have the same size, got {secret.shape} and {cover.shape}")
    if secret.shape[-1] == 1:
        grey = secret[..., 0]
        out = cover.copy()
        shift = 8
        for channel, n in enumerate(_GREY_SPLIT):
            shift -= n
            part = (grey >> shift) & ((1 << n) - 1)
            out[..., channel] = (cover[..., channel] & (0xFF ^ ((1 << n) - 1))) | part
        return out
    if not 1 <= bits <= 7:
        raise ValueError(f"bits must be between 1 and 7, got {bits!r}")
    keep = 0xFF ^ ((1 << bits) - 1)
    return ((cover & keep) | (secret >> (8 - bits))).astype(np.uint8)


def lsb_reveal(container, bits: int = 4, secret_channels: int = 3, midpoint: bool = True) -> np.ndarray:
    """Recover the secret from an LSB container (see :func:`lsb_hide`).

    For colour secrets, ``midpoint`` adds half of the lost range (``2**(7 - bits)``), the best guess of
    the bits that were dropped. For grey secrets (``secret_channels=1``) the result is exact.
    """
    container = _check(container, "container")
    if secret_channels == 1:
        grey = np.zeros(container.shape[:-1], np.uint8)
        shift = 8
        for channel, n in enumerate(_GREY_SPLIT):
            shift -= n
            grey |= ((container[..., channel] & ((1 << n) - 1)) << shift).astype(np.uint8)
        return grey[..., None]
    if secret_channels != 3:
        raise ValueError(f"secret_channels must be 1 or 3, got {secret_channels!r}")
    if not 1 <= bits <= 7:
        raise ValueError(f"bits must be between 1 and 7, got {bits!r}")
    low = (container & ((1 << bits) - 1)).astype(np.uint16) << (8 - bits)
    if midpoint:
        low = low + (1 << (7 - bits))
    return np.minimum(low, 255).astype(np.uint8)


def lsb_quality(secret, cover, bits: int = 4) -> dict:
    """:func:`utils.metrics.hiding_quality` of LSB hiding for float [0, 1] batches (quantised to 8 bits first)."""
    from ..metrics import hiding_quality
    from ..plotting import to_uint8

    s8, c8 = to_uint8(secret), to_uint8(cover)
    container = lsb_hide(s8, c8, bits=bits)
    return hiding_quality(c8, container, s8, lsb_reveal(container, bits=bits, secret_channels=s8.shape[-1]))


def lsb_evaluate(pairs, bits: int = 4) -> dict:
    """LSB hiding measured like :func:`utils.hiding.training.evaluate`: ``means``, ``per_pair`` and ``intervals``
    (95 % bootstrap over the pairs' sources when ``pairs`` is a :class:`utils.data.PairSet`). An exact secret
    (grey 3-3-2) has infinite PSNR; its interval then reads "exact"."""
    from ..data import PairSet
    from ..metrics import per_pair_quality, summarize
    from ..plotting import to_uint8

    secrets, covers = (pairs.secrets, pairs.covers) if isinstance(pairs, PairSet) else pairs
    groups = pairs.groups if isinstance(pairs, PairSet) else None
    s8, c8 = to_uint8(secrets), to_uint8(covers)
    container = lsb_hide(s8, c8, bits=bits)
    per_pair = per_pair_quality(c8, container, s8, lsb_reveal(container, bits=bits, secret_channels=s8.shape[-1]))
    return {"means": {k: float(np.mean(v)) for k, v in per_pair.items()}, "per_pair": per_pair,
            "intervals": summarize(per_pair, groups)}
