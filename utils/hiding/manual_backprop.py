"""Hand-written back-propagation for the seed variant of :class:`utils.hiding.stego.StegoNet`, and its "dilated" form.

No ``GradientTape``: every gradient is written out with TensorFlow ops.

For a layer ``z = conv(x, W) + b``, ``a = relu(z)`` and an upstream gradient ``g = dL/da``:

* ReLU: ``dL/dz = g * [z > 0]`` (no mask for the linear output layers);
* filter: ``dL/dW = conv2d_backprop_filter(x, dL/dz)``, bias: ``dL/db = sum(dL/dz)`` over batch and pixels;
* input: ``dL/dx = conv2d_backprop_input(W, dL/dz)`` (a transposed convolution), passed to the layer below.

The model's loss ``L = mean((c' - c)^2) + beta * mean((s' - s)^2)`` starts the chain with
``dL/dc' = 2 (c' - c) / N`` and ``dL/ds' = 2 beta (s' - s) / N``. The reveal network's input gradient is
added to ``dL/dc'`` (the container noise is additive, so it passes gradients unchanged); the hide
network's input gradient is split between the prep output (first 3 channels) and the cover (dropped).
Each variable then takes an Adam step written out by hand.

**Dilated back-propagation** (the seed author's idea): within a network, a hidden layer also receives the
gradients that layers further up passed back, scaled by ``lambda_t = rate / (1 + decay * t)``. With
``g_k = dL/d(input of layer k)`` and 5 hidden layers plus an output layer (6), all of the same shape:

* dense: layer ``l`` gets ``g_{l+1} + lambda_t * (g_{l+2} + ... + g_6)``;
* sparse: layer ``l`` gets ``g_{l+1} + lambda_t * g_{l+2}`` (only the gradient from two layers up).

These are not gradients of the loss any more; the notebook measures what that does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from .stego import StegoNet
from .tape import run_steps

__all__ = ["Params", "params_of", "forward", "backward", "loss_and_grads", "ManualTrainer", "gradient_check",
           "dilation_lambda"]

Params = dict  # {"prep": [(W, b), ...], "hide": [...], "reveal": [...]}
NETWORKS = ("prep", "hide", "reveal")


def params_of(model: StegoNet) -> Params:
    """The model's kernels and biases per network, in layer order (the seed variant: one conv per layer)."""
    if model.config_.variant != "seed":
        raise ValueError("manual back-propagation is written for variant='seed' (one kernel size per layer)")
    out = {}
    for name, layers in (("prep", model.prep_layers), ("hide", model.hide_layers), ("reveal", model.reveal_layers)):
        pairs = []
        for layer in layers:
            conv = layer.convs[0] if hasattr(layer, "convs") else layer
            pairs.append((conv.kernel, conv.bias))
        out[name] = pairs
    return out


def _conv(x, w, b):
    return tf.nn.conv2d(x, w, strides=1, padding="SAME") + b


def _net_forward(layers, x):
    """Run one network; returns its output and, per layer, (input, pre-activation)."""
    cache = []
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        z = _conv(x, w, b)
        cache.append((x, z))
        x = z if i == last else tf.nn.relu(z)
    return x, cache


def forward(params: Params, secret, cover, noise=None):
    """The stego forward pass with plain TF ops; ``noise`` (same shape as the container) is added before reveal."""
    prepared, prep_cache = _net_forward(params["prep"], secret)
    container, hide_cache = _net_forward(params["hide"], tf.concat([prepared, cover], axis=-1))
    received = container if noise is None else container + noise
    revealed, reveal_cache = _net_forward(params["reveal"], received)
    outputs = {"prep": prepared, "container": container, "revealed": revealed}
    return outputs, {"prep": prep_cache, "hide": hide_cache, "reveal": reveal_cache}


