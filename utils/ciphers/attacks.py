"""The attack every deterministic learned cipher invites: learn the decryption from known pairs.

An attacker who holds k (plaintext, ciphertext) pairs -- earlier messages, or, where the encryption is
public (notebook 08), as many pairs as they like -- trains a *substitute decoder*: a network from the
ciphertext to the plaintext. Then they decrypt the test images, which they never saw. The recovered PSNR
against k, from k = 0 (no pairs: the best guess is a constant grey at the mean of the attacker's own
images), shows how much a key of millions of weights is worth.

* :func:`attacker_images`: the attacker's plaintexts: patches of the train and validation sources, never
  the test set.
* :func:`train_substitute_decoder`: a ResNet generator (:func:`utils.layers.blocks.resnet_generator`) from
  :meth:`Cipher.features` to the plaintext, trained with Adam on mean squared error in shuffled passes.
* :class:`SubstituteDecoder`: the same network as an object that can be trained on, resumed and timed
  (wall and CPU seconds), with batches drawn at random: the attacker of notebook 08 and of
  :mod:`utils.ciphers.known_pairs_study`.
* :func:`known_plaintext_curve`: the whole experiment for a list of k, with intervals and timings.

Classic attacks that need no network (recovering an XOR key stream from one pair, a linear map from
enough pairs) belong to the cipher's own module and notebook.
"""

from __future__ import annotations

import time

import numpy as np

from ..metrics import Interval, blind_constant_guess
from .evaluation import _quality, as_uint8

__all__ = ["attacker_images", "train_substitute_decoder", "SubstituteDecoder", "decode_with", "known_plaintext_curve", "format_curve"]


def attacker_images(size: int, n: int, seed: int = 0, data="auto") -> np.ndarray:
    """``n`` grey plaintexts of side ``size`` from the train and validation sources (never test), float32 (n, size, size)."""
    from ..data import image_set

    half = n // 2
    train = image_set("train", size=size, n=n - half, seed=seed, data=data).images
    val = image_set("val", size=size, n=max(half, 1), seed=seed + 1, data=data).images[:half]
    out = np.concatenate([train, val]) if half else train
    return out[np.random.default_rng(seed).permutation(len(out))]


