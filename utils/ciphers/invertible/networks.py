"""The invertible encryption network's configuration and its layers: coupling blocks P and Q around the DRPE masks."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..drpe import DEFAULT_KEY, check_key, drpe_decrypt, drpe_encrypt, mask_tensors

#: Where the course's trained models live.

@dataclass
class InvertibleConfig:
    """Everything that defines a model (stored in its model card).

    Attributes:
        image_size: the side the model is trained and used at.
        key: the DRPE key (seeds both phase masks).
        pre_blocks, post_blocks: coupling blocks before and after the optics.
        width: width of the coupling blocks' subnets.
        clamp: bound of the coupling blocks' log-scales.
        seed: seed of the initial weights and of the training batches.
        learning_rate: Adam's step size.
        weight_gauss, weight_correlation, weight_white, weight_energy: loss weights (see
            :func:`training_model`).
    """

    image_size: int = 64
    key: int = DEFAULT_KEY
    pre_blocks: int = 4
    post_blocks: int = 4
    width: int = 16
    clamp: float = 2.0
    seed: int = 0
    learning_rate: float = 1e-3
    weight_gauss: float = 1.0
    weight_correlation: float = 1.0
    weight_white: float = 0.1
    weight_energy: float = 0.1


def _networks():
    """The Keras model class, defined on first use (so that importing this module does not import Keras)."""
    global _InvertibleNet
    if "_InvertibleNet" in globals():
        return _InvertibleNet
    import keras
    from keras import ops

    from ...layers.coupling import AffineCoupling
    from ...layers.wavelets import haar, inverse_haar

    class AlternatingCouplings(keras.layers.Layer):
        """Affine coupling blocks (:class:`utils.layers.coupling.AffineCoupling`) on two parts of equal width
        that swap roles from one block to the next, so that each part is rescaled in turn (in a single
        two-sided block only the second part is; the first is only shifted)."""

        def __init__(self, channels: int, blocks: int, width: int, clamp: float, **kwargs):
            super().__init__(**kwargs)
            self.blocks = [AffineCoupling(channels, channels, width, clamp, name=f"coupling_{i + 1}")
                           for i in range(blocks)]

        def call(self, inputs, reverse: bool = False):
            a, b = inputs
            order = list(enumerate(self.blocks))
            for i, block in (reversed(order) if reverse else order):
                if i % 2:
                    b, a = block((b, a), reverse=reverse)
                else:
                    a, b = block((a, b), reverse=reverse)
            return a, b

    class InvertibleNetLayers(keras.Model):
        """Pre-network ``P`` and post-network ``Q`` (coupling blocks); DRPE sits between them."""

        def __init__(self, config: InvertibleConfig, **kwargs):
            super().__init__(name="invertible_encryption_net", **kwargs)
            c = config
            self.pre = AlternatingCouplings(2, c.pre_blocks, c.width, c.clamp, name="pre") if c.pre_blocks else None
            self.post = AlternatingCouplings(4, c.post_blocks, c.width, c.clamp, name="post") if c.post_blocks else None

        # P: (N, H, W) -> (N, H, W)
        def pre_forward(self, f):
            if self.pre is None:
                return f
            x = haar(f[..., None])
            a, b = self.pre((x[..., :2], x[..., 2:]))
            return inverse_haar(ops.concatenate([a, b], axis=-1))[..., 0]

        def pre_inverse(self, z):
            if self.pre is None:
                return z
            y = haar(z[..., None])
            a, b = self.pre((y[..., :2], y[..., 2:]), reverse=True)
            return inverse_haar(ops.concatenate([a, b], axis=-1))[..., 0]

        # Q: (re, im) each (N, H, W) -> (N, H, W, 2)
        def post_forward(self, re, im):
            if self.post is None:
                return ops.stack([re, im], axis=-1)
            a, b = self.post((haar(re[..., None]), haar(im[..., None])))  # the four sub-bands of each part
            return ops.concatenate([inverse_haar(a), inverse_haar(b)], axis=-1)

        def post_inverse(self, y):
            if self.post is None:
                return y[..., 0], y[..., 1]
            a, b = self.post((haar(y[..., :1]), haar(y[..., 1:])), reverse=True)
            return inverse_haar(a)[..., 0], inverse_haar(b)[..., 0]

        def call(self, f):
            z = self.pre_forward(f)
            return self.post_forward(z, ops.zeros_like(z))  # builds both stacks (no optics)

    _InvertibleNet = InvertibleNetLayers
    return _InvertibleNet


class InvertibleNet:
    """The invertible encryption network of one configuration: ``P``, the DRPE masks, ``Q``.

    ``encode(f)`` -> ``(z, y)`` (the pre-network's output and the ciphertext channels, (N, H, W, 2));
    ``decode(y)`` -> f. Both take and return backend tensors (NumPy in, tensors out), so that they can be
    used inside a training step; :class:`InvertibleCipher` wraps them for NumPy users.
    """

    def __init__(self, config: InvertibleConfig | None = None):
        import keras

        self.config = config or InvertibleConfig()
        c = self.config
        check_key(c.key)
        if c.image_size < 2 or c.image_size % 2:
            raise ValueError(f"image_size must be even (the Haar transform halves it), got {c.image_size}")
        keras.utils.set_random_seed(c.seed)
        self.layers = _networks()(c)
        self.layers(np.zeros((1, c.image_size, c.image_size), np.float32))
        self.masks = mask_tensors(c.key, c.image_size, c.image_size)
        self.card: dict = {}

    def with_key(self, key: int) -> "InvertibleNet":
        """The same network weights with the DRPE masks of another key."""
        other = InvertibleNet.__new__(InvertibleNet)
        other.config = InvertibleConfig(**{**asdict(self.config), "key": check_key(key)})
        other.layers, other.card = self.layers, self.card
        other.masks = mask_tensors(other.config.key, other.config.image_size, other.config.image_size)
        return other

    def masks_for(self, height: int, width: int) -> tuple:
        """The DRPE masks of this key at another image size (the masks follow from the key and the size;
        the coupling networks are convolutional and take any even size). Cached per size."""
        c = self.config
        if (int(height), int(width)) == (c.image_size, c.image_size):
            return self.masks
        if int(height) % 2 or int(width) % 2:
            raise ValueError(f"images must have even height and width (the Haar transform halves them), got "
                             f"{height}x{width}; crop one row or column")
        cache = self.__dict__.setdefault("_masks_by_size", {})
        if (height, width) not in cache:
            cache[(height, width)] = mask_tensors(c.key, int(height), int(width))
        return cache[(height, width)]

    def encode(self, f):
        z = self.layers.pre_forward(f)
        re, im = drpe_encrypt(z, self.masks_for(f.shape[1], f.shape[2]))
        return z, self.layers.post_forward(re, im)

    def decode(self, y):
        re, im = self.layers.post_inverse(y)
        re, _ = drpe_decrypt((re, im), self.masks_for(y.shape[1], y.shape[2]))
        return self.layers.pre_inverse(re)

    def count_params(self) -> int:
        return int(self.layers.count_params())

    def randomize(self, scale: float = 0.1, seed: int = 0) -> "InvertibleNet":
        """Set every weight to Gaussian noise of std ``scale`` (tests: invertibility whatever the weights)."""
        rng = np.random.default_rng(seed)
        for v in self.layers.weights:
            v.assign(rng.normal(0.0, scale, v.shape).astype(np.float32))
        return self

    def save(self, folder) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.layers.save_weights(folder / "model.weights.h5")
        return folder

    def load(self, folder) -> "InvertibleNet":
        self.layers.load_weights(Path(folder) / "model.weights.h5")
        return self
