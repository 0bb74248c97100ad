"""One way to train the course's adversarial and self-supervised networks: ``fit`` on a stream of batches.

The learned ciphers (DeepEDN's Cycle-GAN, the scrambling adversarial autoencoder, the invertible network)
are each a ``keras.Model`` whose ``train_step`` is one training step, after keras.io's ``cyclegan.py`` and
``real_nvp.py``. :func:`fit_stream` runs it: ``steps`` steps of one epoch on the batches a generator draws
(random patches, flips, key-domain samples), with the module's schedule, validation and progress as Keras
callbacks. The hiders train the same way from a ``keras.utils.PyDataset`` (:mod:`utils.hiding.training`).

The batches reach the step through a ``tf.data`` stream with their full shape. A step traced for an unknown
batch size orders some of TensorFlow's sums differently from one traced for the batch it gets, and the last
bits of the losses move (the invertible network's Gaussianity loss did); with the full shape, ``fit``
reproduces a hand-written ``tf.function`` loop bit for bit (``tests/test_fitting.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

__all__ = ["fit_stream", "progress_bar"]


def fit_stream(model, batches: Callable[[], Iterator[tuple]], shapes, steps: int, callbacks=()):
    """``model.fit`` for ``steps`` steps (one epoch) on the tuples ``batches()`` yields (TensorFlow backend).

    ``shapes``: the shape of each element of a yielded tuple (all float32), for example
    ``[(8, 64, 64, 1), (8, 64, 64, 1)]`` for (plain, key-domain) batches; ``model.train_step`` gets the
    tuple. Returns what ``fit`` returns. Raises ValueError for a non-positive ``steps``.
    """
    import tensorflow as tf

    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    signature = tuple(tf.TensorSpec(tuple(int(n) for n in shape), tf.float32) for shape in shapes)
    stream = tf.data.Dataset.from_generator(batches, output_signature=signature)
    return model.fit(stream, steps_per_epoch=int(steps), epochs=1, verbose=0, callbacks=list(callbacks))


def progress_bar(steps: int, desc: str, show: bool = True, postfix=None):
    """A Keras callback that draws a tqdm bar of ``steps`` steps (none when ``show`` is False), with
    ``postfix(logs)`` (a dict of short strings) beside it every 10 steps, closed when training ends."""
    import keras
    from tqdm.auto import tqdm

    class ProgressBar(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = tqdm(total=int(steps), desc=desc, leave=True, mininterval=5.0) if show else None

        def on_train_batch_end(self, index, logs=None):
            if self.bar is not None:
                self.bar.update(1)
                if postfix is not None and (index + 1) % 10 == 0:
                    self.bar.set_postfix(postfix(logs))

        def on_train_end(self, logs=None):
            if self.bar is not None:
                self.bar.close()

    return ProgressBar()
