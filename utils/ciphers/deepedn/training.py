"""Training DeepEDN's Cycle-GAN: the LSGAN, cycle and identity losses, one step, the loop with validation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..base import check_images
from .key_domain import key_domain_images
from .networks import DeepEDN, DeepEDNConfig


def _quantise(x):
    """8-bit rounding with a straight-through gradient: the forward pass sees what is sent."""
    import tensorflow as tf

    return x + tf.stop_gradient(tf.round(x * 255.0) / 255.0 - x)


def make_train_step(model: DeepEDN):
    """A compiled Cycle-GAN step (TensorFlow backend): (x plain, y key-domain) batches (B, H, W, 1) -> losses.

    Generators and discriminators are updated at once from one forward pass (their losses use
    ``stop_gradient`` on the fakes the discriminators see), each network with its own Adam.
    """
    import keras
    import tensorflow as tf

    c = model.config
    opts = {k: keras.optimizers.Adam(c.learning_rate, beta_1=c.beta_1, name=f"adam_{k}") for k in ("gen", "dc", "dp")}
    gen_vars = model.G.trainable_variables + model.F.trainable_variables
    adv_weight = tf.Variable(1.0, trainable=False, name="adversarial_weight")
    lam_c, lam_i = float(c.lambda_cycle), float(c.lambda_identity)
    lam_b = lam_c if c.lambda_cycle_back is None else float(c.lambda_cycle_back)

    def mse_to(t, value):
        return tf.reduce_mean(tf.square(t - value))

    @tf.function(reduce_retracing=True)
    def step(x, y):
        y = tf.round(y * 255.0) / 255.0  # the key domain as 8-bit images, like the cipher images
        with tf.GradientTape(persistent=True) as tape:
            fake_c = _quantise(model.G(x, training=True))
            rec_x = model.F(fake_c, training=True)
            fake_x = model.F(y, training=True)
            rec_y = model.G(fake_x, training=True)
            adv_g = mse_to(model.D_cipher(fake_c, training=True), 1.0)
            adv_f = mse_to(model.D_plain(fake_x, training=True), 1.0)
            cycle_x = tf.reduce_mean(tf.abs(rec_x - x))  # plain -> cipher -> plain: decryption
            cycle_y = tf.reduce_mean(tf.abs(rec_y - y))  # key domain -> plain -> key domain
            if lam_i > 0:
                identity = (tf.reduce_mean(tf.abs(model.G(y, training=True) - y))
                            + tf.reduce_mean(tf.abs(model.F(x, training=True) - x)))
            else:
                identity = tf.constant(0.0)
            gen = adv_weight * (adv_g + adv_f) + lam_c * cycle_x + lam_b * cycle_y + lam_i * identity
            d_c = 0.5 * (mse_to(model.D_cipher(y, training=True), 1.0)
                         + mse_to(model.D_cipher(tf.stop_gradient(fake_c), training=True), 0.0))
            d_p = 0.5 * (mse_to(model.D_plain(x, training=True), 1.0)
                         + mse_to(model.D_plain(tf.stop_gradient(fake_x), training=True), 0.0))
        for loss, variables, opt in ((gen, gen_vars, opts["gen"]),
                                     (d_c, model.D_cipher.trainable_variables, opts["dc"]),
                                     (d_p, model.D_plain.trainable_variables, opts["dp"])):
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        del tape
        return {"gen": gen, "adv_G": adv_g, "adv_F": adv_f, "cycle": cycle_x + cycle_y, "cycle_x": cycle_x,
                "cycle_y": cycle_y, "identity": identity,
                "D_cipher": d_c, "D_plain": d_p}

    step.adversarial_weight = adv_weight
    step.optimizers = list(opts.values())
    return step


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
    """Train the Cycle-GAN on ``plains`` (float (N, H, W) train images) against the model's key domain.

    ``targets``: float (M, H, W) images in [0, 1] to use as the cipher domain instead of samples of the
    key domain (never paired with ``plains``). The key holder leaves it None; an eavesdropper who retrains
    the recipe against intercepted cipher images passes them here (:mod:`.attacks`).

    Every ``eval_every`` steps (and at the last) :func:`validation_metrics` is computed on ``val_images``
    (validation images: monitoring only). Training stops after ``steps`` steps or, if given, once
    ``max_minutes`` of wall time have passed (``steps_done`` says which). Returns the history: per-step
    losses, the evaluations, wall and CPU seconds and images per second. ``log``: a callable that gets a
    line per evaluation.
    """
    import tensorflow as tf
    from tqdm import tqdm

    if int(steps) < 1 or int(batch) < 1:
        raise ValueError(f"steps and batch must be >= 1, got steps={steps!r}, batch={batch!r}")
    plains = check_images(plains, model.config.image_size, "plains")
    if targets is not None:
        targets = check_images(targets, model.config.image_size, "targets")
    stream = _Stream(plains, model.config, model.config.seed if seed is None else seed, targets)
    step = make_train_step(model)
    history: dict = {"step": [], "evals": []}
    wall, cpu = time.perf_counter(), time.process_time()
    bar = tqdm(range(1, int(steps) + 1), disable=not progress, mininterval=5.0, desc="Cycle-GAN", leave=True)
    for i in bar:
        out_of_time = max_minutes is not None and time.perf_counter() - wall > 60 * max_minutes
        last = i == steps or out_of_time
        x, y = stream.batch(batch)
        step.adversarial_weight.assign(0.0 if i <= model.config.warmup_steps else 1.0)
        for opt in step.optimizers:
            opt.learning_rate = learning_rate_at(model.config, i, int(steps))
        losses = {k: float(v) for k, v in step(tf.constant(x), tf.constant(y)).items()}
        if not np.isfinite(losses["gen"]):
            raise FloatingPointError(f"generator loss became {losses['gen']} at step {i}; lower the learning rate")
        history["step"].append(i)
        for k, v in losses.items():
            history.setdefault(k, []).append(v)
        if val_images is not None and eval_every and (i % eval_every == 0 or last):
            ev = {"step": i, **validation_metrics(model, val_images)}
            history["evals"].append(ev)
            if log is not None:
                log(f"step {i}: cycle x {losses['cycle_x']:.4f} y {losses['cycle_y']:.4f} adv_G {losses['adv_G']:.3f} D_cipher "
                    f"{losses['D_cipher']:.3f} | val {ev}")
        if progress and i % 10 == 0:
            bar.set_postfix(cycle=f"{losses['cycle']:.3f}", adv_G=f"{losses['adv_G']:.2f}")
        if out_of_time:
            break
    bar.close()
    history["steps_done"] = len(history["step"])
    history["seconds"] = time.perf_counter() - wall
    history["cpu_seconds"] = time.process_time() - cpu
    history["images_per_second"] = history["steps_done"] * batch / history["seconds"]
    return history
