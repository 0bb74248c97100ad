"""Lossy channels a container may cross on its way: JPEG, resizing, noise.

A hidden image is only as good as the channel between sender and receiver. Saved as PNG, a container
arrives bit for bit; uploaded to a web form, a messaging service or a PACS viewer's JPEG export, it is
re-encoded. Two views of the same channels live here:

* **the real channel** (NumPy and Pillow, for evaluation): :func:`jpeg` runs libjpeg through Pillow,
  :func:`resize` scales down and back with Pillow's bilinear filter, :func:`noise` adds Gaussian noise to
  the 8-bit image; :func:`apply` takes a :class:`Channel` such as ``Channel("jpeg", 75)``. Every output is
  what a receiver would decode: float32 in [0, 1], on the 8-bit grid.
* **a differentiable imitation** (Keras ops, for training): :class:`DiffJPEG` follows the JPEG baseline
  encoder step by step -- RGB to YCbCr, 4:2:0 chroma averaging, 8x8 block DCT, division by the IJG
  quality-scaled tables, rounding, and back with libjpeg's "fancy" chroma upsampling -- where each rounding
  is exact in the forward pass and the identity in the backward pass (straight-through). It reproduces
  Pillow's decoded images to within a few grey levels (:func:`imitation_error` measures how closely).
  :class:`LossyChannel` draws one channel per image in every training batch (lossless 8 bits, JPEG of a
  random quality, down-and-up scaling, noise), so a hider trained through it meets all of them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..runtime import quiet_tensorflow

quiet_tensorflow()

import keras  # noqa: E402
from keras import ops  # noqa: E402

from ..plotting import to_uint8  # noqa: E402

__all__ = ["Channel", "CHANNELS", "apply", "jpeg", "resize", "noise", "quality_table", "DiffJPEG", "LossyChannel",
           "imitation_error", "dct_matrix", "LUMA", "CHROMA"]

#: The example quantisation tables of the JPEG standard (ITU-T T.81, Annex K), luminance and chrominance.
LUMA = np.array([[16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
                 [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
                 [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
                 [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], np.float32)
CHROMA = np.full((8, 8), 99.0, np.float32)
CHROMA[:4, :4] = [[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99], [47, 66, 99, 99]]


def quality_table(table: np.ndarray, quality: int) -> np.ndarray:
    """The IJG (libjpeg) table for a quality 1-100: scale 5000/q below 50, 200 - 2q from 50, clipped to 1-255."""
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"JPEG quality must be 1-100, got {quality!r}")
    q = int(quality)
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return np.clip(np.floor((table * scale + 50) / 100), 1, 255).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------
# the real channels (evaluation)
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Channel:
    """One channel: ``kind`` is ``"png"`` (lossless), ``"jpeg"`` (level: quality 1-100), ``"resize"`` (level:
    scale factor in (0, 1), down and back up) or ``"noise"`` (level: standard deviation in grey levels)."""

    kind: str
    level: float | None = None

    def __post_init__(self):
        if self.kind not in ("png", "jpeg", "resize", "noise"):
            raise ValueError(f"channel kind must be png, jpeg, resize or noise, got {self.kind!r}")
        if self.kind != "png" and self.level is None:
            raise ValueError(f"a {self.kind} channel needs a level, e.g. Channel({self.kind!r}, "
                             f"{ {'jpeg': 75, 'resize': 0.5, 'noise': 2}[self.kind]!r})")

    @property
    def name(self) -> str:
        if self.kind == "png":
            return "PNG (lossless)"
        unit = {"jpeg": "JPEG {:g}", "resize": "resize x{:g}", "noise": "noise sigma {:g}"}[self.kind]
        return unit.format(self.level)


#: The channels of the course's robustness curves.
CHANNELS = ([Channel("png")] + [Channel("jpeg", q) for q in (100, 95, 90, 75, 50)]
            + [Channel("resize", s) for s in (0.75, 0.5)] + [Channel("noise", s) for s in (1.0, 2.0, 4.0)])


def _uint8(images) -> np.ndarray:
    x = np.asarray(images)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images must be a batch (N, H, W, 1 or 3), got shape {x.shape}")
    if x.dtype == np.uint8:
        return x
    return to_uint8(x)


def _pil(image: np.ndarray):
    from PIL import Image

    return Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image, "L" if image.shape[-1] == 1 else "RGB")


def _back(pil, channels: int) -> np.ndarray:
    a = np.asarray(pil, np.uint8)
    return a[..., None] if channels == 1 else a


def jpeg(images, quality: int, subsampling: int = 2) -> np.ndarray:
    """Encode each image as a JPEG of ``quality`` with Pillow (libjpeg) and decode it: float32 in [0, 1].

    ``subsampling`` 2 is 4:2:0 chroma (Pillow's default for RGB), 0 is 4:4:4. Input: float in [0, 1] or uint8.
    """
    x = _uint8(images)
    quality_table(LUMA, quality)  # checks the range
    out = np.empty_like(x)
    for i, image in enumerate(x):
        buffer = io.BytesIO()
        _pil(image).save(buffer, format="JPEG", quality=int(quality), subsampling=subsampling)
        from PIL import Image

        out[i] = _back(Image.open(io.BytesIO(buffer.getvalue())), x.shape[-1])
    return out.astype(np.float32) / 255.0


def resize(images, scale: float) -> np.ndarray:
    """Scale each image down by ``scale`` and back to its size (Pillow, bilinear), on 8 bits: float32 in [0, 1]."""
    from PIL import Image

    if not 0 < float(scale) <= 1:
        raise ValueError(f"resize scale must be in (0, 1], got {scale!r}")
    x = _uint8(images)
    h, w = x.shape[1:3]
    small = (max(1, round(w * scale)), max(1, round(h * scale)))
    out = np.stack([_back(_pil(im).resize(small, Image.BILINEAR).resize((w, h), Image.BILINEAR), x.shape[-1])
                    for im in x])
    return out.astype(np.float32) / 255.0


def noise(images, sigma: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian noise of ``sigma`` grey levels to the 8-bit images and store them on 8 bits again."""
    x = _uint8(images).astype(np.float64)
    noisy = x + np.random.default_rng(seed).normal(0.0, float(sigma), x.shape)
    return (np.clip(np.round(noisy), 0, 255) / 255.0).astype(np.float32)


def apply(images, channel: Channel, seed: int = 0) -> np.ndarray:
    """What the receiver decodes after ``channel``: float32 in [0, 1] on the 8-bit grid."""
    if channel.kind == "png":
        return _uint8(images).astype(np.float32) / 255.0
    if channel.kind == "jpeg":
        return jpeg(images, int(channel.level))
    if channel.kind == "resize":
        return resize(images, float(channel.level))
    return noise(images, float(channel.level), seed)


# ---------------------------------------------------------------------------------------------------------
# the differentiable imitation (training)
# ---------------------------------------------------------------------------------------------------------

def _straight_round(x):
    """Rounding: exact forward, identity backward."""
    return x + ops.stop_gradient(ops.round(x) - x)


def _stored(x):
    """An image in [0, 1] as an 8-bit file stores it (clipped, rounded straight-through), back on [0, 1]."""
    return _straight_round(ops.clip(x, 0.0, 1.0) * 255.0) / 255.0


def dct_matrix() -> np.ndarray:
    """The orthonormal 8x8 DCT-II matrix D of JPEG: a block's coefficients are D B D^T."""
    k = np.arange(8)
    d = np.sqrt(2 / 8) * np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / 16)
    d[0] /= np.sqrt(2)
    return d


