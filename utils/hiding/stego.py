"""Deep steganography networks in backend-agnostic Keras 3: Baluja's, an efficient one, an invertible one.

Every hider takes a secret ``s`` (H x W x 1 grey or H x W x 3 colour) and a colour cover ``c`` and makes a
**container** ``c'`` that should look like the cover; a reveal network recovers ``s'`` from the container
alone. Training minimises Baluja's loss

    L = ||c - c'||^2 + beta ||s - s'||^2          (means over pixels)

with a **channel** between the two halves that imitates what happens to the container on its way
(:class:`ContainerChannel`: Gaussian noise, and rounding to 8 bits as an image file stores it).

Three designs (``StegoConfig.variant``):

* ``"seed"`` / ``"branched"`` -- :class:`StegoNet`, Baluja's prep / hide / reveal networks as the seed
  rebuilds them: 5 hidden conv layers of 50 filters each with ReLU (kernel 3 for prep, 4 for hide, 5 for
  reveal; ``"branched"``: 3x3, 4x4 and 5x5 in parallel in every layer), at full resolution. The cover term
  of the loss reaches prep and hide only; the secret term trains all three.
* ``"efficient"`` -- :class:`EfficientHider`: the same job at half resolution. Secret and cover go through
  the Haar transform (4x the channels, 1/4 of the positions), a stem convolution and ``depth`` residual
  blocks of ``filters`` channels compute a *residual* in the Haar domain, and the container is the cover
  plus that residual. The reveal network is the same kind of residual network. About 5x cheaper per
  pixel than the seed network for more layers.
* ``"invertible"`` -- :class:`InvertibleHider`, in the style of HiNet (Jing et al., ICCV 2021): the Haar
  sub-bands of cover and secret pass through ``depth`` affine coupling blocks
  (:mod:`utils.layers.coupling`); the cover branch becomes the container, the secret branch is what is
  *lost*. Revealing runs the very same blocks backwards, with zeros in place of the lost part; training
  teaches the blocks to leave nothing needed there.

Only ``keras.ops``, ``keras.layers`` and ``keras.random`` are used: the networks train under TensorFlow,
JAX or PyTorch (``KERAS_BACKEND``), and weights saved under one load under another. Training with
``compile`` / ``fit`` is in :mod:`utils.hiding.training`; the explicit ``GradientTape`` step of notebook 01
is in :mod:`utils.hiding.tape`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..runtime import quiet_tensorflow

quiet_tensorflow()  # no-op unless the backend is TensorFlow

import keras  # noqa: E402
from keras import ops  # noqa: E402

from ..layers.blocks import ResidualBlock  # noqa: E402
from ..layers.coupling import CouplingStack  # noqa: E402
from ..layers.wavelets import haar, inverse_haar  # noqa: E402

__all__ = ["StegoConfig", "ContainerChannel", "Hider", "StegoNet", "EfficientHider", "InvertibleHider", "make_hider",
           "stego_losses", "reveal_network", "transfer_weights", "VARIANTS", "VARIANT_DEFAULTS"]

_KERNELS = {"seed": {"prep": (3,), "hide": (4,), "reveal": (5,)},
            "branched": {"prep": (3, 4, 5), "hide": (3, 4, 5), "reveal": (3, 4, 5)}}
#: The designs, with the meaning of ``filters`` and ``depth`` in each.
VARIANTS = {"seed": "Baluja, seed kernels (filters per layer, hidden layers per network)",
            "branched": "Baluja, three parallel kernels per layer (filters per kernel, hidden layers)",
            "efficient": "Haar domain residual networks (channels, residual blocks per network)",
            "invertible": "HiNet-style coupling blocks (subnet width, coupling blocks)"}


#: Each variant's width and depth where a command does not give them (``python -m utils.hiding``).
VARIANT_DEFAULTS = {"seed": (50, 5), "branched": (50, 5), "efficient": (64, 5), "invertible": (32, 8)}


@dataclass
class StegoConfig:
    """Everything that defines a hider's shape and its training channel (stored in the model card).

    Attributes:
        variant: the design, a key of VARIANTS: seed (Baluja's network), branched, efficient or invertible.
        filters: width (what it counts depends on the variant: see VARIANTS).
        depth: depth (what it counts depends on the variant: see VARIANTS).
        secret_channels: 1 (grey secrets) or 3 (colour).
        noise_std: standard deviation of the Gaussian noise the channel adds to the container in training.
        quantize: the channel rounds the container to 8 bits in training (straight-through gradient).
        seed: seeds the channel's noise.
        channel: ``"lossless"`` (the container is stored as PNG: :class:`ContainerChannel`) or ``"lossy"``
            (JPEG, resizing and noise drawn per image: :class:`utils.hiding.channel.LossyChannel`).
    """

    variant: str = "seed"
    filters: int = 50
    depth: int = 5
    secret_channels: int = 3
    noise_std: float = 0.01
    quantize: bool = False
    seed: int = 0
    channel: str = "lossless"

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {list(VARIANTS)}, got {self.variant!r}")
        if self.secret_channels not in (1, 3):
            raise ValueError(f"secret_channels must be 1 or 3, got {self.secret_channels!r}")
        if int(self.filters) < 1 or int(self.depth) < 1:
            raise ValueError(f"filters and depth must be >= 1, got {self.filters!r} and {self.depth!r}")
        if self.channel not in ("lossless", "lossy"):
            raise ValueError(f"channel must be 'lossless' or 'lossy', got {self.channel!r}")

    @classmethod
    def for_variant(cls, variant: str, filters: int | None = None, depth: int | None = None, secret_channels: int = 3,
                    noise_std: float | None = None, quantize: bool | None = None, seed: int = 0,
                    channel: str = "lossless") -> "StegoConfig":
        """The configuration a training command means: each field left None takes ``variant``'s default (width
        and depth from :data:`VARIANT_DEFAULTS`; Baluja's networks train with noise 0.01 and no rounding, as in
        the seed, the others with rounding and no noise)."""
        if variant not in VARIANT_DEFAULTS:
            raise ValueError(f"variant must be one of {list(VARIANT_DEFAULTS)}, got {variant!r}")
        width, blocks = VARIANT_DEFAULTS[variant]
        baluja = variant in ("seed", "branched")
        return cls(variant, width if filters is None else filters, blocks if depth is None else depth, secret_channels,
                   (0.01 if baluja else 0.0) if noise_std is None else noise_std,
                   (not baluja) if quantize is None else quantize, seed, channel)


@keras.saving.register_keras_serializable(package="medstego")
class ContainerChannel(keras.layers.Layer):
    """What happens to the container between hiding and revealing, imitated in training only.

    Adds Gaussian noise of ``noise_std`` (seeded :class:`keras.random.SeedGenerator`), then, if
    ``quantize``, clips to [0, 1] and rounds to 8 bits with a straight-through gradient: the forward pass
    sees exactly the stored image, the backward pass treats the rounding as the identity. Outside
    training the channel passes the container unchanged.
    """

    def __init__(self, noise_std: float = 0.0, quantize: bool = False, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.noise_std, self.quantize, self.seed = float(noise_std), bool(quantize), int(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not training:
            return x
        if self.noise_std > 0:
            x = x + keras.random.normal(ops.shape(x), stddev=self.noise_std, seed=self.seed_generator)
        if self.quantize:
            stored = ops.round(ops.clip(x, 0.0, 1.0) * 255.0) / 255.0
            x = x + ops.stop_gradient(stored - x)
        return x

    def get_config(self):
        return {**super().get_config(), "noise_std": self.noise_std, "quantize": self.quantize, "seed": self.seed}


class Hider(keras.Model):
    """What every hider shares: ``call((secret, cover))`` -> ``{"container", "revealed"}``, the channel between
    them, and the user's view :meth:`hide` / :meth:`reveal` on float32 NHWC arrays in [0, 1].

    Subclasses implement ``encode(secret, cover)`` -> container and ``decode(container)`` -> secret.
    """

    def __init__(self, config: StegoConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config_ = config or StegoConfig()
        if self.config_.channel == "lossy":
            from .channel import LossyChannel

            self.channel = LossyChannel(seed=self.config_.seed, name="channel")
        else:
            self.channel = ContainerChannel(self.config_.noise_std, self.config_.quantize, self.config_.seed,
                                            name="channel")

    def encode(self, secret, cover):
        raise NotImplementedError

    def decode(self, container):
        raise NotImplementedError

    def call(self, inputs, training=False):
        secret, cover = inputs
        container = self.encode(secret, cover)
        return {"container": container, "revealed": self.decode(self.channel(container, training=training))}

    def build_for(self, size: int) -> "Hider":
        """Create the weights by running once on zeros of the given size; returns self."""
        self((np.zeros((1, size, size, self.config_.secret_channels), np.float32), np.zeros((1, size, size, 3), np.float32)))
        return self

    @property
    def networks(self) -> dict[str, list]:
        """The trainable variables of each part (``hide`` and ``reveal``; Baluja's also ``prep``)."""
        raise NotImplementedError

    def hide(self, secret: np.ndarray, cover: np.ndarray, batch: int = 64) -> np.ndarray:
        """Containers for float32 NHWC secrets and covers in [0, 1]; clipped to [0, 1]."""
        secret, cover = _check_batch(secret, "secret", self.config_.secret_channels), _check_batch(cover, "cover", 3)
        if secret.shape[:3] != cover.shape[:3]:
            raise ValueError(f"secret and cover must have the same batch and size, got {secret.shape} and {cover.shape}")
        out = [ops.convert_to_numpy(self.encode(secret[i:i + batch], cover[i:i + batch]))
               for i in range(0, len(secret), batch)]
        return np.clip(np.concatenate(out), 0.0, 1.0)

    def reveal(self, container: np.ndarray, batch: int = 64) -> np.ndarray:
        """Revealed secrets for float32 NHWC containers in [0, 1]; clipped to [0, 1]."""
        container = _check_batch(container, "container", 3)
        out = [ops.convert_to_numpy(self.decode(container[i:i + batch])) for i in range(0, len(container), batch)]
        return np.clip(np.concatenate(out), 0.0, 1.0)

    def describe(self) -> str:
        """One line: design, width, depth, secret channels, parameters."""
        c = self.config_
        return (f"{c.variant} ({VARIANTS[c.variant]}: {c.filters}, {c.depth}), "
                f"{'grey' if c.secret_channels == 1 else 'colour'} secrets, {self.count_params():,} parameters")


def _check_batch(x, name: str, channels: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] != channels:
        raise ValueError(f"{name} must be a float32 NHWC batch with {channels} channel(s), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must be float in [0, 1], got dtype {x.dtype}; divide uint8 images by 255")
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"{name} must lie in [0, 1], got values in [{x.min():.3g}, {x.max():.3g}]")
    return x.astype(np.float32)


