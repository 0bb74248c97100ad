"""One way to train the course's adversarial and self-supervised networks: ``fit`` on a stream of batches.

The learned ciphers (DeepEDN's Cycle-GAN, the scrambling adversarial autoencoder, the invertible network)
are each a ``keras.Model`` whose ``train_step`` is one training step, after keras.io's ``cyclegan.py`` and
``real_nvp.py``. :func:`fit_stream` runs it: ``steps`` steps of one epoch on the batches a generator draws
(random patches, flips, key-domain samples), with the module's schedule, validation and progress as Keras
callbacks. The hiders train the same way from a ``keras.utils.PyDataset`` (:mod:`utils.hiding.training`). The
supervised networks of the attacks and detectors (a substitute reveal network, the CNN steganalyser, DeepEDN's
ROI miner) are fitted by :func:`fit_supervised`: one ``keras.Model`` whose ``train_step`` takes an Adam step on
a loss of (target, prediction).

The batches reach the step through a ``tf.data`` stream with their full shape. A step traced for an unknown
batch size orders some of TensorFlow's sums differently from one traced for the batch it gets, and the last
bits of the losses move (the invertible network's Gaussianity loss did); with the full shape, ``fit``
reproduces a hand-written ``tf.function`` loop bit for bit (``tests/test_fitting.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

__all__ = ["fit_stream", "fit_supervised", "progress_bar"]


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
    return model.fit(stream, steps_per_epoch=int(steps), epochs=1, verbose=0, shuffle=False, callbacks=list(callbacks))


def progress_bar(steps: int, desc: str, show: bool = True, postfix=None):
    """A Keras callback that draws a tqdm bar of ``steps`` steps (none when ``show`` is False), with
    ``postfix(logs)`` (a dict of short strings) beside it every 10 steps, closed when training ends."""
    import keras

    class ProgressBar(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bar = None
            if show:  # imported only when drawn: tqdm.auto warns in a notebook without ipywidgets
                from tqdm.auto import tqdm

                self.bar = tqdm(total=int(steps), desc=desc, leave=True, mininterval=5.0)

        def on_train_batch_end(self, index, logs=None):
            if self.bar is not None:
                self.bar.update(1)
                if postfix is not None and (index + 1) % 10 == 0:
                    self.bar.set_postfix(postfix(logs))

        def on_train_end(self, logs=None):
            if self.bar is not None:
                self.bar.close()

    return ProgressBar()


def fit_supervised(network, batches: Callable[[], Iterator[tuple]], shapes, steps: int, loss, learning_rate: float,
                   variables=None, callbacks=()) -> list[float]:
    """Train ``network`` (a Keras model) by Adam on ``loss(y, network(x, training=True))`` for ``steps`` steps
    on the (x, y) batches ``batches()`` yields (``shapes``: their two shapes; see :func:`fit_stream`).

    ``variables``: the weights to train (default: all of the network's trainable ones). Returns the loss of
    every step; ``steps = 0`` leaves the network as it is (an attacker who uses a public start unchanged).
    The step is the ``train_step`` of a small ``keras.Model`` that wraps the network, run by ``fit``: the
    course's one trainer for supervised networks.
    """
    import keras
    import tensorflow as tf

    if int(steps) == 0:
        return []

    class Supervised(keras.Model):
        def __init__(self):
            super().__init__(name="supervised")
            self.network, self.built = network, True
            self.weights_to_train = list(network.trainable_variables if variables is None else variables)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                value = loss(y, self.network(x, training=True))
            self.adam.apply_gradients(zip(tape.gradient(value, self.weights_to_train), self.weights_to_train))
            return {"loss": value}

    trainer = Supervised()
    trainer.compile(optimizer=None, jit_compile=False)  # XLA would change the sums: the course runs without it
    trainer.adam = keras.optimizers.Adam(learning_rate)
    losses = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda i, logs: losses.append(float(logs["loss"])))
    fit_stream(trainer, batches, shapes, steps, [record, *callbacks])
    return losses
