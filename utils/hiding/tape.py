"""The training step written out with TensorFlow's ``GradientTape``: the teaching view of notebook 01.

``fit`` (:mod:`utils.hiding.training`) does the same thing on any backend; this module shows it in
TensorFlow terms, one line per idea: run the networks under a tape, compute Baluja's loss, ask the tape
for the gradient of the loss with respect to every weight, let Adam take a step. A test checks that the
gradients here equal those ``fit`` applies. :func:`run_steps` is the plain loop that this step and the
hand-written back-propagation of notebook 02 share.
"""

from __future__ import annotations

import time

import numpy as np

from ..runtime import quiet_tensorflow

quiet_tensorflow()

import tensorflow as tf  # noqa: E402

from .stego import Hider, stego_losses  # noqa: E402

__all__ = ["make_train_step", "tape_gradients", "run_steps"]


def tape_gradients(model: Hider, secret, cover, beta: float = 1.0, training: bool = True):
    """(loss, gradients): the total loss and its gradient for each of ``model.trainable_variables``."""
    with tf.GradientTape() as tape:
        outputs = model((secret, cover), training=training)
        total, _, _ = stego_losses(secret, cover, outputs, beta)
    return total, tape.gradient(total, model.trainable_variables)


def make_train_step(model: Hider, optimizer, beta: float = 1.0, jit_compile: bool = False):
    """A compiled (``tf.function``) auto-diff training step: (secret, cover) -> (total, cover, secret) losses."""

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def step(secret, cover):
        with tf.GradientTape() as tape:
            outputs = model((secret, cover), training=True)
            total, cover_loss, secret_loss = stego_losses(secret, cover, outputs, beta)
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return total, cover_loss, secret_loss

    return step


def run_steps(step, data, steps: int, batch: int, progress: bool = True, desc: str = "training",
              on_step=None) -> dict:
    """The loop shared by the tape step and hand-written training.

    Each step draws a batch from ``data`` (a :class:`utils.hiding.training.TrainingData`), calls
    ``step(secret, cover)`` (which returns the total, cover and secret losses) and records them;
    ``on_step(i, history)``, if given, runs after it. ``seconds`` is the whole wall time;
    ``images_per_second`` times only the step calls after the first, which traces and compiles.
    ``progress`` prints one line every tenth of the run (no progress bar fragments in notebooks).
    """
    history: dict = {"step": [], "total": [], "cover": [], "secret": []}
    start = time.perf_counter()
    step_seconds = 0.0
    for i in range(1, steps + 1):
        secret, cover = data.batch(batch)
        began = time.perf_counter()
        total, cover_loss, secret_loss = (float(v) for v in step(tf.constant(secret), tf.constant(cover)))
        if i > 1:
            step_seconds += time.perf_counter() - began
        if not np.isfinite(total):
            raise FloatingPointError(f"loss became {total} at step {i}; lower the learning rate")
        for key, value in (("step", i), ("total", total), ("cover", cover_loss), ("secret", secret_loss)):
            history[key].append(value)
        if on_step is not None:
            on_step(i, history)
        if progress and (i % max(1, steps // 10) == 0 or i == steps):
            print(f"{desc}: step {i}/{steps}, cover loss {cover_loss:.4f}, secret loss {secret_loss:.4f}", flush=True)
    history["seconds"] = time.perf_counter() - start
    history["images_per_second"] = (steps - 1) * batch / step_seconds if step_seconds > 0 else batch / history["seconds"]
    return history
