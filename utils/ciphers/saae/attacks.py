"""The attacks the public encoder invites: chosen plaintexts for a substitute decoder, and inverting the encoder by gradient descent."""

from __future__ import annotations

import time

import keras
import numpy as np

from ...layers.blocks import any_size
from ..attacks import SubstituteDecoder  # the shared attacker network; saae re-exports it
from ..base import Cipher

#: The kinds of plaintext an attacker may choose (see :func:`chosen_plaintexts`).
PLAINTEXT_KINDS = ("medical", "natural", "noise", "smooth noise")


def chosen_plaintexts(kind: str, n: int, size: int = 64, seed: int = 0, data="auto") -> np.ndarray:
    """``n`` plaintexts (float32 (n, size, size) in [0, 1]) an attacker chooses to feed the public encoder.

    * ``"medical"``: patches of the train and validation medical sources (:func:`utils.ciphers.attacks.attacker_images`),
      never the test set;
    * ``"natural"``: patches of the train and validation natural photographs (grey), no medical image at all;
    * ``"noise"``: independent uniform noise per pixel;
    * ``"smooth noise"``: uniform noise blurred at random scales and stretched to [0, 1] (blobs and ramps,
      image-like statistics without any image).
    """
    if kind not in PLAINTEXT_KINDS:
        raise ValueError(f"kind must be one of {PLAINTEXT_KINDS}, got {kind!r}")
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    if kind == "medical":
        from ..attacks import attacker_images

        return attacker_images(size, n, seed=seed, data=data)
    if kind == "natural":
        from ...data import image_set

        half = n // 2
        train = image_set("train", size=size, n=n - half, kind="natural", seed=seed, data=data).images
        parts = [train]
        if half:
            parts.append(image_set("val", size=size, n=half, kind="natural", seed=seed + 1, data=data).images)
        out = np.concatenate(parts)
        return out[rng.permutation(len(out))]
    if kind == "noise":
        return rng.random((n, size, size), dtype=np.float32)
    from scipy.ndimage import gaussian_filter

    out = np.empty((n, size, size), np.float32)
    for i in range(n):
        field = gaussian_filter(rng.random((size, size)), sigma=float(rng.uniform(0.5, size / 6)), mode="wrap")
        field = (field - field.min()) / max(field.max() - field.min(), 1e-12)
        out[i] = field ** float(rng.uniform(0.5, 2.0))
    return out


def chosen_plaintext_curve(cipher: Cipher, plains: np.ndarray, test_set, ks=(0, 16, 64, 256), steps: int = 300,
                           batch: int = 16, seed: int = 0, **network_kwargs) -> dict[int, dict]:
    """Recovered quality of the test images against the number k of chosen pairs.

    The attacker feeds their first k plaintexts ``plains`` to the public encryption (``cipher.encrypt``;
    pass :meth:`SAAECipher.public`) and trains a fresh :class:`SubstituteDecoder` for ``steps`` steps on
    the pairs, as :func:`utils.ciphers.attacks.known_plaintext_curve` does with intercepted pairs. k = 0 is
    the constant guess at the mean grey level of the attacker's images. Returns, per k, ``psnr``,
    ``ssim``, ``mse`` (Intervals over the test sources) and ``seconds`` / ``cpu_seconds`` of training.
    """
    from ..attacks import curve_over_k

    plains = np.asarray(plains, np.float32)
    if max(ks) > len(plains):
        raise ValueError(f"ks go up to {max(ks)} pairs but only {len(plains)} plaintexts were given")

    def attack(chosen, features, test_features):
        attacker = SubstituteDecoder(size=test_set.images.shape[1], seed=seed, **network_kwargs)
        attacker.train(features, chosen, steps, batch)
        return attacker.decode(test_features), {"seconds": attacker.seconds, "cpu_seconds": attacker.cpu_seconds}

    return curve_over_k(cipher, plains, test_set, ks, attack, at_zero={"seconds": 0.0, "cpu_seconds": 0.0})


