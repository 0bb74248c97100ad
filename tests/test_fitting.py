"""utils.fitting: fit on a stream of batches reproduces a hand-written tf.function loop bit for bit."""

import numpy as np
import pytest

from utils.fitting import fit_stream, progress_bar


def _network(seed):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same")(hidden))


def _batches(seed, batch=4):
    rng = np.random.default_rng(seed)
    while True:
        x = rng.random((batch, 8, 8, 1), dtype=np.float32)
        yield x, np.flip(x, axis=2).copy()


def _loss(net, x, y):
    import tensorflow as tf

    out = net(x, training=True)
    # a sort over a reshape with -1: the kind of op whose sums depend on what the trace knows of the shape
    flat = tf.sort(tf.reshape(out - y, (-1, 64)), axis=-1)
    return tf.reduce_mean(tf.square(out - y)) + 0.1 * tf.reduce_mean(tf.square(flat))


def test_fit_stream_gives_the_weights_of_a_plain_tf_function_loop(capsys):
    import keras
    import tensorflow as tf

    steps, seen = 5, []

    class Trainer(keras.Model):
        def __init__(self, net):
            super().__init__()
            self.net, self.built = net, True

        def compile(self):
            super().compile(jit_compile=False)
            self.adam = keras.optimizers.Adam(1e-2)

        def train_step(self, data):
            x, y = data
            seen.append(tuple(x.shape))
            with tf.GradientTape() as tape:
                loss = _loss(self.net, x, y)
            variables = self.net.trainable_variables
            self.adam.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return {"loss": loss}

    by_hand = _network(0)
    adam = keras.optimizers.Adam(1e-2)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = _loss(by_hand, x, y)
        adam.apply_gradients(zip(tape.gradient(loss, by_hand.trainable_variables), by_hand.trainable_variables))
        return loss

    stream = _batches(1)
    hand_losses = [float(step(*next(stream))) for _ in range(steps)]

    trainer = Trainer(_network(0))
    trainer.compile()
    losses = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda i, logs: losses.append(float(logs["loss"])))
    bar = progress_bar(steps, "toy fit", postfix=lambda logs: {"loss": f"{float(logs['loss']):.2f}"})
    fit_stream(trainer, lambda: _batches(1), [(4, 8, 8, 1)] * 2, steps, [record, bar])
    assert "toy fit" in capsys.readouterr().err and bar.bar.n == steps  # the bar counted every step
    assert seen[0] == (4, 8, 8, 1)  # the step was traced for the batch's full shape
    assert losses == hand_losses
    assert all(np.array_equal(a, b) for a, b in zip(trainer.net.get_weights(), by_hand.get_weights()))


def test_fit_stream_refuses_no_steps():
    with pytest.raises(ValueError, match="steps must be >= 1, got 0"):
        fit_stream(None, lambda: iter(()), [(1,)], 0)


def test_fit_supervised_trains_only_the_variables_it_is_given_and_returns_every_loss():
    import tensorflow as tf

    from utils.fitting import fit_supervised

    net = _network(0)
    before = [w.copy() for w in net.get_weights()]
    first_layer = net.layers[1].trainable_variables  # the first convolution only

    def loss(y, out):
        return tf.reduce_mean(tf.square(out - y))

    losses = fit_supervised(net, lambda: _batches(2), [(4, 8, 8, 1)] * 2, 3, loss, 1e-2, variables=first_layer)
    assert len(losses) == 3 and all(np.isfinite(losses))
    after = net.get_weights()
    assert not np.array_equal(before[0], after[0])                            # the first layer moved
    assert all(np.array_equal(a, b) for a, b in zip(before[2:], after[2:]))   # the second did not