def _blocks(plane):
    """(N, H, W) -> (N, H/8, W/8, 8, 8)."""
    n, h, w = ops.shape(plane)
    return ops.transpose(ops.reshape(plane, (-1, h // 8, 8, w // 8, 8)), (0, 1, 3, 2, 4))


def _unblocks(blocks, h, w):
    return ops.reshape(ops.transpose(blocks, (0, 1, 3, 2, 4)), (-1, h, w))


def _fancy_upsample(c):
    """libjpeg's h2v2 "fancy" upsampling of a chroma plane (N, h, w) -> (N, 2h, 2w): a triangle filter,
    each output pixel 9/16 of its own sample, 3/16 of each nearer neighbour and 1/16 of the diagonal one."""
    up = ops.concatenate([c[:, :1], c[:, :-1]], axis=1)
    down = ops.concatenate([c[:, 1:], c[:, -1:]], axis=1)
    rows = [3 * c + up, 3 * c + down]  # output rows 2i and 2i + 1, times 4
    out_rows = []
    for r in rows:
        left = ops.concatenate([r[:, :, :1], r[:, :, :-1]], axis=2)
        right = ops.concatenate([r[:, :, 1:], r[:, :, -1:]], axis=2)
        even, odd = (3 * r + left) / 16.0, (3 * r + right) / 16.0
        out_rows.append(ops.reshape(ops.stack([even, odd], axis=-1), (-1, ops.shape(r)[1], 2 * ops.shape(r)[2])))
    n, h, w2 = ops.shape(out_rows[0])
    return ops.reshape(ops.stack(out_rows, axis=2), (-1, 2 * h, w2))


@keras.saving.register_keras_serializable(package="medstego")
class DiffJPEG(keras.layers.Layer):
    """JPEG compression and decompression of RGB images in [0, 1] as Keras ops, per-image quality.

    ``call(x, quality)`` with ``x`` (N, H, W, 3), H and W multiples of 16, and ``quality`` (N,) in 1-100.
    Forward: the baseline encoder's arithmetic (rounded to 8 bits on the way in and out, coefficients
    rounded after quantisation); backward: every rounding is the identity. See the module docstring.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dct = dct_matrix().astype(np.float32)

    def build(self, input_shape):
        self.built = True

    def _code(self, plane, table):
        d = ops.convert_to_tensor(self.dct)
        blocks = _blocks(plane - 128.0)
        coeffs = ops.einsum("ij,nabjk,lk->nabil", d, blocks, d)
        coeffs = _straight_round(coeffs / table) * table
        return ops.einsum("ji,nabjk,kl->nabil", d, coeffs, d) + 128.0

    def call(self, x, quality):
        h, w = ops.shape(x)[1], ops.shape(x)[2]
        x = _straight_round(ops.clip(x, 0.0, 1.0) * 255.0)
        r, g, b = x[..., 0], x[..., 1], x[..., 2]
        y = 0.299 * r + 0.587 * g + 0.114 * b
        cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128.0
        cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128.0
        q = ops.cast(ops.reshape(quality, (-1, 1, 1, 1, 1)), "float32")
        scale = ops.where(q < 50, 5000.0 / q, 200.0 - 2.0 * q)
        luma = ops.clip(ops.floor((ops.convert_to_tensor(LUMA) * scale + 50.0) / 100.0), 1.0, 255.0)
        chroma = ops.clip(ops.floor((ops.convert_to_tensor(CHROMA) * scale + 50.0) / 100.0), 1.0, 255.0)
        y = _unblocks(self._code(y, luma), h, w)
        planes = []
        for c in (cb, cr):
            small = ops.reshape(c, (-1, h // 2, 2, w // 2, 2))
            small = _straight_round(ops.mean(small, axis=(2, 4)))
            coded = _unblocks(self._code(small, chroma), h // 2, w // 2)
            planes.append(_fancy_upsample(coded) - 128.0)
        cb, cr = planes
        rgb = ops.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=-1)
        return _straight_round(ops.clip(rgb, 0.0, 255.0)) / 255.0


def _resize_back(x, scale: float):
    h, w = ops.shape(x)[1], ops.shape(x)[2]
    small = ops.image.resize(x, (max(1, round(h * scale)), max(1, round(w * scale))), interpolation="bilinear",
                             antialias=True)
    return ops.image.resize(small, (h, w), interpolation="bilinear")


@keras.saving.register_keras_serializable(package="medstego")
class LossyChannel(keras.layers.Layer):
    """The training channel of a robust hider: one channel drawn per image of every batch.

    With probabilities ``weights`` (lossless, JPEG, resize, noise): the container rounded to 8 bits; a JPEG
    (:class:`DiffJPEG`) of a quality drawn uniformly from ``jpeg_range``; scaled down by a factor from
    ``scales`` and back; Gaussian noise of up to ``max_noise`` (on [0, 1]) then rounded. Roundings are
    straight-through. Outside training the channel passes the container unchanged, as
    :class:`utils.hiding.stego.ContainerChannel` does.
    """

    def __init__(self, jpeg_range=(50, 95), scales=(0.5, 0.75), max_noise: float = 4 / 255,
                 weights=(0.15, 0.55, 0.15, 0.15), seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.jpeg_range, self.scales = tuple(int(q) for q in jpeg_range), tuple(float(s) for s in scales)
        self.max_noise, self.probabilities, self.seed = float(max_noise), tuple(float(w) for w in weights), int(seed)
        if len(self.probabilities) != 4 or min(self.probabilities) < 0 or sum(self.probabilities) <= 0:
            raise ValueError(f"weights are 4 non-negative probabilities (lossless, jpeg, resize, noise), got {weights!r}")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.jpeg = DiffJPEG()

    def build(self, input_shape):
        self.jpeg.build(input_shape)
        self.built = True

    def call(self, x, training=False):
        if not training:
            return x
        n = ops.shape(x)[0]
        u = keras.random.uniform((n,), seed=self.seed_generator)
        lo, hi = self.jpeg_range
        quality = ops.floor(lo + keras.random.uniform((n,), seed=self.seed_generator) * (hi - lo + 1))
        pick = ops.floor(keras.random.uniform((n,), seed=self.seed_generator) * len(self.scales))
        sigma = keras.random.uniform((n, 1, 1, 1), seed=self.seed_generator) * self.max_noise
        rounded = _stored(x)
        coded = self.jpeg(x, quality)
        resized = rounded
        for i, s in enumerate(self.scales):
            resized = ops.where(ops.reshape(pick, (-1, 1, 1, 1)) == i, _stored(_resize_back(rounded, s)), resized)
        noisy = _stored(rounded + keras.random.normal(ops.shape(x), seed=self.seed_generator) * sigma)
        edges = np.cumsum(self.probabilities) / sum(self.probabilities)
        u = ops.reshape(u, (-1, 1, 1, 1))
        return ops.where(u < edges[0], rounded, ops.where(u < edges[1], coded, ops.where(u < edges[2], resized, noisy)))

    def get_config(self):
        return {**super().get_config(), "jpeg_range": self.jpeg_range, "scales": self.scales,
                "max_noise": self.max_noise, "weights": self.probabilities, "seed": self.seed}


def imitation_error(images, quality: int) -> dict:
    """How closely :class:`DiffJPEG` follows Pillow on ``images`` (N, H, W, 3): PSNR (dB) between the two
    decoded images, per image, and the largest difference in grey levels."""
    from ..metrics import psnr

    real = _uint8(jpeg(images, quality))
    ours = _uint8(ops.convert_to_numpy(DiffJPEG()(ops.convert_to_tensor(_uint8(images).astype(np.float32) / 255.0),
                                                  ops.full((len(real),), float(quality)))))
    return {"psnr": np.array([psnr(a, b) for a, b in zip(real, ours)]),
            "max_difference": int(np.abs(real.astype(int) - ours.astype(int)).max())}