def attack_time_curve(cipher: Cipher, plains: np.ndarray, test_set, steps: int = 600, checkpoints: int = 6,
                      batch: int = 16, seed: int = 0, **network_kwargs) -> list[dict]:
    """One :class:`SubstituteDecoder` trained on all the chosen pairs, measured on the test set as it trains.

    Returns one row per checkpoint: ``step``, ``seconds`` and ``cpu_seconds`` of training so far (the
    measurements excluded), and ``psnr`` / ``ssim`` / ``mse`` Intervals of the test images it recovers;
    the last row also holds the trained attacker (``decoder``, a :class:`SubstituteDecoder`).
    """
    from ..evaluation import _quality, as_uint8

    plains = np.asarray(plains, np.float32)
    features = cipher.features(cipher.encrypt(plains))
    test_features = cipher.features(cipher.encrypt(test_set.images))
    target = as_uint8(test_set.images)
    groups = getattr(test_set, "ids", None)
    attacker = SubstituteDecoder(size=plains.shape[1], seed=seed, **network_kwargs)
    marks = sorted({max(1, round(steps * (j + 1) / checkpoints)) for j in range(checkpoints)})
    rows = []
    for mark in marks:
        attacker.train(features, plains, mark - attacker.steps, batch)
        rows.append({"step": mark, "seconds": attacker.seconds, "cpu_seconds": attacker.cpu_seconds,
                     **_quality(target, as_uint8(attacker.decode(test_features)), groups)})
    rows[-1]["decoder"] = attacker
    return rows


def invert_encoder(encoder: keras.Model, cipher8: np.ndarray, steps: int = 200, learning_rate: float = 0.05,
                   batch: int = 64, start: np.ndarray | None = None, checkpoints=()) -> dict:
    """Decrypt without any decoder: find x with E(x) = c by gradient descent through the public encoder.

    x = sigmoid(z); z starts at 0 (a grey image), or at the logit of ``start`` (float32 (N, H, W) images in
    [0, 1], clipped to [0.001, 0.999]); Adam on z minimises the mean squared difference between E(x) and the
    cipher image c (uint8 (N, H, W)). Returns ``images`` (float32 (N, H, W)), ``seconds``, ``cpu_seconds``,
    and ``trace``: the images after each step count in ``checkpoints`` (a dict step -> images).
    """
    import tensorflow as tf

    c = np.asarray(cipher8)
    if c.dtype != np.uint8 or c.ndim != 3:
        raise TypeError(f"cipher8 must be uint8 cipher images (N, H, W), got {c.dtype} {c.shape}")
    if start is not None:
        start = np.asarray(start, np.float32)
        if start.shape != c.shape:
            raise ValueError(f"start must have the cipher images' shape {c.shape}, got {start.shape}")
    net = encoder if tuple(encoder.input_shape[1:3]) == c.shape[1:3] else any_size(encoder)
    marks = sorted({int(m) for m in checkpoints if 0 <= int(m) <= steps})
    t0, c0 = time.perf_counter(), time.process_time()
    out, trace = [], {m: [] for m in marks}
    for i in range(0, len(c), batch):
        target = tf.constant(c[i:i + batch, ..., None].astype(np.float32) / 255.0)
        if start is None:
            z = tf.Variable(tf.zeros_like(target))
        else:
            x0 = np.clip(start[i:i + batch, ..., None], 1e-3, 1 - 1e-3)
            z = tf.Variable(np.log(x0 / (1 - x0)).astype(np.float32))
        opt = keras.optimizers.Adam(learning_rate)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(net(tf.sigmoid(z), training=False) - target))
            opt.apply_gradients([(tape.gradient(loss, z), z)])
            return loss

        for k in range(steps + 1):
            if k in trace:
                trace[k].append(tf.sigmoid(z).numpy()[..., 0])
            if k < steps:
                step()
        out.append(tf.sigmoid(z).numpy()[..., 0])
    return {"images": np.concatenate(out).astype(np.float32), "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0,
            "trace": {m: np.concatenate(v).astype(np.float32) for m, v in trace.items()}}
