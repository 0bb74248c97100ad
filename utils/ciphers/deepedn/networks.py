"""DeepEDN's configuration and its five networks: G, F, the two PatchGAN critics and the ROI miner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...layers.blocks import run_image_network
from .key_domain import DEFAULT_KEY, KEY_DOMAINS


@dataclass
class DeepEDNConfig:
    """Everything that defines a DeepEDN model (stored in its model card).

    Attributes:
        image_size: the side the model is trained at (a multiple of 8).
        width, blocks: the ResNet generators G and F: ``width``, 2x and 4x channels, ``blocks`` residual
            blocks at 1/4 resolution.
        disc_width: channels of the PatchGAN discriminators' first layer.
        roi_width: channels of the ROI-mining network's first layer.
        key_domain, key: the cipher domain (:func:`key_domain_images`): a keyed texture or keyless noise.
        seed: the seed of the initial weights (and of the training batches).
        lambda_cycle: the weight of the decryption cycle x -> G(x) -> F(G(x)).
        lambda_identity: the weight of the identity terms, relative to the cycle weights.
        lambda_cycle_back: the weight of the key-domain cycle y -> F(y) -> G(F(y)) (none: lambda_cycle).
        norm: instance normalisation in the generators.
        warmup_steps: first steps without the adversarial terms (an autoencoder through the cipher).
        lr_decay: Cycle-GAN's schedule, constant for half the steps, then linearly to 0.
        learning_rate: Adam's step size.
        beta_1: Adam's first-moment decay.
    """

    image_size: int = 64
    width: int = 16
    blocks: int = 2
    disc_width: int = 16
    roi_width: int = 8
    key_domain: str = "texture"
    key: int = DEFAULT_KEY
    seed: int = 0
    lambda_cycle: float = 30.0
    lambda_identity: float = 0.5
    lambda_cycle_back: float | None = 1.0
    norm: bool = False
    warmup_steps: int = 0
    lr_decay: bool = False
    learning_rate: float = 2e-4
    beta_1: float = 0.5

    def __post_init__(self):
        if self.key_domain not in KEY_DOMAINS:
            raise ValueError(f"key_domain must be one of {KEY_DOMAINS}, got {self.key_domain!r}")
        if self.image_size % 8:
            raise ValueError(f"image_size must be a multiple of 8, got {self.image_size}")
        for name in ("width", "blocks", "disc_width", "roi_width"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")


class DeepEDN:
    """The four Cycle-GAN networks and the ROI-mining network of one DeepEDN model (Keras 3 models).

    Attributes ``G`` (plain -> cipher), ``F`` (cipher -> plain), ``D_plain``, ``D_cipher``, ``roi``.
    All images are float in [0, 1] with a channel axis (N, H, W, 1); generators end in a sigmoid.
    """

    def __init__(self, config: DeepEDNConfig | None = None):
        import keras

        from ...layers.blocks import patch_discriminator, resnet_generator

        self.config = config or DeepEDNConfig()
        c = self.config
        keras.utils.set_random_seed(c.seed)
        size = c.image_size
        self.G = resnet_generator(1, 1, width=c.width, blocks=c.blocks, size=size, name="G_encrypt", norm=c.norm)
        self.F = resnet_generator(1, 1, width=c.width, blocks=c.blocks, size=size, name="F_decrypt", norm=c.norm)
        self.D_cipher = patch_discriminator(1, width=c.disc_width, size=size, name="D_cipher")
        self.D_plain = patch_discriminator(1, width=c.disc_width, size=size, name="D_plain")
        self.roi = resnet_generator(1, 1, width=c.roi_width, blocks=1, size=size, name="roi_miner")
        self.card: dict = {}

    def cipher_float(self, images: np.ndarray, batch: int = 128) -> np.ndarray:
        """G on a batch (N, H, W) -> cipher images (N, H, W) as floats in [0, 1] (before 8-bit rounding)."""
        return run_image_network(self.G, images, batch)

    def decrypt_float(self, cipher: np.ndarray, batch: int = 128) -> np.ndarray:
        """F on cipher images (N, H, W) in [0, 1] -> plain images (N, H, W)."""
        return run_image_network(self.F, cipher, batch)

    def count_params(self) -> dict[str, int]:
        return {name: int(getattr(self, name).count_params()) for name in ("G", "F", "D_cipher", "D_plain", "roi")}

    def save(self, folder: Path, with_discriminators: bool = False) -> None:
        """Write ``G.weights.h5``, ``F.weights.h5``, ``roi.weights.h5`` (and the discriminators if asked)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("G", "F", "roi") + (("D_cipher", "D_plain") if with_discriminators else ()):
            getattr(self, name).save_weights(folder / f"{name}.weights.h5")

    def load(self, folder: Path) -> "DeepEDN":
        folder = Path(folder)
        for name in ("G", "F", "roi", "D_cipher", "D_plain"):
            path = folder / f"{name}.weights.h5"
            if path.exists():
                getattr(self, name).load_weights(path)
            elif name in ("G", "F"):
                raise FileNotFoundError(f"{path.name} is missing in {folder.name}; train with python -m "
                                        "utils.ciphers.deepedn --out <folder>")
        return self
