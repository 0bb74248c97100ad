"""The back-propagation network of ``bp_chaotic``: a block encoder and decoder, trained with hand-written gradients.

Two small multi-layer perceptrons (notebook 06):

* the **encoder** E maps a 4x4 block of pixels (16 values in [0, 1]) to 16 values in (0, 1):
  ``a1 = tanh(W1 (2x - 1) + b1)``, ``a2 = tanh(W2 a1 + b2)``, ``y = sigmoid(W3 a2 + b3)``;
* the **decoder** D maps the 16 values, as they are sent (rounded to 8 bits), back to the block:
  ``h1 = tanh(V1 q + c1)``, ``h2 = tanh(V2 h1 + c2)``, ``x' = sigmoid(V3 h2 + c3)``.

They are trained together on blocks of training images. The 8-bit rounding between them is replaced during
training by additive uniform noise of the same size (``q = y + u``, ``u ~ U(-0.5/255, 0.5/255)``), so that
gradients pass. The loss has two terms:

    L = mean((x' - x)^2)  +  lambda * mean((sort(y) - t)^2),    t_k = (k + 1/2) / n,  k = 0 .. n-1

The second is the **uniformity** term: the squared distance between the sorted outputs of the batch (all
n values pooled) and the quantiles of the uniform distribution on [0, 1] (a 1-D Wasserstein-2 distance).
It is zero exactly when the outputs are spread like a uniform sample: the histogram the field asks of a
cipher image. It acts like a learned histogram equalisation (companding): values that occur often get
more of the 8-bit range, which also helps the decoder.

**Back-propagation, written out** (no GradientTape; :func:`loss_and_grads`). With ``N`` the number of
values of x:

* ``dL/dx' = 2 (x' - x) / N``; through a sigmoid ``s``: ``dL/dz = dL/ds * s (1 - s)``; through a tanh
  ``a``: ``dL/dz = dL/da * (1 - a^2)``; a dense layer ``z = a W + b``: ``dL/dW = a^T dL/dz``,
  ``dL/db = sum_rows dL/dz``, ``dL/da = dL/dz W^T``;
* the noise is additive, so ``dL/dy`` receives the decoder's input gradient unchanged, plus the
  uniformity term's ``2 lambda (y_i - t_rank(i)) / n`` (sorting only reorders: each value is compared
  with the quantile of its rank);
* each weight then takes an Adam step, written out too (:class:`Adam`).

:func:`gradient_check` compares these gradients with TensorFlow's automatic differentiation in float64.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

__all__ = ["BLOCK", "init_params", "to_blocks", "from_blocks", "encode", "decode", "forward", "uniformity",
           "loss_and_grads", "Adam", "single_thread", "train", "gradient_check", "count_parameters", "params_to_arrays",
           "params_from_arrays"]

#: The side of the square blocks the networks work on (16 pixels).
BLOCK = 4
LAYERS = ("encoder", "decoder")


def init_params(hidden: int = 64, block: int = BLOCK, seed: int = 0, dtype=np.float32) -> dict:
    """Glorot-uniform weights and zero biases for encoder and decoder: 16 -> hidden -> hidden -> 16 each."""
    rng = np.random.default_rng(seed)
    d = block * block
    sizes = [d, hidden, hidden, d]
    params = {}
    for name in LAYERS:
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            layers.append([rng.uniform(-limit, limit, (fan_in, fan_out)).astype(dtype), np.zeros(fan_out, dtype)])
        params[name] = layers
    return params


def count_parameters(params: dict) -> int:
    return int(sum(w.size + b.size for name in LAYERS for w, b in params[name]))


def params_to_arrays(params: dict) -> dict[str, np.ndarray]:
    """Flat name -> array dict (``encoder/0/kernel``, ...), for saving."""
    out = {}
    for name in LAYERS:
        for i, (w, b) in enumerate(params[name]):
            out[f"{name}/{i}/kernel"], out[f"{name}/{i}/bias"] = w, b
    return out


def params_from_arrays(arrays) -> dict:
    """The inverse of :func:`params_to_arrays`."""
    params = {}
    for name in LAYERS:
        layers, i = [], 0
        while f"{name}/{i}/kernel" in arrays:
            layers.append([np.asarray(arrays[f"{name}/{i}/kernel"]), np.asarray(arrays[f"{name}/{i}/bias"])])
            i += 1
        if not layers:
            raise ValueError(f"no {name} weights found")
        params[name] = layers
    return params


# ------------------------------------------------------------------------------------------------------
# blocks
# ------------------------------------------------------------------------------------------------------

def to_blocks(images, block: int = BLOCK) -> np.ndarray:
    """(N, H, W) -> (N * H/b * W/b, b*b): the b x b blocks, row by row, each flattened row-major."""
    x = np.asarray(images)
    n, h, w = x.shape
    if h % block or w % block:
        raise ValueError(f"image sides must be multiples of {block}, got {h}x{w}")
    return x.reshape(n, h // block, block, w // block, block).transpose(0, 1, 3, 2, 4).reshape(-1, block * block)


def from_blocks(blocks, shape, block: int = BLOCK) -> np.ndarray:
    """The inverse of :func:`to_blocks` for images of ``shape`` (N, H, W)."""
    n, h, w = shape
    x = np.asarray(blocks).reshape(n, h // block, w // block, block, block)
    return x.transpose(0, 1, 3, 2, 4).reshape(n, h, w)


# ------------------------------------------------------------------------------------------------------
# forward
# ------------------------------------------------------------------------------------------------------

def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic function


def _mlp(layers, x):
    """Forward through tanh, tanh, sigmoid dense layers; returns the output and the activations (inputs first)."""
    acts = [x]
    for i, (w, b) in enumerate(layers):
        z = acts[-1] @ w + b
        acts.append(_sigmoid(z) if i == len(layers) - 1 else np.tanh(z))
    return acts[-1], acts


def encode(params: dict, blocks) -> np.ndarray:
    """The encoder's outputs y in (0, 1) for blocks (M, 16) in [0, 1]."""
    x = np.asarray(blocks, params["encoder"][0][0].dtype)
    return _mlp(params["encoder"], 2.0 * x - 1.0)[0]