def _net_backward(layers, cache, g_out, lam=None, mode=None):
    """Back-propagate ``g_out`` through one network; returns [(dW, db)] per layer and dL/d(input).

    With ``mode`` in ("dense", "sparse") and a scalar ``lam``, hidden layers also receive the dilated sum.
    """
    grads = [None] * len(layers)
    passed = {}  # k -> g_k = dL/d(input of layer k), for hidden-shaped inputs
    last = len(layers) - 1
    g = g_out
    for i in range(last, -1, -1):
        w, _ = layers[i]
        x, z = cache[i]
        if i < last:  # a hidden layer: its output went to layer i + 1
            if mode is not None:
                later = [passed[k] for k in range(i + 2, last + 1)]
                if mode == "sparse":
                    later = later[:1]
                if later:
                    g = g + lam * tf.add_n(later)
            g = g * tf.cast(z > 0, g.dtype)
        grads[i] = (tf.compat.v1.nn.conv2d_backprop_filter(x, tf.shape(w), g, [1, 1, 1, 1], "SAME"),
                    tf.reduce_sum(g, axis=[0, 1, 2]))
        g = tf.compat.v1.nn.conv2d_backprop_input(tf.shape(x), w, g, [1, 1, 1, 1], "SAME")
        passed[i] = g
    return grads, g


def backward(params: Params, cache, outputs, secret, cover, beta: float = 1.0, lam=None, mode=None):
    """Hand-written gradients of the stego loss for every (W, b); same structure as ``params``."""
    n_cover = tf.cast(tf.size(cover), cover.dtype)
    n_secret = tf.cast(tf.size(secret), secret.dtype)
    g_container = 2.0 * (outputs["container"] - cover) / n_cover
    g_revealed = 2.0 * beta * (outputs["revealed"] - secret) / n_secret
    reveal_grads, g_received = _net_backward(params["reveal"], cache["reveal"], g_revealed, lam, mode)
    hide_grads, g_hide_in = _net_backward(params["hide"], cache["hide"], g_container + g_received, lam, mode)
    prep_channels = params["prep"][-1][0].shape[-1]
    prep_grads, _ = _net_backward(params["prep"], cache["prep"], g_hide_in[..., :prep_channels], lam, mode)
    return {"prep": prep_grads, "hide": hide_grads, "reveal": reveal_grads}


def loss_and_grads(params: Params, secret, cover, beta: float = 1.0, noise=None, lam=None, mode=None):
    """(total, cover loss, secret loss, grads) with the hand-written backward pass."""
    outputs, cache = forward(params, secret, cover, noise)
    cover_loss = tf.reduce_mean(tf.square(outputs["container"] - cover))
    secret_loss = tf.reduce_mean(tf.square(outputs["revealed"] - secret))
    grads = backward(params, cache, outputs, secret, cover, beta, lam, mode)
    return cover_loss + beta * secret_loss, cover_loss, secret_loss, grads


def dilation_lambda(step, rate: float, decay: float):
    """``lambda_t = rate / (1 + decay * t)``, the seed author's schedule."""
    return rate / (1.0 + decay * tf.cast(step, tf.float32))


def _flat(structure):
    return [t for name in NETWORKS for pair in structure[name] for t in pair]


