"""Affine coupling blocks: networks that are exactly invertible, however their inner layers look.

A coupling block splits its input into two parts and changes each part only by an amount computed from
the other part (Dinh et al., Real NVP, 2017; the two-sided form of HiNet, Jing et al., ICCV 2021)::

    forward:  y1 = x1 + phi(x2)
              y2 = x2 * exp(s(y1)) + eta(y1),   s = clamp * tanh(rho(y1))
    inverse:  x2 = (y2 - eta(y1)) * exp(-s(y1))
              x1 = y1 - phi(x2)

``phi``, ``rho`` and ``eta`` are small convolutional networks that are never inverted themselves: the
inverse only subtracts and divides by what they compute, so it is exact up to float rounding whatever
their weights. ``clamp`` bounds the log-scale so that exp() stays tame. The last convolution of each
subnet starts at zero, so a fresh block is the identity.

The invertible hider (notebook 01/03: cover part and secret part, Haar sub-bands) and the invertible
encryption network (notebook 07: two halves of one image's channels) are both stacks of these blocks.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["Subnet", "AffineCoupling", "CouplingStack"]


@keras.saving.register_keras_serializable(package="medstego")
class Subnet(keras.layers.Layer):
    """conv3x3 - LeakyReLU - conv3x3 - LeakyReLU - conv3x3 (zero-initialised output)."""

    def __init__(self, out_channels: int, width: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.out_channels, self.width = int(out_channels), int(width)
        self.c1 = keras.layers.Conv2D(width, 3, padding="same", name="conv1")
        self.c2 = keras.layers.Conv2D(width, 3, padding="same", name="conv2")
        self.c3 = keras.layers.Conv2D(out_channels, 3, padding="same", kernel_initializer="zeros", name="conv3")

    def call(self, x):
        x = keras.activations.leaky_relu(self.c1(x), negative_slope=0.2)
        x = keras.activations.leaky_relu(self.c2(x), negative_slope=0.2)
        return self.c3(x)

    def get_config(self):
        return {**super().get_config(), "out_channels": self.out_channels, "width": self.width}


@keras.saving.register_keras_serializable(package="medstego")
class AffineCoupling(keras.layers.Layer):
    """One two-sided affine coupling block on a pair ``(x1, x2)`` of NHWC tensors (see the module text).

    Args:
        channels1, channels2: channels of the two parts.
        width: width of the subnets.
        clamp: bound of the log-scale ``s``.
    """

    def __init__(self, channels1: int, channels2: int, width: int = 32, clamp: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.channels1, self.channels2, self.width, self.clamp = int(channels1), int(channels2), int(width), float(clamp)
        self.phi = Subnet(channels1, width, name="phi")
        self.rho = Subnet(channels2, width, name="rho")
        self.eta = Subnet(channels2, width, name="eta")

    def _scale(self, y1):
        return self.clamp * ops.tanh(self.rho(y1) / self.clamp)

    def call(self, inputs, reverse: bool = False):
        a, b = inputs
        if not reverse:
            y1 = a + self.phi(b)
            y2 = b * ops.exp(self._scale(y1)) + self.eta(y1)
            return y1, y2
        x2 = (b - self.eta(a)) * ops.exp(-self._scale(a))
        x1 = a - self.phi(x2)
        return x1, x2

    def log_det(self, y1):
        """log |det Jacobian| of the forward map per example (the sum of the log-scales)."""
        return ops.sum(self._scale(y1), axis=(1, 2, 3))

    def get_config(self):
        return {**super().get_config(), "channels1": self.channels1, "channels2": self.channels2,
                "width": self.width, "clamp": self.clamp}


@keras.saving.register_keras_serializable(package="medstego")
class CouplingStack(keras.layers.Layer):
    """``blocks`` affine couplings in a row; ``call((x1, x2), reverse=True)`` runs them backwards, inverted."""

    def __init__(self, channels1: int, channels2: int, blocks: int = 4, width: int = 32, clamp: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.channels1, self.channels2, self.n_blocks = int(channels1), int(channels2), int(blocks)
        self.width, self.clamp = int(width), float(clamp)
        self.blocks = [AffineCoupling(channels1, channels2, width, clamp, name=f"coupling_{i + 1}") for i in range(blocks)]

    def call(self, inputs, reverse: bool = False):
        a, b = inputs
        for block in (reversed(self.blocks) if reverse else self.blocks):
            a, b = block((a, b), reverse=reverse)
        return a, b

    def get_config(self):
        return {**super().get_config(), "channels1": self.channels1, "channels2": self.channels2,
                "blocks": self.n_blocks, "width": self.width, "clamp": self.clamp}
