"""Training DeepEDN's Cycle-GAN: :class:`CycleGAN` (a ``keras.Model`` whose ``train_step`` holds the LSGAN, cycle
and identity losses) and :func:`train_cyclegan` (its ``fit``, with the schedule and validation as callbacks)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ...fitting import fit_stream, progress_bar
from ..base import check_images
from .key_domain import key_domain_images
from .networks import DeepEDN, DeepEDNConfig


def _quantise(x):
    """8-bit rounding with a straight-through gradient: the forward pass sees what is sent."""
    import tensorflow as tf

    return x + tf.stop_gradient(tf.round(x * 255.0) / 255.0 - x)


def _cycle_gan_class():
    """:class:`CycleGAN`, defined on first use: a subclass of ``keras.Model`` needs Keras imported."""
    import keras
    import tensorflow as tf

    class CycleGAN(keras.Model):
        """DeepEDN's Cycle-GAN read whole, after keras.io's ``cyclegan.py``: the four networks, their three
        optimisers (``compile``) and one training step (``train_step``); ``fit`` runs the loop.

        One step (TensorFlow backend) takes a batch (x plain, y key-domain), both (B, H, W, 1): generators
        and discriminators are updated at once from one forward pass (the discriminators' losses see the
        fakes through ``stop_gradient``), each network set with its own Adam. ``adversarial_weight`` (0 during
        a warm-up, then 1) scales the generators' adversarial terms; :func:`train_cyclegan` sets it and the
        learning rates per step from callbacks.

        Only the networks are saved (weights files of their own), never this model: its ``compile`` takes the
        training's settings, not Keras's ``optimizer`` and ``loss``.
        """

        def __init__(self, model: DeepEDN):
            super().__init__(name="cycle_gan")
            self.deepedn = model
            self.G, self.F, self.D_cipher, self.D_plain = model.G, model.F, model.D_cipher, model.D_plain
            c = model.config
            self.lambda_cycle, self.lambda_identity = float(c.lambda_cycle), float(c.lambda_identity)
            self.lambda_back = self.lambda_cycle if c.lambda_cycle_back is None else float(c.lambda_cycle_back)
            self.adversarial_weight = tf.Variable(1.0, trainable=False, name="adversarial_weight")
            self.built = True  # the four networks are built; this model holds no weights of its own

        def compile(self, learning_rate: float, beta_1: float):
            super().compile(optimizer=None, jit_compile=False)  # XLA would change the sums: the course runs without it
            self.optimizers = {k: keras.optimizers.Adam(learning_rate, beta_1=beta_1, name=f"adam_{k}")
                               for k in ("gen", "dc", "dp")}

        def train_step(self, data):
            x, y = data
            y = tf.round(y * 255.0) / 255.0  # the key domain as 8-bit images, like the cipher images

            def mse_to(t, value):
                return tf.reduce_mean(tf.square(t - value))

            with tf.GradientTape(persistent=True) as tape:
                fake_c = _quantise(self.G(x, training=True))
                rec_x = self.F(fake_c, training=True)
                fake_x = self.F(y, training=True)
                rec_y = self.G(fake_x, training=True)
                adv_g = mse_to(self.D_cipher(fake_c, training=True), 1.0)
                adv_f = mse_to(self.D_plain(fake_x, training=True), 1.0)
                cycle_x = tf.reduce_mean(tf.abs(rec_x - x))  # plain -> cipher -> plain: decryption
                cycle_y = tf.reduce_mean(tf.abs(rec_y - y))  # key domain -> plain -> key domain
                if self.lambda_identity > 0:
                    identity = (tf.reduce_mean(tf.abs(self.G(y, training=True) - y))
                                + tf.reduce_mean(tf.abs(self.F(x, training=True) - x)))
                else:
                    identity = tf.constant(0.0)
                gen = (self.adversarial_weight * (adv_g + adv_f) + self.lambda_cycle * cycle_x
                       + self.lambda_back * cycle_y + self.lambda_identity * identity)
                d_c = 0.5 * (mse_to(self.D_cipher(y, training=True), 1.0)
                             + mse_to(self.D_cipher(tf.stop_gradient(fake_c), training=True), 0.0))
                d_p = 0.5 * (mse_to(self.D_plain(x, training=True), 1.0)
                             + mse_to(self.D_plain(tf.stop_gradient(fake_x), training=True), 0.0))
            gen_vars = self.G.trainable_variables + self.F.trainable_variables
            for loss, variables, opt in ((gen, gen_vars, self.optimizers["gen"]),
                                         (d_c, self.D_cipher.trainable_variables, self.optimizers["dc"]),
                                         (d_p, self.D_plain.trainable_variables, self.optimizers["dp"])):
                opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            del tape
            return {"gen": gen, "adv_G": adv_g, "adv_F": adv_f, "cycle": cycle_x + cycle_y, "cycle_x": cycle_x,
                    "cycle_y": cycle_y, "identity": identity, "D_cipher": d_c, "D_plain": d_p}

    return CycleGAN


def cycle_gan(model: DeepEDN):
    """DeepEDN's networks as one compiled ``keras.Model`` whose ``train_step`` is one Cycle-GAN step
    (the class :class:`CycleGAN` is made on first use, so that importing this module does not import Keras)."""
    trainer = _cycle_gan_class()(model)
    trainer.compile(model.config.learning_rate, model.config.beta_1)
    return trainer


def learning_rate_at(config: DeepEDNConfig, step: int, steps: int) -> float:
    """Cycle-GAN's schedule when ``config.lr_decay``: constant for the first half, then linearly to 0."""
    if not config.lr_decay or step <= steps // 2:
        return float(config.learning_rate)
    return float(config.learning_rate) * max(0.0, (steps - step + 1) / (steps - steps // 2))


def validation_metrics(model: DeepEDN, images: np.ndarray) -> dict[str, float]:
    """What training watches on validation images: decryption PSNR of the 8-bit cipher images, the cipher
    images' mean entropy, and the mean |correlation| between a plain image and its cipher image (leakage)."""
    from ... import metrics
    from ..evaluation import as_uint8

    cipher8 = as_uint8(model.cipher_float(images))
    back8 = as_uint8(model.decrypt_float(cipher8.astype(np.float32) / 255.0))
    plain8 = as_uint8(images)
    psnr = float(np.mean([min(metrics.psnr(a, b), 100.0) for a, b in zip(plain8, back8)]))
    entropy = float(np.mean([metrics.entropy(c) for c in cipher8]))
    leak = []
    for p, c in zip(plain8.astype(np.float64), cipher8.astype(np.float64)):
        ok = p.std() > 0 and c.std() > 0
        leak.append(abs(np.corrcoef(p.ravel(), c.ravel())[0, 1]) if ok else 0.0)
    return {"psnr": round(psnr, 3), "entropy": round(entropy, 4), "leak_corr": round(float(np.mean(leak)), 4)}


@dataclass
class _Stream:
    """Batches of plain training images (random flips and quarter turns) and fresh key-domain samples."""

    plains: np.ndarray
    config: DeepEDNConfig
    seed: int = 0
    targets: np.ndarray | None = None  # cipher-domain images to draw from instead of the key domain
    rng: np.random.Generator = field(init=False, repr=False)
    drawn: int = field(default=0, init=False)

    def __post_init__(self):
        self.rng = np.random.default_rng([self.seed, 0xDA7A])

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        x = self.plains[self.rng.integers(len(self.plains), size=size)]
        x = np.rot90(x, k=int(self.rng.integers(4)), axes=(1, 2))
        if self.rng.random() < 0.5:
            x = x[:, :, ::-1]
        c = self.config
        if self.targets is None:
            y = key_domain_images(size, c.image_size, c.key_domain, c.key, seed=self.seed * 1_000_003 + self.drawn)
        else:  # the same augmentation as the plain side
            y = np.rot90(self.targets[self.rng.integers(len(self.targets), size=size)], k=int(self.rng.integers(4)),
                         axes=(1, 2))
            y = np.ascontiguousarray(y[:, :, ::-1] if self.rng.random() < 0.5 else y)
        self.drawn += 1
        return np.ascontiguousarray(x)[..., None].astype(np.float32), y[..., None]


def train_cyclegan(model: DeepEDN, plains: np.ndarray, steps: int, batch: int = 8, val_images=None,
                   eval_every: int = 0, progress: bool = True, seed: int | None = None, log=None,
                   max_minutes: float | None = None, targets: np.ndarray | None = None) -> dict:
    """Train the Cycle-GAN on ``plains`` (float (N, H, W) train images) against the model's key domain:
    ``fit`` of :func:`cycle_gan`'s model on a stream of batches (:func:`utils.fitting.fit_stream`), one epoch
    of ``steps`` steps, with the schedule, the validation and the time limit as callbacks.

    ``targets``: float (M, H, W) images in [0, 1] to use as the cipher domain instead of samples of the
    key domain (never paired with ``plains``). The key holder leaves it None; an eavesdropper who retrains
    the recipe against intercepted cipher images passes them here (:mod:`.attacks`).

    Every ``eval_every`` steps (and at the last) :func:`validation_metrics` is computed on ``val_images``
    (validation images: monitoring only). Training stops after ``steps`` steps or, if given, after the
    first step that ends past ``max_minutes`` of wall time (``steps_done`` says which; that step is
    validated). Returns the history: per-step losses, the evaluations, wall and CPU seconds and images per
    second. ``log``: a callable that gets a line per evaluation. Raises FloatingPointError when the generators' loss stops being a number.
    """
    import keras

    if int(steps) < 1 or int(batch) < 1:
        raise ValueError(f"steps and batch must be >= 1, got steps={steps!r}, batch={batch!r}")
    steps = int(steps)
    plains = check_images(plains, model.config.image_size, "plains")
    if targets is not None:
        targets = check_images(targets, model.config.image_size, "targets")
    stream = _Stream(plains, model.config, model.config.seed if seed is None else seed, targets)
    trainer = cycle_gan(model)
    history: dict = {"step": [], "evals": []}
    wall = time.perf_counter()

    def batches():
        while True:
            yield stream.batch(batch)

    class Schedule(keras.callbacks.Callback):
        """Before each step: the adversarial terms' weight (0 during the warm-up) and the learning rates."""

        def on_train_batch_begin(self, index, logs=None):
            i = index + 1
            trainer.adversarial_weight.assign(0.0 if i <= model.config.warmup_steps else 1.0)
            for opt in trainer.optimizers.values():
                opt.learning_rate = learning_rate_at(model.config, i, steps)

    class Record(keras.callbacks.Callback):
        """After each step: the losses, the validation and the time limit."""

        def on_train_batch_end(self, index, logs=None):
            i, losses = index + 1, {k: float(v) for k, v in logs.items()}
            if not np.isfinite(losses["gen"]):
                raise FloatingPointError(f"generator loss became {losses['gen']} at step {i}; lower the learning rate")
            out_of_time = max_minutes is not None and time.perf_counter() - wall > 60 * max_minutes
            history["step"].append(i)
            for k, v in losses.items():
                history.setdefault(k, []).append(v)
            if val_images is not None and eval_every and (i % eval_every == 0 or i == steps or out_of_time):
                ev = {"step": i, **validation_metrics(model, val_images)}
                history["evals"].append(ev)
                if log is not None:
                    log(f"step {i}: cycle x {losses['cycle_x']:.4f} y {losses['cycle_y']:.4f} adv_G {losses['adv_G']:.3f} "
                        f"D_cipher {losses['D_cipher']:.3f} | val {ev}")
            if out_of_time:
                self.model.stop_training = True

    cpu = time.process_time()
    side = model.config.image_size
    bar = progress_bar(steps, "Cycle-GAN", progress,
                       lambda logs: {"cycle": f"{float(logs['cycle']):.3f}", "adv_G": f"{float(logs['adv_G']):.2f}"})
    fit_stream(trainer, batches, [(batch, side, side, 1)] * 2, steps, [Schedule(), Record(), bar])
    history["steps_done"] = len(history["step"])
    history["seconds"] = time.perf_counter() - wall
    history["cpu_seconds"] = time.process_time() - cpu
    history["images_per_second"] = history["steps_done"] * batch / history["seconds"]
    return history