@dataclass
class ManualTrainer:
    """Trains a seed-variant StegoNet with hand-written gradients and a hand-written Adam.

    ``mode`` None is plain manual back-propagation (the true gradient); "dense" or "sparse" is dilated
    back-propagation with ``lambda_t = rate / (1 + decay * t)``.
    """

    model: StegoNet
    learning_rate: float = 1e-3
    beta: float = 1.0
    mode: str | None = None
    rate: float = 1000.0
    decay: float = 0.08
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-7

    def __post_init__(self):
        if self.mode not in (None, "dense", "sparse"):
            raise ValueError(f"mode must be None, 'dense' or 'sparse', got {self.mode!r}")
        self.params = params_of(self.model)
        self.variables = _flat(self.params)
        self.m = [tf.Variable(tf.zeros_like(v)) for v in self.variables]
        self.v = [tf.Variable(tf.zeros_like(v)) for v in self.variables]
        self.t = tf.Variable(0.0)
        self.noise_std = self.model.config_.noise_std
        self.noise_seed = self.model.config_.seed
        self._step = tf.function(self._train_step, reduce_retracing=True)

    def _adam(self, grads):
        """w <- w - lr * m_hat / (sqrt(v_hat) + eps), with bias-corrected moments m_hat and v_hat."""
        self.t.assign_add(1.0)
        for w, g, m, v in zip(self.variables, grads, self.m, self.v):
            m.assign(self.beta1 * m + (1.0 - self.beta1) * g)
            v.assign(self.beta2 * v + (1.0 - self.beta2) * tf.square(g))
            m_hat = m / (1.0 - self.beta1 ** self.t)
            v_hat = v / (1.0 - self.beta2 ** self.t)
            w.assign_sub(self.learning_rate * m_hat / (tf.sqrt(v_hat) + self.epsilon))

    def _train_step(self, secret, cover):
        noise = None
        if self.noise_std > 0:
            seed = tf.stack([tf.constant(self.noise_seed, tf.int32), tf.cast(self.t, tf.int32)])
            shape = tf.concat([tf.shape(cover)[:-1], [3]], axis=0)
            noise = tf.random.stateless_normal(shape, seed=seed, stddev=self.noise_std)
        lam = dilation_lambda(self.t, self.rate, self.decay) if self.mode else None
        total, cover_loss, secret_loss, grads = loss_and_grads(self.params, secret, cover, self.beta, noise,
                                                               lam, self.mode)
        self._adam(_flat(grads))
        return total, cover_loss, secret_loss

    def train(self, data, steps: int, batch: int = 8, progress: bool = True) -> dict:
        """Train for ``steps`` batches of ``data`` (a :class:`utils.hiding.training.TrainingData`); returns the history
        of :func:`utils.hiding.tape.run_steps`, the loop the auto-diff training uses too."""
        return run_steps(self._step, data, steps, batch, progress, desc=f"manual ({self.mode or 'plain'})")


def gradient_check(filters: int = 4, depth: int = 2, size: int = 8, batch: int = 2, seed: int = 0,
                   beta: float = 0.75) -> float:
    """Largest relative error, over all kernels and biases, between the hand-written gradients and
    ``tf.GradientTape`` on the same forward pass, in float64, random inputs and weights.

    The relative error of a tensor is ``||g_manual - g_tape|| / ||g_tape||``.
    """
    rng = np.random.default_rng(seed)
    params: Params = {}
    shapes = {"prep": (3, 3, 3), "hide": (4, 6, 3), "reveal": (5, 3, 3)}  # kernel, in channels, out channels
    for name, (k, c_in, c_out) in shapes.items():
        layers, prev = [], c_in
        for i in range(depth + 1):
            out = c_out if i == depth else filters
            w = tf.Variable(rng.normal(0, np.sqrt(2.0 / (k * k * prev)), (k, k, prev, out)))
            b = tf.Variable(rng.normal(0, 0.1, (out,)))
            layers.append((w, b))
            prev = out
        params[name] = layers
    secret = tf.constant(rng.random((batch, size, size, 3)))
    cover = tf.constant(rng.random((batch, size, size, 3)))
    noise = tf.constant(rng.normal(0, 0.01, (batch, size, size, 3)))
    variables = _flat(params)
    with tf.GradientTape() as tape:
        outputs, _ = forward(params, secret, cover, noise)
        total = tf.reduce_mean(tf.square(outputs["container"] - cover)) + \
            beta * tf.reduce_mean(tf.square(outputs["revealed"] - secret))
    tape_grads = tape.gradient(total, variables)
    _, _, _, manual = loss_and_grads(params, secret, cover, beta, noise)
    errors = [float(tf.norm(m - t) / tf.maximum(tf.norm(t), 1e-300)) for m, t in zip(_flat(manual), tape_grads)]
    return max(errors)
