"""Training the scrambling adversarial autoencoder: 8-bit straight-through cipher images, reconstruction and
adversarial losses (:func:`saae_losses`), one step (:class:`AdversarialAutoencoder`, a ``keras.Model``), its
``fit`` (:func:`train`)."""

from __future__ import annotations

import time

import keras
import numpy as np
from keras import ops

from ...fitting import fit_stream, progress_bar
from .networks import SAAE, quantise


def saae_losses(model: SAAE, x, noise, training: bool = True) -> dict:
    """The losses of one batch ``x`` (N, H, W, 1) against ``noise`` (uniform images of the same shape).

    Returns ``reconstruction`` (mean absolute error), ``adversarial`` (the encoder's LSGAN term),
    ``total`` (reconstruction + lambda adversarial), ``critic`` (the critic's LSGAN loss) and ``cipher``.
    """
    cipher = quantise(model.encoder(x, training=training))
    recovered = model.decoder(cipher, training=training)
    fake = model.critic(cipher, training=training)
    real = model.critic(ops.round(noise * 255.0) / 255.0, training=training)
    reconstruction = ops.mean(ops.abs(recovered - x))
    adversarial = ops.mean(ops.square(fake - 1.0))
    # the critic's loss is applied to the critic's weights only (see AdversarialAutoencoder.train_step), so it never trains the encoder
    critic = 0.5 * (ops.mean(ops.square(real - 1.0)) + ops.mean(ops.square(fake)))
    return {"reconstruction": reconstruction, "adversarial": adversarial,
            "total": reconstruction + model.config.adv_weight * adversarial, "critic": critic, "cipher": cipher}


class AdversarialAutoencoder(keras.Model):
    """SAAE's three networks trained as one ``keras.Model``, after keras.io's ``cyclegan.py``: ``compile``
    makes the two optimisers, ``train_step`` is one step, ``fit`` runs the loop (:func:`train` adds the
    batches, the validation and the best-weights rule as callbacks).

    One step (TensorFlow backend) draws uniform noise for the critic's real side, computes
    :func:`saae_losses` in one forward pass, and takes one Adam step for encoder + decoder on ``total`` and
    one for the critic on ``critic``. ``decay_steps`` (in ``compile``): both learning rates follow a cosine
    from ``learning_rate`` down to 10 % of it over that many steps (0: constant).

    Only the networks are saved (weights files of their own), never this model: its ``compile`` takes the
    training's settings, not Keras's ``optimizer`` and ``loss``.
    """

    def __init__(self, model: SAAE):
        super().__init__(name="saae_training")
        self.saae = model
        self.encoder, self.decoder, self.critic = model.encoder, model.decoder, model.critic
        self.built = True  # the three networks are built; this model holds no weights of its own

    def compile(self, learning_rate: float, decay_steps: int = 0):
        super().compile(optimizer=None, jit_compile=False)  # XLA would change the sums: the course runs without it

        def rate():
            if not decay_steps:
                return learning_rate
            return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=0.1)

        self.autoencoder_variables = self.encoder.trainable_variables + self.decoder.trainable_variables
        self.autoencoder_optimizer = keras.optimizers.Adam(rate(), beta_1=0.5)
        self.critic_optimizer = keras.optimizers.Adam(rate(), beta_1=0.5)
        self.autoencoder_optimizer.build(self.autoencoder_variables)
        self.critic_optimizer.build(self.critic.trainable_variables)
        self.noise_seed = keras.random.SeedGenerator(self.saae.config.seed + 1000)

    def train_step(self, data):
        import tensorflow as tf

        (x,) = data
        noise = keras.random.uniform(ops.shape(x), seed=self.noise_seed)
        with tf.GradientTape(persistent=True) as tape:
            losses = saae_losses(self.saae, x, noise)
        critic_variables = self.critic.trainable_variables
        self.autoencoder_optimizer.apply_gradients(
            zip(tape.gradient(losses["total"], self.autoencoder_variables), self.autoencoder_variables))
        self.critic_optimizer.apply_gradients(zip(tape.gradient(losses["critic"], critic_variables), critic_variables))
        del tape
        return {k: v for k, v in losses.items() if k != "cipher"}


def training_images(size: int = 64, n: int = 2048, seed: int = 0, data="auto") -> np.ndarray:
    """``n`` grey training patches (float32 (n, size, size)) of the train split's medical sources."""
    from ...data import image_set

    return image_set("train", size=size, n=n, seed=seed, data=data).images


def augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random flips and quarter turns of each (N, H, W) image (the training data's only augmentation)."""
    out = np.empty_like(batch)
    for i, image in enumerate(batch):
        image = np.rot90(image, int(rng.integers(4)))
        out[i] = image[:, ::-1] if rng.random() < 0.5 else image
    return out


def evaluate(model: SAAE, images) -> dict[str, float]:
    """Means over ``images`` (float32 (N, H, W)): PSNR and SSIM of the decryption read from the 8-bit
    cipher image, the cipher images' entropy and histogram chi-square, and the critic's score."""
    from ... import metrics
    from ..evaluation import as_uint8

    cipher8 = as_uint8(model.encode(images))
    back8 = as_uint8(model.decode(cipher8.astype(np.float32) / 255.0))
    plain8 = as_uint8(images)
    return {"psnr": float(np.mean([min(metrics.psnr(a, b), 100.0) for a, b in zip(plain8, back8)])),
            "ssim": float(np.mean([metrics.ssim(a, b) for a, b in zip(plain8, back8)])),
            "entropy": float(np.mean([metrics.entropy(c) for c in cipher8])),
            "chi_square": float(np.mean([metrics.chi_square(c)["statistic"] for c in cipher8])),
            "critic": float(np.mean(model.critic_scores(cipher8.astype(np.float32) / 255.0)))}


def train(model: SAAE, images, steps: int, batch: int = 16, learning_rate: float = 1e-3, val=None,
          eval_every: int = 0, keep: str = "last", decay: bool = False, progress: bool = True, on_eval=None,
          seed: int | None = None) -> dict:
    """Train ``model`` on ``images`` (float32 (N, H, W), flipped and turned at random) for ``steps`` batches:
    ``fit`` of :class:`AdversarialAutoencoder` on a stream of batches (:func:`utils.fitting.fit_stream`), with the
    validation as a callback.

    Every ``eval_every`` steps the model is measured on ``val`` (float32 (N, H, W) validation images,
    never test images) with :func:`evaluate`, and ``on_eval(result)`` is called with the result (a dict with
    ``step``, the mean losses since the last evaluation and the validation measures). ``keep="best"``
    restores, at the end, the weights of the evaluation with the highest validation PSNR; ``"last"`` keeps
    the last weights. ``decay``: cosine decay of the learning rates to 10 % over ``steps``. ``progress``: a
    tqdm bar (for the command line).

    Returns a history: per step ``reconstruction``, ``adversarial``, ``total``, ``critic`` (lists), the
    evaluations (``evals``: dicts with ``step``), ``seconds`` and ``cpu_seconds`` of the training steps
    (evaluations excluded), ``images_per_second`` and ``kept_step``.
    """
    from ..base import check_images

    if int(steps) < 1 or int(batch) < 1:
        raise ValueError(f"steps and batch must be >= 1, got steps={steps!r}, batch={batch!r}")
    steps = int(steps)
    images = check_images(images, model.config.image_size, "images")
    if keep not in ("last", "best"):
        raise ValueError(f"keep must be 'last' or 'best', got {keep!r}")
    if keep == "best" and (val is None or not eval_every):
        raise ValueError("keep='best' needs validation images (val) and eval_every > 0")
    rng = np.random.default_rng(model.config.seed if seed is None else seed)
    trainer = AdversarialAutoencoder(model)
    trainer.compile(learning_rate, steps if decay else 0)
    history = {k: [] for k in ("reconstruction", "adversarial", "total", "critic")}
    history["evals"] = []
    state = {"best": -np.inf, "weights": None, "seconds": 0.0, "cpu": 0.0}

    making = [0.0, 0.0]  # wall and CPU seconds spent drawing batches, which fit does inside each step

    def batches():
        while True:
            began = time.perf_counter(), time.process_time()
            x = augment(images[rng.integers(len(images), size=batch)], rng)[..., None]
            making[0] += time.perf_counter() - began[0]
            making[1] += time.process_time() - began[1]
            yield (x,)  # inputs, no targets

    class Record(keras.callbacks.Callback):
        """Around each step: its wall and CPU time; after it, the losses and the validation."""

        def on_train_batch_begin(self, index, logs=None):
            self.began = time.perf_counter(), time.process_time(), list(making)

        def on_train_batch_end(self, index, logs=None):
            i, values = index + 1, {k: float(v) for k, v in logs.items()}  # reading the losses waits for the step
            state["seconds"] += time.perf_counter() - self.began[0] - (making[0] - self.began[2][0])
            state["cpu"] += time.process_time() - self.began[1] - (making[1] - self.began[2][1])
            for k, v in values.items():
                history[k].append(v)
            if val is not None and eval_every and (i % eval_every == 0 or i == steps):
                since = i - (history["evals"][-1]["step"] if history["evals"] else 0)
                result = {"step": i, **{k: float(np.mean(history[k][-since:])) for k in ("reconstruction",
                                                                                          "adversarial", "critic")},
                          **{f"val_{k}": v for k, v in evaluate(model, val).items()}}
                history["evals"].append(result)
                if on_eval is not None:
                    on_eval(result)
                if keep == "best" and result["val_psnr"] > state["best"]:
                    state["best"], state["weights"] = result["val_psnr"], (i, model.get_weights())

    side = model.config.image_size
    bar = progress_bar(steps, "SAAE training", progress, lambda logs: {
        "rec": f"{float(logs['reconstruction']):.3f}", "adv": f"{float(logs['adversarial']):.3f}"})
    fit_stream(trainer, batches, [(batch, side, side, 1)], steps, [Record(), bar])
    kept = steps
    if keep == "best" and state["weights"] is not None:
        kept, weights = state["weights"]
        model.set_weights(weights)
    history.update(seconds=state["seconds"], cpu_seconds=state["cpu"],
                   images_per_second=steps * batch / max(state["seconds"], 1e-9), kept_step=kept)
    return history
