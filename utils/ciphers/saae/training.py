"""Training the scrambling adversarial autoencoder: 8-bit straight-through cipher images, reconstruction and adversarial losses, the loop."""

from __future__ import annotations

import time

import keras
import numpy as np
from keras import ops

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
    # the critic's loss is applied to the critic's weights only (see _make_step), so it never trains the encoder
    critic = 0.5 * (ops.mean(ops.square(real - 1.0)) + ops.mean(ops.square(fake)))
    return {"reconstruction": reconstruction, "adversarial": adversarial,
            "total": reconstruction + model.config.adv_weight * adversarial, "critic": critic, "cipher": cipher}


def _make_step(model: SAAE, learning_rate: float, decay_steps: int = 0):
    """A compiled training step: one Adam step for encoder+decoder on ``total``, one for the critic.

    With ``decay_steps``, both learning rates follow a cosine from ``learning_rate`` down to 10 % of it.
    """
    import tensorflow as tf

    def rate():
        if not decay_steps:
            return learning_rate
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=0.1)

    opt_ed = keras.optimizers.Adam(rate(), beta_1=0.5)
    opt_k = keras.optimizers.Adam(rate(), beta_1=0.5)
    ed_vars = model.encoder.trainable_variables + model.decoder.trainable_variables
    k_vars = model.critic.trainable_variables
    opt_ed.build(ed_vars)
    opt_k.build(k_vars)
    noise_seed = keras.random.SeedGenerator(model.config.seed + 1000)

    @tf.function(reduce_retracing=True)
    def step(x):
        noise = keras.random.uniform(ops.shape(x), seed=noise_seed)
        with tf.GradientTape(persistent=True) as tape:
            losses = saae_losses(model, x, noise)
        opt_ed.apply_gradients(zip(tape.gradient(losses["total"], ed_vars), ed_vars))
        opt_k.apply_gradients(zip(tape.gradient(losses["critic"], k_vars), k_vars))
        del tape
        return {k: v for k, v in losses.items() if k != "cipher"}

    return step


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
    """Train ``model`` on ``images`` (float32 (N, H, W), flipped and turned at random) for ``steps`` batches.

    Every ``eval_every`` steps the model is measured on ``val`` (float32 (N, H, W) validation images,
    never test images) with :func:`evaluate`, and ``on_eval(result)`` is called with the result (a dict with
    ``step``, the mean losses since the last evaluation and the validation measures). ``keep="best"``
    restores, at the end, the weights of the evaluation with the highest validation PSNR; ``"last"`` keeps
    the last weights. ``decay``: cosine decay of the learning rates to 10 % over ``steps``. ``progress``: a
    tqdm bar (for the command line).

    Returns a history: per step ``reconstruction``, ``adversarial``, ``total``, ``critic`` (lists), the
    evaluations (``evals``: dicts with ``step``), ``seconds`` and ``cpu_seconds`` of training (evaluations
    excluded), ``images_per_second`` and ``kept_step``.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 3 or images.shape[1:] != (model.config.image_size,) * 2:
        raise ValueError(f"images must be (N, {model.config.image_size}, {model.config.image_size}), got {images.shape}")
    if keep not in ("last", "best"):
        raise ValueError(f"keep must be 'last' or 'best', got {keep!r}")
    if keep == "best" and (val is None or not eval_every):
        raise ValueError("keep='best' needs validation images (val) and eval_every > 0")
    rng = np.random.default_rng(model.config.seed if seed is None else seed)
    step_fn = _make_step(model, learning_rate, steps if decay else 0)
    history = {k: [] for k in ("reconstruction", "adversarial", "total", "critic")}
    history["evals"] = []
    best, best_weights = -np.inf, None
    seconds = cpu = 0.0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="SAAE training", leave=True, mininterval=2.0)
    for i in range(1, steps + 1):
        x = augment(images[rng.integers(len(images), size=batch)], rng)[..., None]
        t0, c0 = time.perf_counter(), time.process_time()
        losses = step_fn(x)
        values = {k: float(ops.convert_to_numpy(v)) for k, v in losses.items()}
        seconds += time.perf_counter() - t0
        cpu += time.process_time() - c0
        for k, v in values.items():
            history[k].append(v)
        if bar is not None:
            bar.update(1)
            if i % 10 == 0:
                bar.set_postfix(rec=f"{values['reconstruction']:.3f}", adv=f"{values['adversarial']:.3f}")
        if val is not None and eval_every and (i % eval_every == 0 or i == steps):
            since = i - (history["evals"][-1]["step"] if history["evals"] else 0)
            result = {"step": i, **{k: float(np.mean(history[k][-since:])) for k in ("reconstruction", "adversarial",
                                                                                      "critic")},
                      **{f"val_{k}": v for k, v in evaluate(model, val).items()}}
            history["evals"].append(result)
            if on_eval is not None:
                on_eval(result)
            if keep == "best" and result["val_psnr"] > best:
                best, best_weights = result["val_psnr"], (i, model.get_weights())
    if bar is not None:
        bar.close()
    kept = steps
    if keep == "best" and best_weights is not None:
        kept, weights = best_weights
        model.set_weights(weights)
    history.update(seconds=seconds, cpu_seconds=cpu, images_per_second=steps * batch / max(seconds, 1e-9),
                   kept_step=kept)
    return history
