"""Training the invertible encryption network: Gaussianity, neighbour-correlation, whiteness and energy losses in
the ``train_step`` of a ``keras.Model`` (:func:`training_model`), run by its ``fit`` (:func:`train`)."""

from __future__ import annotations

import json
import time

import numpy as np

from ...fitting import fit_stream, progress_bar
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


def _training_class():
    """:class:`InvertibleTraining`, defined on first use: a subclass of ``keras.Model`` needs Keras imported."""
    import keras
    import tensorflow as tf

    class InvertibleTraining(keras.Model):
        """The invertible cipher's network trained as a ``keras.Model``, after keras.io's ``real_nvp.py``:
        ``compile`` makes its Adam, ``train_step`` is one step on a batch (B, H, W) of plaintexts, ``fit`` runs
        the loop (:func:`train`). The loss (TensorFlow backend)::

            total = w_g gaussianity(y) + w_c correlation(y) + w_w correlation(z) + w_e (rms(z) - rms(f))^2

        (``y``: the ciphertext channels; ``z``: the pre-network's output; correlations of neighbouring pixels
        in four directions, :func:`neighbour_correlation`.)

        Only the networks are saved (weights files of their own), never this model: its ``compile`` takes the
        training's settings, not Keras's ``optimizer`` and ``loss``.
        """

        def __init__(self, net: InvertibleNet):
            super().__init__(name="invertible_training")
            self.net, self.blocks = net, net.layers
            self.built = True  # the network is built; this model holds no weights of its own

        def compile(self, learning_rate: float):
            super().compile(optimizer=None, jit_compile=False)  # XLA would change the sums: the course runs without it
            self.adam = keras.optimizers.Adam(learning_rate)

        def train_step(self, data):
            (f,) = data
            c = self.net.config
            variables = self.blocks.trainable_variables
            with tf.GradientTape() as tape:
                z, y = self.net.encode(f)
                gauss = gaussianity_loss(y)
                corr = neighbour_correlation(y)
                white = neighbour_correlation(z) if c.pre_blocks else tf.constant(0.0)
                rms_f = tf.sqrt(tf.reduce_mean(tf.square(f), axis=(1, 2)) + 1e-8)
                rms_z = tf.sqrt(tf.reduce_mean(tf.square(z), axis=(1, 2)) + 1e-8)
                energy = tf.reduce_mean(tf.square(rms_z - rms_f))
                total = (c.weight_gauss * gauss + c.weight_correlation * corr + c.weight_white * white
                         + c.weight_energy * energy)
            self.adam.apply_gradients(zip(tape.gradient(total, variables), variables))
            return {"total": total, "gauss": gauss, "correlation": corr, "white": white, "energy": energy}

    return InvertibleTraining


def training_model(net: InvertibleNet):
    """``net`` as one compiled ``keras.Model`` whose ``train_step`` is one training step (the class,
    ``InvertibleTraining``, is made on first use, so that importing this module does not import Keras)."""
    trainer = _training_class()(net)
    trainer.compile(net.config.learning_rate)
    return trainer


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
    """Train ``net`` on ``plains`` (float (N, H, W) train images; random flips and quarter turns): ``fit`` of
    :func:`training_model` on a stream of batches (:func:`utils.fitting.fit_stream`), the validation as a callback.

    Every ``eval_every`` steps (and at the last) :func:`validation_metrics` is computed on ``val_images``
    (monitoring only). Returns the history: per-step losses, the evaluations, wall and CPU seconds, and
    images per second (over the timed steps, the first compiled step and the drawing of batches excluded).
    Raises ValueError for ``steps`` or ``batch`` below 1 and for plaintexts that are not a float batch.
    """
    import keras

    if int(steps) < 1 or int(batch) < 1:
        raise ValueError(f"steps and batch must be >= 1, got steps={steps!r}, batch={batch!r}")
    plains = check_images(plains, net.config.image_size, "plains")
    steps = int(steps)
    rng = np.random.default_rng([net.config.seed, 0x1A7E])
    trainer = training_model(net)
    history = {k: [] for k in ("total", "gauss", "correlation", "white", "energy")}
    history["evals"] = []
    wall, cpu = time.perf_counter(), time.process_time()
    timed = [0.0]

    making = [0.0]  # seconds spent drawing batches, which fit does inside each step

    def batches():
        while True:
            began = time.perf_counter()
            x = plains[rng.integers(len(plains), size=batch)]
            x = np.rot90(x, k=int(rng.integers(4)), axes=(1, 2))
            if rng.random() < 0.5:
                x = x[:, :, ::-1]
            x = np.ascontiguousarray(x, np.float32)
            making[0] += time.perf_counter() - began
            yield (x,)  # inputs, no targets

    class Record(keras.callbacks.Callback):
        """Around each step: its time (the first, compiled step excluded); after it, losses and validation."""

        def on_train_batch_begin(self, index, logs=None):
            self.began = time.perf_counter(), making[0]

        def on_train_batch_end(self, index, logs=None):
            for k, v in logs.items():  # reading the losses waits for the step
                history[k].append(float(v))
            if index > 0:
                timed[0] += time.perf_counter() - self.began[0] - (making[0] - self.began[1])
            i = index + 1
            if val_images is not None and ((eval_every and i % eval_every == 0) or i == steps):
                row = {"step": i, "loss": round(history["total"][-1], 6), **validation_metrics(net, val_images)}
                history["evals"].append(row)
                if log:
                    log(json.dumps(row))

    size = net.config.image_size
    fit_stream(trainer, batches, [(batch, size, size)], steps, [Record(), progress_bar(steps, "training", progress)])
    history["seconds"] = time.perf_counter() - wall
    history["cpu_seconds"] = time.process_time() - cpu
    history["images_per_second"] = batch * max(steps - 1, 1) / max(timed[0], 1e-9)
    return history
