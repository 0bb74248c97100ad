"""Quantisation index modulation (QIM) in block-DCT coefficients: the classic robust hiding baseline.

LSB hiding writes the secret where JPEG looks first: the low bits, which any re-encoding rewrites. The
classic answer to a lossy channel (Chen and Wornell's quantisation index modulation, in the DCT domain
that JPEG itself uses) trades payload for robustness:

1. **Payload.** The grey secret is scaled down by ``factor`` (4: a 64x64 secret becomes 16x16) and kept
   at ``bits`` bits per pixel (4): 1024 bits for a 64x64 secret, 0.25 bits per cover pixel, against the 8
   bits per pixel that the learned hiders and LSB 3-3-2 claim to carry. The receiver scales it back up
   (bicubic), so the secret's quality is bounded by what the downscaling keeps, channel or no channel.
2. **Embedding.** The cover's luminance Y is cut into 8x8 blocks and transformed by JPEG's DCT. Each bit
   moves one low-frequency coefficient (zig-zag positions 1 to ``per_block``) onto one of two interleaved
   lattices of step ``delta``: ``c' = delta * round((c - b delta / 2) / delta) + b delta / 2``. The colour
   is kept (Cb, Cr unchanged) and the container is stored on 8 bits.
3. **Extraction.** The receiver takes the same coefficients and reads, for each, the nearer lattice.

A JPEG of quality q moves a coefficient by up to half of its quantisation step (plus the rounding of
the colour conversion); while the move stays below ``delta / 4`` the bit survives. At quality 75 the
luminance steps of the coefficients used here are 5 to 12, so ``delta`` = 32 keeps most bits. Its cost
is a cover error of about ``delta / sqrt(12)`` in each coefficient used. Most significant bits go to the
lowest frequencies. No error-correcting code is used: a flipped bit costs what it costs, and
:mod:`utils.hiding.robustness` measures how much. Resizing moves the 8x8 grid, which QIM cannot follow.
"""

from __future__ import annotations

import numpy as np

from ..plotting import to_uint8
from .channel import dct_matrix

__all__ = ["QIM", "zigzag"]


def zigzag(n: int = 8) -> list[tuple[int, int]]:
    """The JPEG zig-zag order of an n x n block's (row, column) positions."""
    return sorted(((i, j) for i in range(n) for j in range(n)),
                  key=lambda p: (p[0] + p[1], p[0] if (p[0] + p[1]) % 2 else p[1]))


def _ycc(rgb):
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return y, -0.168736 * r - 0.331264 * g + 0.5 * b, 0.5 * r - 0.418688 * g - 0.081312 * b


def _rgb(y, cb, cr):
    return np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=-1)


