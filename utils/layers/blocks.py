"""Convolutional building blocks: residual blocks, a ResNet generator and a PatchGAN discriminator.

* :class:`ResidualBlock`: ``x + conv(relu(conv(x)))``, the unit of the efficient hider and the generators.
* :func:`resnet_generator`: the Cycle-GAN generator (Zhu et al. 2017) at CPU scale: a 7x7 stem, two
  stride-2 convolutions down, residual blocks, two transposed convolutions up, a 7x7 output with tanh or
  sigmoid; instance normalisation (Keras ``GroupNormalization`` with one group per channel).
* :func:`patch_discriminator`: the PatchGAN critic (Isola et al. 2017): stride-2 4x4 convolutions with
  LeakyReLU; one real/fake logit per overlapping patch.
* :func:`any_size` and :func:`run_image_network`: a fully convolutional network trained at one side runs on
  images of any side (a 512x512 CT slice, not only the 64x64 patches it was trained on): the same layers,
  hence the same weights, behind an input of free height and width.

DeepEDN (notebook 05) and the scrambling adversarial autoencoder (notebook 08) build on the last two.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
from keras import layers

__all__ = ["ResidualBlock", "instance_norm", "resnet_generator", "patch_discriminator", "any_size",
           "run_image_network"]


@keras.saving.register_keras_serializable(package="medstego")
class ResidualBlock(keras.layers.Layer):
    """``x + conv3x3(relu(conv3x3(x)))`` (optionally with instance normalisation after each convolution)."""

    def __init__(self, width: int, norm: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.width, self.norm = int(width), bool(norm)
        self.c1 = layers.Conv2D(width, 3, padding="same", name="conv1")
        self.c2 = layers.Conv2D(width, 3, padding="same", name="conv2")
        self.n1 = instance_norm(width, "norm1") if norm else None
        self.n2 = instance_norm(width, "norm2") if norm else None

    def call(self, x):
        y = self.c1(x)
        y = keras.activations.relu(self.n1(y) if self.norm else y)
        y = self.c2(y)
        return x + (self.n2(y) if self.norm else y)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "norm": self.norm}


def instance_norm(channels: int, name: str | None = None) -> layers.Layer:
    """Instance normalisation: per example and channel, over height and width."""
    return layers.GroupNormalization(groups=channels, epsilon=1e-5, name=name)


def resnet_generator(channels_in: int = 1, channels_out: int = 1, width: int = 32, blocks: int = 3,
                     size: int | None = None, output: str = "sigmoid", name: str = "generator",
                     norm: bool = True) -> keras.Model:
    """A Cycle-GAN ResNet generator (``width``, ``2 width``, ``4 width`` channels; ``blocks`` residual blocks).

    The image side must be a multiple of 4. ``output``: ``"sigmoid"`` for images in [0, 1], ``"tanh"`` for
    [-1, 1], ``"linear"`` for unbounded outputs. ``norm=False`` leaves out the instance normalisations:
    they discard each feature map's mean and scale, so a generator with them cannot tell a flat dark image
    from a flat bright one, which a network that must give back its input exactly (a decryptor) needs.
    """
    def normed(w, label):
        return instance_norm(w, label) if norm else layers.Identity(name=label)

    inputs = keras.Input((size, size, channels_in))
    x = layers.Conv2D(width, 7, padding="same", name="stem")(inputs)
    x = layers.ReLU()(normed(width, "stem_norm")(x))
    for i, w in enumerate((2 * width, 4 * width)):
        x = layers.Conv2D(w, 3, strides=2, padding="same", name=f"down{i + 1}")(x)
        x = layers.ReLU()(normed(w, f"down{i + 1}_norm")(x))
    for i in range(blocks):
        x = ResidualBlock(4 * width, norm=norm, name=f"res{i + 1}")(x)
    for i, w in enumerate((2 * width, width)):
        x = layers.Conv2DTranspose(w, 3, strides=2, padding="same", name=f"up{i + 1}")(x)
        x = layers.ReLU()(normed(w, f"up{i + 1}_norm")(x))
    x = layers.Conv2D(channels_out, 7, padding="same", name="head")(x)
    if output != "linear":
        x = layers.Activation(output)(x)
    return keras.Model(inputs, x, name=name)


def patch_discriminator(channels_in: int = 1, width: int = 32, layers_down: int = 3, size: int | None = None,
                        name: str = "discriminator") -> keras.Model:
    """A PatchGAN discriminator: ``layers_down`` stride-2 4x4 convolutions, then a 4x4 logit map."""
    inputs = keras.Input((size, size, channels_in))
    x = inputs
    for i in range(layers_down):
        w = width * 2 ** i
        x = layers.Conv2D(w, 4, strides=2, padding="same", name=f"down{i + 1}")(x)
        if i > 0:
            x = instance_norm(w, f"down{i + 1}_norm")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(1, 4, padding="same", name="logits")(x)
    return keras.Model(inputs, x, name=name)


_ANY_SIZE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def any_size(model: keras.Model) -> keras.Model:
    """``model`` behind an input of free height and width, sharing its layers (and so its weights).

    A functional Keras model keeps the input shape it was built with and refuses other sizes; a fully
    convolutional one computes the same thing at any size. The twin calls the very same layer objects, so
    training or loading weights into ``model`` changes the twin too. Cached per model.
    """
    if model.input_shape[1:3] == (None, None):
        return model
    twin = _ANY_SIZE.get(model)
    if twin is None:
        channels = model.input_shape[-1]
        twin = keras.models.clone_model(model, input_tensors=keras.Input((None, None, channels)),
                                        clone_function=lambda layer: layer)
        _ANY_SIZE[model] = twin
    return twin


def run_image_network(network: keras.Model, images, batch: int = 64) -> np.ndarray:
    """A one-channel image network on float images (N, H, W), in batches -> float32 numpy (N, H, W).

    Images of another side than the network was built for go through :func:`any_size`; the side must suit
    the network's strides (a multiple of 4 for :func:`resnet_generator`).
    """
    x = np.asarray(images, np.float32)[..., None]
    net = network if tuple(network.input_shape[1:3]) == x.shape[1:3] else any_size(network)
    parts = [keras.ops.convert_to_numpy(net(x[i:i + batch], training=False)) for i in range(0, len(x), batch)]
    return np.concatenate(parts)[..., 0].astype(np.float32)