def decode(params: dict, codes) -> np.ndarray:
    """The decoder's blocks x' in (0, 1) from the received values q (M, 16) in [0, 1]."""
    return _mlp(params["decoder"], np.asarray(codes, params["decoder"][0][0].dtype))[0]


def forward(params: dict, x, noise=None) -> tuple[dict, dict]:
    """Encoder, noise (the 8-bit rounding's stand-in), decoder. Returns outputs ``y``, ``q``, ``x_hat`` and a cache."""
    y, enc_acts = _mlp(params["encoder"], 2.0 * x - 1.0)
    q = y if noise is None else y + noise
    x_hat, dec_acts = _mlp(params["decoder"], q)
    return {"y": y, "q": q, "x_hat": x_hat}, {"encoder": enc_acts, "decoder": dec_acts}


def uniformity(y) -> tuple[float, np.ndarray]:
    """``mean((sort(y) - t)^2)`` with ``t_k = (k + 1/2) / n`` over all values of y, and its gradient dU/dy."""
    flat = y.ravel()
    n = flat.size
    order = np.argsort(flat)
    target = np.empty_like(flat)
    target[order] = (np.arange(n, dtype=flat.dtype) + 0.5) / n  # each value's quantile, by its rank
    diff = flat - target
    return float(np.mean(diff * diff)), (2.0 * diff / n).reshape(y.shape)


# ------------------------------------------------------------------------------------------------------
# backward
# ------------------------------------------------------------------------------------------------------

def _mlp_backward(layers, acts, g_out):
    """Gradients of the dense layers (tanh, tanh, sigmoid) given dL/d(output); returns (grads, dL/d(input))."""
    grads = [None] * len(layers)
    g = g_out
    for i in range(len(layers) - 1, -1, -1):
        a = acts[i + 1]
        gz = g * a * (1.0 - a) if i == len(layers) - 1 else g * (1.0 - a * a)
        grads[i] = [acts[i].T @ gz, gz.sum(axis=0)]
        g = gz @ layers[i][0].T
    return grads, g


def loss_and_grads(params: dict, x, noise=None, lam: float = 0.1) -> tuple[dict, dict]:
    """The loss (``total``, ``mse``, ``uniformity``) and its gradients for every weight, by hand."""
    out, cache = forward(params, x, noise)
    err = out["x_hat"] - x
    mse = float(np.mean(err * err))
    uni, g_uni = uniformity(out["y"])
    dec_grads, g_q = _mlp_backward(params["decoder"], cache["decoder"], 2.0 * err / err.size)
    g_y = g_q + lam * g_uni  # the noise is additive: dL/dy = dL/dq + the uniformity term's gradient
    enc_grads, _ = _mlp_backward(params["encoder"], cache["encoder"], g_y)
    return {"total": mse + lam * uni, "mse": mse, "uniformity": uni}, {"encoder": enc_grads, "decoder": dec_grads}


class Adam:
    """Adam (Kingma & Ba 2015), written out: ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``w <- w - lr * m_hat / (sqrt(v_hat) + eps)`` with bias-corrected ``m_hat``, ``v_hat``."""

    def __init__(self, params: dict, learning_rate: float = 2e-3, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7):
        self.lr, self.b1, self.b2, self.eps, self.t = learning_rate, beta_1, beta_2, epsilon, 0
        self.m = {n: [[np.zeros_like(p) for p in layer] for layer in params[n]] for n in LAYERS}
        self.v = {n: [[np.zeros_like(p) for p in layer] for layer in params[n]] for n in LAYERS}

    def step(self, params: dict, grads: dict, learning_rate: float | None = None) -> None:
        self.t += 1
        lr = self.lr if learning_rate is None else learning_rate
        c1, c2 = 1.0 - self.b1 ** self.t, 1.0 - self.b2 ** self.t
        for n in LAYERS:
            for layer, g_layer, m_layer, v_layer in zip(params[n], grads[n], self.m[n], self.v[n]):
                for k in range(2):
                    m_layer[k] = self.b1 * m_layer[k] + (1 - self.b1) * g_layer[k]
                    v_layer[k] = self.b2 * v_layer[k] + (1 - self.b2) * g_layer[k] ** 2
                    layer[k] -= (lr * (m_layer[k] / c1) / (np.sqrt(v_layer[k] / c2) + self.eps)).astype(layer[k].dtype)