# ---------------------------------------------------------------------------------------------------------
# Baluja's networks
# ---------------------------------------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="medstego")
class ConvBlock(keras.layers.Layer):
    """One hidden layer: a ReLU convolution per kernel size, concatenated when there are several."""

    def __init__(self, filters: int, kernel_sizes: tuple[int, ...], **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_sizes = filters, tuple(kernel_sizes)
        self.convs = [keras.layers.Conv2D(filters, k, padding="same", activation="relu", name=f"conv{k}")
                      for k in self.kernel_sizes]

    def call(self, x):
        outs = [conv(x) for conv in self.convs]
        return outs[0] if len(outs) == 1 else ops.concatenate(outs, axis=-1)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_sizes": self.kernel_sizes}


def _network(name: str, cfg: StegoConfig, out_channels: int) -> list:
    kernels = _KERNELS[cfg.variant][name]
    layers = [ConvBlock(cfg.filters, kernels, name=f"{name}_{i + 1}") for i in range(cfg.depth)]
    layers.append(keras.layers.Conv2D(out_channels, kernels[0], padding="same", name=f"{name}_out"))
    return layers


class StegoNet(Hider):
    """Baluja's prep, hide and reveal networks (``variant`` ``"seed"`` or ``"branched"``).

    The layers are kept as lists (``prep_layers``, ``hide_layers``, ``reveal_layers``) so that notebook 02
    can differentiate through them by hand. ``prep(secret)`` gives the prep network's output.
    """

    def __init__(self, config: StegoConfig | None = None, **kwargs):
        config = config or StegoConfig()
        if config.variant not in _KERNELS:
            raise ValueError(f"StegoNet is Baluja's network (variant 'seed' or 'branched'), got {config.variant!r}; "
                             "use make_hider(config)")
        super().__init__(config, **kwargs)
        self.prep_layers = _network("prep", config, 3)
        self.hide_layers = _network("hide", config, 3)
        self.reveal_layers = _network("reveal", config, config.secret_channels)

    @staticmethod
    def _run(layers, x):
        for layer in layers:
            x = layer(x)
        return x

    def prep(self, secret):
        return self._run(self.prep_layers, secret)

    def hide_net(self, prepared, cover):
        return self._run(self.hide_layers, ops.concatenate([prepared, cover], axis=-1))

    def reveal_net(self, container):
        return self._run(self.reveal_layers, container)

    def encode(self, secret, cover):
        return self.hide_net(self.prep(secret), cover)

    def decode(self, container):
        return self.reveal_net(container)

    @property
    def networks(self) -> dict[str, list]:
        return {name: [v for layer in layers for v in layer.trainable_variables]
                for name, layers in (("prep", self.prep_layers), ("hide", self.hide_layers),
                                     ("reveal", self.reveal_layers))}


# ---------------------------------------------------------------------------------------------------------
# The efficient hider: residual networks in the Haar domain
# ---------------------------------------------------------------------------------------------------------

class EfficientHider(Hider):
    """Hide and reveal at half resolution (Haar sub-bands), with residual blocks; container = cover + residual.

    hide:   [Haar(secret), Haar(cover)] -> conv3x3(filters) -> depth x ResidualBlock -> conv3x3(12) = r
            container = cover + inverse Haar(r)
    reveal: Haar(container) -> conv3x3(filters) -> depth x ResidualBlock -> conv3x3(4 x secret channels)
            -> inverse Haar
    The residual's last convolution starts at zero, so a fresh hider returns the cover unchanged.
    """

    def __init__(self, config: StegoConfig | None = None, **kwargs):
        config = config or StegoConfig(variant="efficient", filters=64, depth=5, noise_std=0.0, quantize=True)
        super().__init__(config, **kwargs)
        w, d, sc = config.filters, config.depth, config.secret_channels
        self.hide_stem = keras.layers.Conv2D(w, 3, padding="same", activation="relu", name="hide_stem")
        self.hide_blocks = [ResidualBlock(w, name=f"hide_block_{i + 1}") for i in range(d)]
        self.hide_head = keras.layers.Conv2D(12, 3, padding="same", kernel_initializer="zeros", name="hide_head")
        self.reveal_stem = keras.layers.Conv2D(w, 3, padding="same", activation="relu", name="reveal_stem")
        self.reveal_blocks = [ResidualBlock(w, name=f"reveal_block_{i + 1}") for i in range(d)]
        self.reveal_head = keras.layers.Conv2D(4 * sc, 3, padding="same", name="reveal_head")

    def encode(self, secret, cover):
        x = self.hide_stem(ops.concatenate([haar(secret), haar(cover)], axis=-1))
        for block in self.hide_blocks:
            x = block(x)
        return cover + inverse_haar(self.hide_head(x))

    def decode(self, container):
        x = self.reveal_stem(haar(container))
        for block in self.reveal_blocks:
            x = block(x)
        return inverse_haar(self.reveal_head(x))

    @property
    def networks(self) -> dict[str, list]:
        hide = [self.hide_stem, *self.hide_blocks, self.hide_head]
        reveal = [self.reveal_stem, *self.reveal_blocks, self.reveal_head]
        return {name: [v for layer in layers for v in layer.trainable_variables]
                for name, layers in (("hide", hide), ("reveal", reveal))}


# ---------------------------------------------------------------------------------------------------------
# The invertible hider: coupling blocks, reveal = the exact inverse
# ---------------------------------------------------------------------------------------------------------

class InvertibleHider(Hider):
    """HiNet-style hiding: one stack of affine coupling blocks run forwards to hide and backwards to reveal.

    hide:   (Haar(cover), Haar(secret)) -> CouplingStack -> (y1, y2); container = inverse Haar(y1);
            y2 ("lost") is dropped
    reveal: (Haar(container), zeros) -> CouplingStack inverted -> (cover estimate, Haar(secret estimate))

    If the container arrived unchanged and y2 were kept, revealing would be exact (the blocks are
    invertible by construction). Dropping y2 and rounding the container are the only losses; training
    makes y2 carry as little as possible.
    """

    def __init__(self, config: StegoConfig | None = None, **kwargs):
        config = config or StegoConfig(variant="invertible", filters=32, depth=8, noise_std=0.0, quantize=True)
        super().__init__(config, **kwargs)
        self.couplings = CouplingStack(12, 4 * config.secret_channels, blocks=config.depth, width=config.filters,
                                       name="couplings")

    def forward_bands(self, secret, cover):
        """(y1, y2): the container's Haar sub-bands and the lost part."""
        return self.couplings((haar(cover), haar(secret)))

    def encode(self, secret, cover):
        y1, _ = self.forward_bands(secret, cover)
        return inverse_haar(y1)

    def decode(self, container):
        y1 = haar(container)
        lost = ops.zeros(ops.shape(y1)[:-1] + (4 * self.config_.secret_channels,), dtype=y1.dtype)
        _, secret_bands = self.couplings((y1, lost), reverse=True)
        return inverse_haar(secret_bands)

    @property
    def networks(self) -> dict[str, list]:
        return {"couplings": list(self.couplings.trainable_variables)}


def make_hider(config: StegoConfig) -> Hider:
    """The hider of ``config.variant`` (not yet built: call ``.build_for(size)``)."""
    if config.variant in _KERNELS:
        return StegoNet(config)
    return {"efficient": EfficientHider, "invertible": InvertibleHider}[config.variant](config)


def stego_losses(secret, cover, outputs, beta: float = 1.0):
    """(total, cover loss, secret loss): mean squared errors, total = cover + beta * secret (Keras ops)."""
    cover_loss = ops.mean(ops.square(outputs["container"] - cover))
    secret_loss = ops.mean(ops.square(outputs["revealed"] - secret))
    return cover_loss + beta * secret_loss, cover_loss, secret_loss


def reveal_network(config: StegoConfig | None = None, size: int | None = None) -> keras.Sequential:
    """A stand-alone Baluja reveal network of the given configuration (fresh weights), as ``keras.Sequential``.

    The same layers as :attr:`StegoNet.reveal_layers`; used for substitute reveal networks (an attacker's
    copy, notebook 04). Built for ``size`` x ``size`` containers when ``size`` is given.
    """
    cfg = config or StegoConfig()
    net = keras.Sequential(_network("reveal", cfg, cfg.secret_channels), name="reveal")
    if size is not None:
        net(np.zeros((1, size, size, 3), np.float32))
    return net


def transfer_weights(source: Hider, target: Hider) -> Hider:
    """Start ``target`` from ``source``'s weights, also across secret channel counts (3 -> 1 or 1 -> 3).

    Every weight of the same shape is copied. Where only the secret's channel count differs, the layers
    that touch the secret are converted so that the grey model starts as the colour model applied to a
    grey secret replicated into R, G and B:

    * Baluja's first prep convolution sums its kernel over the three input channels (a conv of
      ``(g, g, g)`` with kernels ``W_r, W_g, W_b`` equals a conv of ``g`` with ``W_r + W_g + W_b``) -- exact;
    * Baluja's reveal output convolution averages its kernel and bias over the three output channels (the
      revealed grey is the mean of the revealed R, G, B) -- exact too, as the output is linear;
    * the efficient hider's stem and reveal head do the same per Haar sub-band.

    Going from 1 to 3 channels does the reverse (kernel / 3 replicated; output kernel replicated). Both
    models must be built (``build_for``) and of one variant, width and depth. Returns ``target``.
    """
    s_cfg, t_cfg = source.config_, target.config_
    if (s_cfg.variant, s_cfg.filters, s_cfg.depth) != (t_cfg.variant, t_cfg.filters, t_cfg.depth):
        raise ValueError(f"transfer_weights needs the same variant, filters and depth; got {s_cfg} and {t_cfg}")
    if t_cfg.variant == "invertible" and s_cfg.secret_channels != t_cfg.secret_channels:
        raise ValueError("the invertible hider cannot change its secret channels (the coupling split changes)")
    s_in, t_in = s_cfg.secret_channels, t_cfg.secret_channels
    if not source.weights or not target.weights:
        raise ValueError("build both models first (model.build_for(size))")
    for s_var, t_var in zip(source.weights, target.weights):
        s_w = ops.convert_to_numpy(s_var)
        if s_w.shape == tuple(t_var.shape):
            t_var.assign(s_w)
            continue
        t_shape = tuple(t_var.shape)
        path = t_var.path
        if s_w.ndim == 4 and ("prep_1" in path or "hide_stem" in path):
            # input channels: Baluja's prep sees the secret's channels; the efficient stem sees 4 bands each
            bands = 1 if "prep_1" in path else 4
            k, out = s_w.shape[:2], s_w.shape[3]
            secret_part = s_w[:, :, :bands * s_in].reshape(k + (bands, s_in, out))
            merged = np.repeat(secret_part.sum(axis=3, keepdims=True) / t_in, t_in, axis=3)
            t_var.assign(np.concatenate([merged.reshape(k + (bands * t_in, out)), s_w[:, :, bands * s_in:]], axis=2))
        elif "reveal_out" in path or "reveal_head" in path:
            bands = 4 if "reveal_head" in path else 1
            grouped = s_w.reshape(s_w.shape[:-1] + (bands, s_in))
            t_var.assign(np.repeat(grouped.mean(axis=-1, keepdims=True), t_in, axis=-1).reshape(t_shape))
        else:
            raise ValueError(f"cannot transfer {path}: shapes {s_w.shape} -> {t_shape}")
    return target
