"""Attacks on a deep-steganography channel: what an eavesdropper can recover without the trained weights.

In Baluja's scheme the trained reveal network plays the part of the key: whoever holds it reads the
secret. Two questions test how good a key it is:

* **Known plaintext.** An attacker who has intercepted ``k`` containers *and* learnt the secrets they
  carried (a leaked report, a public image sent later) trains a *substitute* reveal network of the same
  architecture on those ``k`` pairs, then reads every other container. :func:`train_substitute_reveal`
  is that attacker; how fast the recovered quality rises with ``k`` says how much each leak costs.
* **Key sensitivity.** A reveal network trained by the same recipe from another random seed is a
  "wrong key"; if it read this model's containers, the secrecy would rest on the recipe, not the weights.

Compare AES-GCM: with the wrong key decryption is refused, and known (plaintext, ciphertext) pairs do
not help to find the key.
"""

from __future__ import annotations

import time

import numpy as np

from ..runtime import quiet_tensorflow

quiet_tensorflow()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from ..fitting import fit_supervised  # noqa: E402
from .stego import EfficientHider, StegoConfig, StegoNet, reveal_network, transfer_weights  # noqa: E402

__all__ = ["train_substitute_reveal", "reveal_with", "substitute_network"]


class RevealHalf(keras.Model):
    """The reveal half of an efficient hider as a stand-alone network (its hide half is never used)."""

    def __init__(self, hider: EfficientHider, **kwargs):
        super().__init__(**kwargs)
        self.hider = hider

    def call(self, containers, training=False):
        return self.hider.decode(containers)


def substitute_network(config: StegoConfig, size: int):
    """A fresh reveal network of ``config``'s design: Baluja's reveal stack (``"seed"`` / ``"branched"``) or
    the efficient hider's Haar-domain residual reveal network (``"efficient"``). Returns (network, its
    trainable variables)."""
    if config.variant == "efficient":
        hider = EfficientHider(config).build_for(size)
        net = RevealHalf(hider)
        net(np.zeros((1, size, size, 3), np.float32))
        return net, hider.networks["reveal"]
    if config.variant in ("seed", "branched"):
        net = reveal_network(config, size)
        return net, net.trainable_variables
    raise ValueError(f"a substitute reveal network is Baluja's or the efficient design, not {config.variant!r}")


def _random_crops(rng, images: list[np.ndarray], size: int) -> list[np.ndarray]:
    h, w = images[0].shape[1:3]
    n = len(images[0])
    y = rng.integers(h - size + 1, size=n)
    x = rng.integers(w - size + 1, size=n)
    return [np.stack([a[i, y[i]:y[i] + size, x[i]:x[i] + size] for i in range(n)]) for a in images]


def train_substitute_reveal(secrets, containers, steps: int = 200, batch: int = 8, learning_rate: float = 1e-3,
                            seed: int = 1, crop: int | None = None, config: StegoConfig | None = None,
                            init_from: StegoNet | None = None) -> tuple:
    """Train an attacker's reveal network on known (secret, container) pairs; returns (network, history).

    Args:
        secrets: float (k, H, W, C) in [0, 1], the secrets the attacker knows.
        containers: float (k, H, W, 3) in [0, 1], the intercepted containers that carried them.
        steps, batch, learning_rate: Adam on the mean squared error; each step draws ``batch`` of the k
            pairs at random (with replacement, so k = 1 works).
        seed: the attacker's seed (weights and batches).
        crop: if given, each pair is randomly cropped to ``crop`` x ``crop`` at every step (cheaper steps
            and more variety from few pairs); the network is fully convolutional, so it still reads whole
            containers afterwards.
        config: architecture of the substitute (default: the seed's reveal network, channels from ``secrets``;
            ``StegoConfig("efficient", ...)`` gives the efficient hider's reveal network, a stronger generic
            decoder an attacker may prefer whatever the hider's design).
        init_from: a trained model whose reveal network the attacker starts from instead of random weights
            (a public model; converted to the secrets' channel count by :func:`utils.hiding.stego.transfer_weights`).

    Returns:
        (network, {"loss": [...], "seconds": wall time}).
    """
    secrets, containers = np.asarray(secrets, np.float32), np.asarray(containers, np.float32)
    if secrets.ndim != 4 or containers.ndim != 4 or secrets.shape[:3] != containers.shape[:3]:
        raise ValueError(f"secrets and containers must be NHWC batches of the same N, H, W; got "
                         f"{secrets.shape} and {containers.shape}")
    if len(secrets) == 0:
        raise ValueError("the attacker needs at least one known pair (k >= 1)")
    if crop is not None and crop > min(secrets.shape[1:3]):
        raise ValueError(f"crop={crop} is larger than the images ({secrets.shape[1]}x{secrets.shape[2]})")
    keras.utils.set_random_seed(seed)
    config = config or StegoConfig(secret_channels=secrets.shape[-1], seed=seed)
    net, variables = substitute_network(config, crop or secrets.shape[1])
    if init_from is not None:
        if config.variant not in ("seed", "branched"):
            raise ValueError("init_from (a public model's reveal network) is for Baluja's design")
        start = transfer_weights(init_from, StegoNet(config).build_for(crop or secrets.shape[1]))
        for layer, source in zip(net.layers, start.reveal_layers):
            layer.set_weights(source.get_weights())
    rng = np.random.default_rng(seed)
    side = crop or secrets.shape[1]

    def batches():
        while True:
            i = rng.integers(len(secrets), size=batch)
            s, c = secrets[i], containers[i]
            if crop is not None:
                s, c = _random_crops(rng, [s, c], crop)
            yield c, s

    def loss(s, revealed):
        return tf.reduce_mean(tf.square(revealed - s))

    start = time.perf_counter()
    losses = fit_supervised(net, batches, [(batch, side, side, containers.shape[-1]), (batch, side, side, secrets.shape[-1])],
                            steps, loss, learning_rate, variables=variables)
    return net, {"loss": losses, "seconds": time.perf_counter() - start}


def reveal_with(network, containers, batch: int = 32) -> np.ndarray:
    """Apply any reveal network (a substitute, or another model's) to float containers; clipped to [0, 1]."""
    containers = np.asarray(containers, np.float32)
    out = [keras.ops.convert_to_numpy(network(containers[i:i + batch], training=False))
           for i in range(0, len(containers), batch)]
    return np.clip(np.concatenate(out), 0.0, 1.0)