def single_thread():
    """A context in which BLAS uses one thread: these matrices are small, and a second thread only waits
    (on a shared CPU, spinning BLAS threads cost more than they give)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1)


def train(params: dict, blocks, steps: int, batch: int = 512, learning_rate: float = 2e-3, lam: float = 0.1,
          seed: int = 0, eval_fn=None, eval_every: int = 0, log_every: int = 10, final_lr_fraction: float = 0.1,
          optimizer: Adam | None = None) -> dict:
    """Train ``params`` in place on training ``blocks`` (M, 16) with hand-written gradients and Adam.

    The learning rate decays along a cosine from ``learning_rate`` to ``final_lr_fraction`` of it. Every
    ``log_every`` steps the batch's losses are recorded; every ``eval_every`` steps ``eval_fn(params)``
    (e.g. validation PSNR) is called and its value recorded. Returns the history: ``step``, ``total``,
    ``mse``, ``uniformity``, ``eval`` (list of (step, value)), ``seconds``, ``cpu_seconds``, ``optimizer``.
    """
    blocks = np.asarray(blocks, params["encoder"][0][0].dtype)
    rng = np.random.default_rng(seed)
    opt = optimizer or Adam(params, learning_rate)
    history = {"step": [], "total": [], "mse": [], "uniformity": [], "eval": []}
    wall, cpu = time.perf_counter(), time.process_time()
    half = 0.5 / 255.0
    with single_thread():
        for step in range(1, steps + 1):
            x = blocks[rng.integers(0, len(blocks), batch)]
            noise = rng.uniform(-half, half, x.shape).astype(x.dtype)
            losses, grads = loss_and_grads(params, x, noise, lam)
            progress = (step - 1) / max(steps - 1, 1)
            lr = learning_rate * (final_lr_fraction + (1 - final_lr_fraction) * 0.5 * (1 + np.cos(np.pi * progress)))
            opt.step(params, grads, float(lr))
            if step % log_every == 0 or step == steps:
                history["step"].append(step)
                for key in ("total", "mse", "uniformity"):
                    history[key].append(losses[key])
            if eval_fn is not None and eval_every and (step % eval_every == 0 or step == steps):
                history["eval"].append((step, float(eval_fn(params))))
    history["seconds"] = time.perf_counter() - wall
    history["cpu_seconds"] = time.process_time() - cpu
    history["optimizer"] = opt
    return history


def gradient_check(hidden: int = 8, batch: int = 6, lam: float = 0.3, seed: int = 0) -> dict[str, float]:
    """The hand-written gradients against TensorFlow's automatic differentiation, in float64.

    Random weights, blocks and noise; the same forward pass is written once more with TensorFlow ops and
    differentiated by ``tf.GradientTape``. Returns the largest relative error ``||g_hand - g_auto|| /
    ||g_auto||`` over all weights (``max_relative_error``), and the two losses.
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    params = init_params(hidden, seed=seed, dtype=np.float64)
    for name in LAYERS:
        for layer in params[name]:
            layer[1] = rng.normal(0, 0.3, layer[1].shape)  # non-zero biases, so their gradients are tested
    x = rng.random((batch, BLOCK * BLOCK))
    noise = rng.uniform(-0.5 / 255, 0.5 / 255, x.shape)
    losses, grads = loss_and_grads(params, x, noise, lam)

    variables = {n: [[tf.Variable(p) for p in layer] for layer in params[n]] for n in LAYERS}

    def mlp(layers, inp):
        a = inp
        for i, (w, b) in enumerate(layers):
            z = tf.matmul(a, w) + b
            a = tf.sigmoid(z) if i == len(layers) - 1 else tf.tanh(z)
        return a

    with tf.GradientTape() as tape:
        y = mlp(variables["encoder"], tf.constant(2.0 * x - 1.0))
        x_hat = mlp(variables["decoder"], y + tf.constant(noise))
        flat = tf.reshape(y, [-1])
        n = int(flat.shape[0])
        sorted_y = tf.gather(flat, tf.argsort(flat, stable=True))
        target = (tf.range(n, dtype=tf.float64) + 0.5) / n
        total = tf.reduce_mean(tf.square(x_hat - x)) + lam * tf.reduce_mean(tf.square(sorted_y - target))
    flat_vars = [v for n in LAYERS for layer in variables[n] for v in layer]
    auto = tape.gradient(total, flat_vars)
    hand = [g for n in LAYERS for layer in grads[n] for g in layer]
    errors = [float(np.linalg.norm(h - a.numpy()) / max(np.linalg.norm(a.numpy()), 1e-300)) for h, a in zip(hand, auto)]
    return {"max_relative_error": max(errors), "loss_by_hand": losses["total"], "loss_autodiff": float(total),
            "tensors": len(errors)}