def train_substitute_decoder(features, plains, steps: int = 300, batch: int = 16, learning_rate: float = 2e-3,
                             width: int = 16, blocks: int = 2, seed: int = 0, verbose: int = 0, norm: bool = True):
    """Train a ResNet generator from ``features`` (N, h, w, c) to ``plains`` (N, H, W); returns the model.

    The features' height and width must equal the plaintext's and be multiples of 4; ``steps`` batches of
    ``min(batch, N)`` pairs are drawn (the pairs repeat when there are few). ``norm``: instance
    normalisation in the generator (see :func:`utils.layers.blocks.resnet_generator`).
    """
    import keras

    from ..layers.blocks import resnet_generator

    x = np.asarray(features, np.float32)
    y = np.asarray(plains, np.float32)[..., None]
    if x.ndim != 4 or x.shape[:3] != y.shape[:3]:
        raise ValueError(f"features must be (N, H, W, C) matching plains (N, H, W); got {x.shape} and {y.shape[:3]}")
    keras.utils.set_random_seed(seed)
    model = resnet_generator(x.shape[-1], 1, width=width, blocks=blocks, size=x.shape[1], name="substitute_decoder",
                             norm=norm)
    model.compile(keras.optimizers.Adam(learning_rate), "mse")
    size = min(batch, len(x))
    repeats = int(np.ceil(steps * size / len(x)))
    index = np.random.default_rng(seed).permutation(np.tile(np.arange(len(x)), repeats))[:steps * size]
    # batch by batch rather than model.fit: fit goes through tf.data, whose start-up notes TensorFlow 2.21
    # writes to stderr (into notebook outputs); the batches and the updates are the same
    for start in range(0, len(index), size):
        loss = model.train_on_batch(x[index[start:start + size]], y[index[start:start + size]])
        if verbose and (start // size) % 50 == 0:
            print(f"step {start // size + 1}: loss {float(loss):.5f}")
    return model


class SubstituteDecoder:
    """An attacker's decoder: a ResNet generator from the cipher image to the plain image, trained on pairs.

    The same network and optimiser as :func:`train_substitute_decoder` (width 16, 2 residual blocks, Adam
    2e-3, mean squared error), with batches drawn at random rather than in shuffled passes, trained by a
    plain ``GradientTape`` loop that can be resumed (for curves against training time) and counts its own
    wall and CPU seconds. It is the attacker of notebook 08 and of :mod:`utils.ciphers.known_pairs_study`
    (for DeepEDN and SAAE alike); notebook 05's live curve and the benchmark use
    :func:`train_substitute_decoder`, with which their stored outputs were made. (Keras's ``fit`` and ``predict`` go through ``tf.data``, whose
    start-up notes TensorFlow 2.21 writes to the notebook's stderr; this loop has none.)
    """

    def __init__(self, size: int = 64, channels: int = 1, width: int = 16, blocks: int = 2,
                 learning_rate: float = 2e-3, seed: int = 0, norm: bool = True):
        import keras
        import tensorflow as tf
        from keras import ops

        from ..layers.blocks import resnet_generator

        keras.utils.set_random_seed(seed)
        self.network = resnet_generator(channels, 1, width=width, blocks=blocks, size=size, name="substitute_decoder",
                                        norm=norm)
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.rng = np.random.default_rng(seed)
        self.steps, self.seconds, self.cpu_seconds = 0, 0.0, 0.0
        variables = self.network.trainable_variables

        @tf.function(reduce_retracing=True)
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = ops.mean(ops.square(self.network(x, training=True) - y))
            self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        self._step = step

    def train(self, features, plains, steps: int, batch: int = 16) -> "SubstituteDecoder":
        """``steps`` more Adam steps on batches drawn at random from the pairs (``features`` (N, H, W, C) from
        :meth:`Cipher.features`, ``plains`` (N, H, W))."""
        x = np.asarray(features, np.float32)
        y = np.asarray(plains, np.float32)[..., None]
        if x.ndim != 4 or x.shape[:3] != y.shape[:3]:
            raise ValueError(f"features must be (N, H, W, C) matching plains (N, H, W); got {x.shape} and {y.shape[:3]}")
        size = min(batch, len(x))
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(int(steps)):
            index = self.rng.integers(len(x), size=size)
            self._step(x[index], y[index])
        self.steps += int(steps)
        self.seconds += time.perf_counter() - t0
        self.cpu_seconds += time.process_time() - c0
        return self

    def decode(self, features, batch: int = 64) -> np.ndarray:
        """Plain images (N, H, W) in [0, 1] read from ``features``."""
        from keras import ops

        x = np.asarray(features, np.float32)
        out = [ops.convert_to_numpy(self.network(x[i:i + batch], training=False)) for i in range(0, len(x), batch)]
        return np.clip(np.concatenate(out)[..., 0], 0.0, 1.0)


def decode_with(model, features, batch: int = 64) -> np.ndarray:
    """Plaintexts (N, H, W) in [0, 1] that a substitute decoder reads from ``features``."""
    import keras

    x = np.asarray(features, np.float32)
    out = np.concatenate([keras.ops.convert_to_numpy(model(x[i:i + batch], training=False))
                          for i in range(0, len(x), batch)])[..., 0]
    return np.clip(out, 0.0, 1.0)


def known_plaintext_curve(cipher, attacker_plains, test_set, ks=(0, 1, 4, 16, 64), steps: int = 300,
                          oracle=None, **train_kwargs) -> dict[int, dict]:
    """Recovered quality of the test images against the number k of known pairs.

    For each k, the attacker encrypts (or is given the encryption of) their first k plaintexts, trains a
    substitute decoder on those pairs and decrypts the test ciphertexts. Returns, per k, ``psnr``,
    ``ssim``, ``mse`` (Intervals over the test sources) and ``seconds`` (training time). ``oracle``: the
    cipher that encrypts the attacker's pairs, when it is not ``cipher`` itself (a hider that must put the
    attacker's images into covers other than the test covers).
    """
    def attack(plains, features, test_features):
        model = train_substitute_decoder(features, plains, steps, **train_kwargs)
        return decode_with(model, test_features), {}

    return curve_over_k(cipher, attacker_plains, test_set, ks, attack, oracle=oracle)


def curve_over_k(cipher, attacker_plains, test_set, ks, attack, at_zero: dict | None = None,
                 oracle=None, fewest: int = 1, view: str = "features") -> dict[int, dict]:
    """The loop every attack curve shares: for each k, ``attack(plains[:k], their ciphertexts' view, the test
    ciphertexts' view)`` returns (recovered images, extra entries); below ``fewest`` pairs (k = 0, or k < 2
    for an attack that needs two equations) the attacker has only the blind constant, their own mean grey
    level (with ``at_zero`` as its extra entries). Per k: ``psnr``, ``ssim``, ``mse`` (Intervals over the
    test sources), ``seconds`` (wall time of the attack, encrypting the pairs included) and the extra
    entries. ``view``: ``"features"`` (``cipher.features``, what a network reads) or ``"ciphertexts"`` (what
    ``encrypt`` returns, for attacks on the ciphertext's own algebra). ``oracle`` (default ``cipher``)
    encrypts the attacker's pairs.
    """
    if view not in ("features", "ciphertexts"):
        raise ValueError(f"view must be 'features' or 'ciphertexts', got {view!r}")
    oracle = cipher if oracle is None else oracle

    def seen(method, images):
        ct = method.encrypt(images)
        return method.features(ct) if view == "features" else ct

    images = test_set.images
    target = as_uint8(images)
    test_view = seen(cipher, images)
    groups = getattr(test_set, "ids", None)
    out = {}
    for k in ks:
        began = time.perf_counter()
        if k < max(int(fewest), 1):
            guess, extra = blind_constant_guess(attacker_plains, images.shape), dict(at_zero or {})
        else:
            plains = np.asarray(attacker_plains[:k])
            guess, extra = attack(plains, seen(oracle, plains), test_view)
        out[int(k)] = {**_quality(target, as_uint8(guess), groups), "seconds": time.perf_counter() - began, **extra}
    return out


def format_curve(curve: dict[int, dict]) -> str:
    """A text table of :func:`known_plaintext_curve`: k, PSNR and SSIM with intervals, training seconds."""
    lines = [f"{'k pairs':>8}{'PSNR (dB)':>22}{'SSIM':>22}{'seconds':>9}"]
    for k, row in curve.items():
        psnr, ssim = row["psnr"], row["ssim"]
        lines.append(f"{k:>8}{psnr.format(1) if isinstance(psnr, Interval) else psnr:>22}"
                     f"{ssim.format(3):>22}{row['seconds']:>9.1f}")
    return "\n".join(lines)