class QIM:
    """Dithered QIM of a downscaled grey secret in the cover's luminance DCT (see the module docstring).

    Args:
        factor: the secret is scaled down by this factor before it is sent.
        bits: bits per pixel of the downscaled secret (1-8).
        delta: the lattice step, in grey levels of the DCT coefficient.
        per_block: coefficients used per 8x8 block (zig-zag positions 1 to ``per_block``; DC is left alone).
    """

    def __init__(self, factor: int = 4, bits: int = 4, delta: float = 32.0, per_block: int = 16):
        if int(factor) < 1 or not 1 <= int(bits) <= 8 or float(delta) <= 0 or not 1 <= int(per_block) <= 63:
            raise ValueError(f"QIM needs factor >= 1, bits 1-8, delta > 0 and per_block 1-63; got {factor!r}, "
                             f"{bits!r}, {delta!r}, {per_block!r}")
        self.factor, self.bits, self.delta, self.per_block = int(factor), int(bits), float(delta), int(per_block)
        self.positions = zigzag()[1:1 + self.per_block]

    def payload_bits(self, size: int) -> int:
        """Bits of a ``size`` x ``size`` secret."""
        return (size // self.factor) ** 2 * self.bits

    def capacity_bits(self, size: int) -> int:
        """Bits a ``size`` x ``size`` cover carries."""
        return (size // 8) ** 2 * self.per_block

    def describe(self, size: int = 64) -> str:
        return (f"QIM in block DCT: secret {size // self.factor}x{size // self.factor} at {self.bits} bits "
                f"({self.payload_bits(size)} bits, {self.payload_bits(size) / size ** 2:.2f} per cover pixel), "
                f"{self.per_block} coefficients per 8x8 block, step {self.delta:g}")

    def _check(self, secret, cover):
        secret, cover = np.asarray(secret), np.asarray(cover)
        if secret.dtype != np.uint8 or cover.dtype != np.uint8:
            raise TypeError(f"secret and cover must be uint8 images, got {secret.dtype} and {cover.dtype}; "
                            "for floats in [0, 1] use utils.plotting.to_uint8")
        if secret.ndim != 4 or secret.shape[-1] != 1 or cover.ndim != 4 or cover.shape[-1] != 3:
            raise ValueError(f"secret must be (N, H, W, 1) and cover (N, H, W, 3), got {secret.shape} and {cover.shape}")
        if secret.shape[:3] != cover.shape[:3]:
            raise ValueError(f"secret and cover must have the same batch and size, got {secret.shape} and {cover.shape}")
        size = cover.shape[1]
        if cover.shape[1] != cover.shape[2] or size % 8 or size % self.factor:
            raise ValueError(f"QIM needs square images whose side is a multiple of 8 and of factor {self.factor}, "
                             f"got {cover.shape[1]}x{cover.shape[2]}")
        if self.payload_bits(size) > self.capacity_bits(size):
            raise ValueError(f"{self.payload_bits(size)} secret bits do not fit in {self.capacity_bits(size)}; "
                             "raise factor or per_block, or lower bits")
        return secret, cover

    def _secret_bits(self, secret: np.ndarray) -> np.ndarray:
        from PIL import Image

        small = secret.shape[1] // self.factor
        codes = np.stack([np.asarray(Image.fromarray(s[..., 0]).resize((small, small), Image.BOX)) for s in secret])
        codes = codes.astype(np.int64) >> (8 - self.bits)
        # bit planes, most significant first, each plane in raster order
        return np.stack([(codes >> (self.bits - 1 - k)) & 1 for k in range(self.bits)], axis=1).reshape(len(secret), -1)

    def _coefficients(self, y: np.ndarray):
        n, size = y.shape[0], y.shape[1]
        d = dct_matrix()
        blocks = y.reshape(n, size // 8, 8, size // 8, 8).transpose(0, 1, 3, 2, 4) - 128.0
        return np.einsum("ij,nabjk,lk->nabil", d, blocks, d)

    def _slots(self):
        """Slot order: coefficient position first (low frequencies take the most significant bits), then block."""
        rows, cols = zip(*self.positions)
        return np.array(rows), np.array(cols)

    def hide(self, secret, cover, rounds: int = 4) -> np.ndarray:
        """Containers (N, H, W, 3) uint8 for uint8 secrets (N, H, W, 1) and covers (N, H, W, 3).

        Storing on 8 bits clips pixels at 0 and 255, which can pull a coefficient off its lattice; the
        embedding is repeated on the stored image (``rounds`` times at most) until every bit reads back."""
        secret, cover = self._check(secret, cover)
        bits = self._secret_bits(secret)
        container = cover
        for _ in range(max(1, int(rounds))):
            container = self._embed(bits, container)
            if np.array_equal(self._read_bits(container), bits):
                break
        return container

    def _embed(self, bits: np.ndarray, cover: np.ndarray) -> np.ndarray:
        n, size = cover.shape[0], cover.shape[1]
        y, cb, cr = _ycc(cover.astype(np.float64))
        coeffs = self._coefficients(y)
        rows, cols = self._slots()
        flat = coeffs[:, :, :, rows, cols].transpose(0, 3, 1, 2).reshape(n, -1)  # position-major
        b = np.zeros_like(flat)
        b[:, :bits.shape[1]] = bits
        used = np.zeros(flat.shape[1], bool)
        used[:bits.shape[1]] = True
        offset = b * self.delta / 2
        flat = np.where(used, self.delta * np.round((flat - offset) / self.delta) + offset, flat)
        coeffs[:, :, :, rows, cols] = flat.reshape(n, len(rows), size // 8, size // 8).transpose(0, 2, 3, 1)
        d = dct_matrix()
        y = np.einsum("ji,nabjk,kl->nabil", d, coeffs, d).transpose(0, 1, 3, 2, 4).reshape(n, size, size) + 128.0
        return np.clip(np.round(_rgb(y, cb, cr)), 0, 255).astype(np.uint8)

    def _read_bits(self, container: np.ndarray) -> np.ndarray:
        """The payload's bits (N, payload) read from uint8 containers: for each slot, the nearer lattice."""
        n, size = container.shape[0], container.shape[1]
        rows, cols = self._slots()
        flat = self._coefficients(_ycc(container.astype(np.float64))[0])[:, :, :, rows, cols]
        flat = flat.transpose(0, 3, 1, 2).reshape(n, -1)[:, :self.payload_bits(size)]
        dist0 = np.abs(flat - self.delta * np.round(flat / self.delta))
        shifted = flat - self.delta / 2
        dist1 = np.abs(shifted - self.delta * np.round(shifted / self.delta))
        return (dist1 < dist0).astype(np.int64)

    def reveal(self, container, secret_size: int | None = None) -> np.ndarray:
        """Revealed grey secrets (N, H, W, 1) uint8 from received containers (uint8, or float in [0, 1])."""
        from PIL import Image

        x = np.asarray(container)
        if x.dtype != np.uint8:
            x = to_uint8(x)
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"container must be (N, H, W, 3), got {x.shape}")
        n, size = x.shape[0], x.shape[1]
        small = size // self.factor
        bits = self._read_bits(x).reshape(n, self.bits, small * small)
        codes = sum(bits[:, k] << (self.bits - 1 - k) for k in range(self.bits))
        levels = (codes << (8 - self.bits)) + (1 << (7 - self.bits) if self.bits < 8 else 0)
        levels = levels.reshape(n, small, small).astype(np.uint8)
        out = secret_size or size
        return np.stack([np.asarray(Image.fromarray(s).resize((out, out), Image.BICUBIC)) for s in levels])[..., None]
