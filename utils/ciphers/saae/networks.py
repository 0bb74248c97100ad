"""SAAE's configuration and networks: the encoder and decoder (ResNet generators) and the PatchGAN critic."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from ...layers.blocks import run_image_network

DEFAULT_MODEL = "saae_64"
OTHER_KEY_MODEL = "saae_64_seed1"

@dataclass
class SAAEConfig:
    """Everything that defines a model's shape and loss (stored in the model card).

    Attributes:
        image_size: side of the images (a multiple of 8).
        width: channels of the generators' first layer (then 2x and 4x after the two down-samplings).
        blocks: residual blocks in each generator.
        critic_width: channels of the critic's first layer.
        critic_layers: stride-2 layers of the critic (3: one logit per overlapping ~40-pixel patch).
        adv_weight: lambda, the weight of the adversarial term.
        stem_norm: the instance normalisation right after the generators' 7x7 stem, as in Cycle-GAN. Off by
            default: on one grey channel, normalising the output of that linear convolution erases each
            image's brightness and contrast (only the zero padding at the borders lets them through), and
            the decoder learned far more slowly with it (see :func:`generator`).
        seed: seed of the initial weights and of the noise the critic sees (the "key generation").
    """

    image_size: int = 64
    width: int = 16
    blocks: int = 3
    critic_width: int = 16
    critic_layers: int = 3
    adv_weight: float = 0.05
    stem_norm: bool = False
    seed: int = 0

    def __post_init__(self):
        if int(self.image_size) < 8 or int(self.image_size) % 8:
            raise ValueError(f"image_size must be a multiple of 8, got {self.image_size!r}")
        if int(self.width) < 1 or int(self.blocks) < 0 or int(self.critic_width) < 1 or int(self.critic_layers) < 1:
            raise ValueError(f"width, critic_width and critic_layers must be >= 1 and blocks >= 0; got {self}")
        if float(self.adv_weight) < 0:
            raise ValueError(f"adv_weight (lambda) must be >= 0, got {self.adv_weight!r}")


def generator(config: SAAEConfig, name: str) -> keras.Model:
    """The encoder's or decoder's network: :func:`utils.layers.blocks.resnet_generator` (Cycle-GAN) for one
    grey channel with a sigmoid output; without ``config.stem_norm``, the normalisation after the stem is
    replaced by the identity (the network is cloned with that one layer swapped)."""
    from ...layers.blocks import resnet_generator

    net = resnet_generator(1, 1, width=config.width, blocks=config.blocks, size=config.image_size, name=name)
    if config.stem_norm:
        return net

    def swap(layer):
        if layer.name == "stem_norm":
            return keras.layers.Identity(name="stem_norm")
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(net, clone_function=swap)


def quantise(cipher):
    """Round a cipher image in [0, 1] to 8 bits, with a straight-through gradient (identity backwards)."""
    stored = ops.round(ops.clip(cipher, 0.0, 1.0) * 255.0) / 255.0
    return cipher + ops.stop_gradient(stored - cipher)


class SAAE:
    """The encoder (public key), decoder (private key) and critic of one model, and the user's view.

    ``encode`` / ``decode`` work on float32 (N, H, W) batches; ``encode`` returns the cipher image in
    [0, 1] *before* rounding (the cipher interface rounds it to 8 bits).
    """

    def __init__(self, config: SAAEConfig | None = None):
        from ...layers.blocks import patch_discriminator

        self.config = config or SAAEConfig()
        c = self.config
        keras.utils.set_random_seed(c.seed)
        self.encoder = generator(c, "encoder")
        self.decoder = generator(c, "decoder")
        self.critic = patch_discriminator(1, width=c.critic_width, layers_down=c.critic_layers, size=c.image_size,
                                          name="critic")
        self.card: dict = {}

    def encode(self, images, batch: int = 64) -> np.ndarray:
        """Cipher images in [0, 1] (float32, not yet rounded) for float32 (N, H, W) images (any H, W that are
        multiples of 4: the generators are fully convolutional)."""
        return run_image_network(self.encoder, images, batch)

    def decode(self, ciphers, batch: int = 64) -> np.ndarray:
        """Decrypted images in [0, 1] for float32 (N, H, W) cipher images."""
        return run_image_network(self.decoder, ciphers, batch)

    def critic_scores(self, ciphers, batch: int = 64) -> np.ndarray:
        """The critic's mean patch score per image (LSGAN: about 1 for "noise", 0 for "cipher")."""
        x = np.asarray(ciphers, np.float32)[..., None]
        out = [ops.convert_to_numpy(self.critic(x[i:i + batch], training=False)) for i in range(0, len(x), batch)]
        return np.concatenate(out).mean(axis=(1, 2, 3))

    def count_params(self) -> dict[str, int]:
        return {name: int(net.count_params()) for name, net in
                (("encoder", self.encoder), ("decoder", self.decoder), ("critic", self.critic))}

    def describe(self) -> str:
        """One line: the generators' width and depth, lambda, and the parameters of each network."""
        c, p = self.config, self.count_params()
        return (f"ResNet generators (width {c.width}, {c.blocks} residual blocks), PatchGAN critic "
                f"(width {c.critic_width}, {c.critic_layers} layers), lambda = {c.adv_weight}; parameters: "
                f"encoder {p['encoder']:,}, decoder {p['decoder']:,}, critic {p['critic']:,}")

    # weights: the two keys in one file, the critic beside them (it is needed only to go on training)
    def save_weights(self, folder) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        _keys_model(self).save_weights(folder / "model.weights.h5")
        self.critic.save_weights(folder / "critic.weights.h5")

    def load_weights(self, folder) -> "SAAE":
        folder = Path(folder)
        _keys_model(self).load_weights(folder / "model.weights.h5")
        if (folder / "critic.weights.h5").exists():
            self.critic.load_weights(folder / "critic.weights.h5")
        return self

    def get_weights(self) -> list:
        return [net.get_weights() for net in (self.encoder, self.decoder, self.critic)]

    def set_weights(self, weights: list) -> None:
        for net, w in zip((self.encoder, self.decoder, self.critic), weights):
            net.set_weights(w)


def _keys_model(model: SAAE) -> keras.Model:
    """Encoder and decoder as one Keras model (x -> E(x), D(E(x))), only to store both keys in one file."""
    inputs = keras.Input((model.config.image_size, model.config.image_size, 1))
    cipher = model.encoder(inputs)
    return keras.Model(inputs, [cipher, model.decoder(cipher)], name="saae_keys")
