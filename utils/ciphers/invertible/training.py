"""Training the invertible encryption network: Gaussianity, neighbour-correlation, whiteness and energy losses, the loop."""

from __future__ import annotations

import json
import time

import numpy as np

from ..base import check_images
from .cipher import InvertibleCipher
from .networks import InvertibleNet


def gaussianity_loss(values):
    """How far each image's values are from standard Gaussian noise, channel by channel: the squared
    Wasserstein-2 distance between their empirical distribution and N(0, 1), i.e. the mean squared difference
    between the sorted values and the normal quantiles ``Phi^-1((j + 1/2) / M)``.

    ``values``: (N, H, W) or (N, H, W, C) -> scalar (mean over images and channels). Per channel, because a
    pooled test lets one channel sit at -0.6 and the other at +0.6: a Gaussian mixture, not white noise.
    """
    from keras import ops
    from scipy.special import ndtri

    x = values if len(values.shape) == 4 else values[..., None]
    x = ops.transpose(x, (0, 3, 1, 2))
    flat = ops.reshape(x, (-1, x.shape[2] * x.shape[3]))
    m = flat.shape[-1]
    quantiles = ndtri((np.arange(m) + 0.5) / m).astype(np.float32)
    return ops.mean(ops.square(ops.sort(flat, axis=-1) - quantiles))


def neighbour_correlation(images):
    """Mean squared Pearson correlation of neighbouring pixels in four directions (horizontal, vertical,
    diagonal, anti-diagonal), per image and channel. ``images``: (N, H, W) or (N, H, W, C); 0 for white
    noise, near 1 for natural images."""
    from keras import ops

    x = images if len(images.shape) == 4 else images[..., None]

    def corr(a, b):
        a = a - ops.mean(a, axis=(1, 2), keepdims=True)
        b = b - ops.mean(b, axis=(1, 2), keepdims=True)
        num = ops.mean(a * b, axis=(1, 2))
        den = ops.sqrt(ops.mean(a * a, axis=(1, 2)) * ops.mean(b * b, axis=(1, 2)) + 1e-12)
        return num / den

    pairs = ((x[:, :, :-1], x[:, :, 1:]), (x[:, :-1], x[:, 1:]), (x[:, :-1, :-1], x[:, 1:, 1:]),
             (x[:, :-1, 1:], x[:, 1:, :-1]))
    return sum(ops.mean(ops.square(corr(a, b))) for a, b in pairs) / len(pairs)


def make_train_step(net: InvertibleNet):
    """A compiled training step (TensorFlow backend): a batch (B, H, W) of plaintexts -> the losses.

    total = w_g gaussianity(y) + w_c correlation(y) + w_w correlation(z) + w_e (rms(z) - rms(f))^2

    (``y``: the ciphertext channels; ``z``: the pre-network's output; correlations of neighbouring pixels in
    four directions, :func:`neighbour_correlation`.)
    """
    import keras
    import tensorflow as tf

    c = net.config
    optimizer = keras.optimizers.Adam(c.learning_rate)
    variables = net.layers.trainable_variables

    @tf.function(reduce_retracing=True)
    def step(f):
        with tf.GradientTape() as tape:
            z, y = net.encode(f)
            gauss = gaussianity_loss(y)
            corr = neighbour_correlation(y)
            white = neighbour_correlation(z) if c.pre_blocks else tf.constant(0.0)
            rms_f = tf.sqrt(tf.reduce_mean(tf.square(f), axis=(1, 2)) + 1e-8)
            rms_z = tf.sqrt(tf.reduce_mean(tf.square(z), axis=(1, 2)) + 1e-8)
            energy = tf.reduce_mean(tf.square(rms_z - rms_f))
            total = (c.weight_gauss * gauss + c.weight_correlation * corr + c.weight_white * white
                     + c.weight_energy * energy)
        optimizer.apply_gradients(zip(tape.gradient(total, variables), variables))
        return {"total": total, "gauss": gauss, "correlation": corr, "white": white, "energy": energy}

    return step


def validation_metrics(net: InvertibleNet, images: np.ndarray) -> dict[str, float]:
    """What training watches on validation images: the cipher images' entropy and chi-square, the
    adjacent correlation of the ciphertext and of ``z``, and the decryption's largest error."""
    from ... import metrics

    cipher = InvertibleCipher(net)
    ct = cipher.encrypt(images)
    pictures = cipher.cipher_image(ct)
    z = np.asarray(net.layers.pre_forward(images.astype(np.float32)))
    back = np.asarray(net.decode(cipher.features(ct)))
    z_corr = [np.corrcoef(zz[:, :-1].ravel(), zz[:, 1:].ravel())[0, 1] if zz.std() > 0 else 1.0 for zz in z]
    return {"entropy": round(float(np.mean([metrics.entropy(p) for p in pictures])), 4),
            "chi_square": round(float(np.mean([metrics.chi_square(p)["statistic"] for p in pictures])), 1),
            "cipher_corr": round(float(np.mean([abs(_correlation(p)) for p in pictures])), 4),
            "z_corr": round(float(np.mean(z_corr)), 4),
            "max_error": float(np.abs(back - images).max())}


def _correlation(picture) -> float:
    from ... import metrics

    try:
        return metrics.adjacent_correlation(picture)
    except ValueError:  # a constant cipher image
        return 1.0


def train(net: InvertibleNet, plains: np.ndarray, steps: int, batch: int = 16, val_images=None,
          eval_every: int = 0, progress: bool = True, log=None) -> dict:
    """Train ``net`` on ``plains`` (float (N, H, W) train images; random flips and quarter turns).

    Every ``eval_every`` steps (and at the last) :func:`validation_metrics` is computed on ``val_images``
    (monitoring only). Returns the history: per-step losses, the evaluations, wall and CPU seconds, and
    images per second (over the timed steps, the first compiled step excluded).
    """
    plains = check_images(plains, net.config.image_size, "plains")
    rng = np.random.default_rng([net.config.seed, 0x1A7E])
    step = make_train_step(net)
    history = {k: [] for k in ("total", "gauss", "correlation", "white", "energy")}
    history["evals"] = []
    wall, cpu = time.perf_counter(), time.process_time()
    timed = 0.0
    steps_range = range(int(steps))
    if progress:
        from tqdm.auto import tqdm

        steps_range = tqdm(steps_range, desc="training", mininterval=5, ncols=80)
    for i in steps_range:
        x = plains[rng.integers(len(plains), size=batch)]
        x = np.rot90(x, k=int(rng.integers(4)), axes=(1, 2))
        if rng.random() < 0.5:
            x = x[:, :, ::-1]
        began = time.perf_counter()
        losses = step(np.ascontiguousarray(x, np.float32))
        for k, v in losses.items():
            history[k].append(float(v))
        if i > 0:
            timed += time.perf_counter() - began
        last = i + 1 == int(steps)
        if val_images is not None and ((eval_every and (i + 1) % eval_every == 0) or last):
            row = {"step": i + 1, "loss": round(history["total"][-1], 6), **validation_metrics(net, val_images)}
            history["evals"].append(row)
            if log:
                log(json.dumps(row))
    history["seconds"] = time.perf_counter() - wall
    history["cpu_seconds"] = time.process_time() - cpu
    history["images_per_second"] = batch * max(int(steps) - 1, 1) / max(timed, 1e-9)
    return history
