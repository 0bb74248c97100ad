"""Deep steganography (Baluja, NIPS 2017) in Keras 3: prep, hide and reveal networks, loss, training.

The three networks, as the seed rebuilds them:

* **prep** turns the secret into an image-shaped representation (5 conv layers, then an output conv);
* **hide** takes the prep output and the cover, concatenated, and makes the **container** (5 + 1 conv);
* **reveal** recovers the secret from the container (5 + 1 conv).

Each hidden layer has 50 filters with ReLU. In the seed's variant (``variant="seed"``) every layer of a
network uses one kernel size: 3 (prep), 4 (hide), 5 (reveal). In the variant of public rebuilds
(``variant="branched"``) every layer runs 3x3, 4x4 and 5x5 convolutions of 50 filters in parallel and
concatenates them (150 channels): more context per layer, about 3x the computation.

Loss: ``L = ||c - c'||^2 + beta ||s - s'||^2`` (means over pixels). The cover term does not depend on the
reveal network, so its gradient reaches prep and hide only; the secret term trains all three. Gaussian
noise (seeded, Keras 3 ``SeedGenerator``) is added to the container during training so that the reveal
network survives the rounding of the container to 8 bits.

Command line (the pretrained models were made with it)::

    python -m utils.hiding.stego --size 64 --steps 3000 --batch 8 --out utils/pretrained/stego_natural_64
    python -m utils.hiding.stego --size 64 --steps 1500 --batch 8 --lr 2e-4 --secrets medical --secret-channels 1 \
        --init stego_natural_64 --out utils/pretrained/stego_medical_grey_64
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..runtime import quiet_tensorflow

quiet_tensorflow()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

__all__ = ["StegoConfig", "StegoNet", "stego_losses", "make_train_step", "TrainingData", "training_data", "run_steps",
           "train",
           "evaluate", "reveal_network", "transfer_weights", "save_pretrained", "write_card_markdown", "load_pretrained", "PRETRAINED_DIR"]

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
_KERNELS = {"seed": {"prep": (3,), "hide": (4,), "reveal": (5,)},
            "branched": {"prep": (3, 4, 5), "hide": (3, 4, 5), "reveal": (3, 4, 5)}}


@dataclass
class StegoConfig:
    """Everything that defines a model's shape and training noise (stored in the model card)."""

    variant: str = "seed"
    filters: int = 50
    depth: int = 5
    secret_channels: int = 3
    noise_std: float = 0.01
    seed: int = 0

    def __post_init__(self):
        if self.variant not in _KERNELS:
            raise ValueError(f"variant must be one of {list(_KERNELS)}, got {self.variant!r}")
        if self.secret_channels not in (1, 3):
            raise ValueError(f"secret_channels must be 1 or 3, got {self.secret_channels!r}")


@keras.saving.register_keras_serializable(package="medstego")
class ConvBlock(keras.layers.Layer):
    """One hidden layer: a ReLU convolution per kernel size, concatenated when there are several."""

    def __init__(self, filters: int, kernel_sizes: tuple[int, ...], **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_sizes = filters, tuple(kernel_sizes)
        self.convs = [keras.layers.Conv2D(filters, k, padding="same", activation="relu", name=f"conv{k}")
                      for k in self.kernel_sizes]

    def call(self, x):
        outs = [conv(x) for conv in self.convs]
        return outs[0] if len(outs) == 1 else keras.ops.concatenate(outs, axis=-1)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_sizes": self.kernel_sizes}


def _network(name: str, cfg: StegoConfig, out_channels: int) -> list:
    kernels = _KERNELS[cfg.variant][name]
    layers = [ConvBlock(cfg.filters, kernels, name=f"{name}_{i + 1}") for i in range(cfg.depth)]
    layers.append(keras.layers.Conv2D(out_channels, kernels[0], padding="same", name=f"{name}_out"))
    return layers


def reveal_network(config: StegoConfig | None = None, size: int | None = None) -> keras.Sequential:
    """A stand-alone reveal network of the given configuration (fresh weights), as a ``keras.Sequential``.

    The same layers as :attr:`StegoNet.reveal_layers`; used for substitute reveal networks (an attacker's
    copy, notebook 04). Built for ``size`` x ``size`` containers when ``size`` is given.
    """
    cfg = config or StegoConfig()
    net = keras.Sequential(_network("reveal", cfg, cfg.secret_channels), name="reveal")
    if size is not None:
        net(np.zeros((1, size, size, 3), np.float32))
    return net


class StegoNet(keras.Model):
    """Prep, hide and reveal networks; ``call((secret, cover))`` returns prep output, container, revealed.

    The container and the revealed secret are linear outputs (not clipped) during training; ``hide`` and
    ``reveal`` work on float32 NHWC arrays in [0, 1] and clip their results to [0, 1].
    """

    def __init__(self, config: StegoConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config_ = config or StegoConfig()
        cfg = self.config_
        self.prep_layers = _network("prep", cfg, 3)
        self.hide_layers = _network("hide", cfg, 3)
        self.reveal_layers = _network("reveal", cfg, cfg.secret_channels)
        self.noise_seed = keras.random.SeedGenerator(cfg.seed)

    @staticmethod
    def _run(layers, x):
        for layer in layers:
            x = layer(x)
        return x

    def prep(self, secret):
        return self._run(self.prep_layers, secret)

    def hide_net(self, prepared, cover):
        return self._run(self.hide_layers, keras.ops.concatenate([prepared, cover], axis=-1))

    def reveal_net(self, container):
        return self._run(self.reveal_layers, container)

    def call(self, inputs, training=False):
        secret, cover = inputs
        prepared = self.prep(secret)
        container = self.hide_net(prepared, cover)
        received = container
        if training and self.config_.noise_std > 0:
            received = container + keras.random.normal(keras.ops.shape(container), stddev=self.config_.noise_std,
                                                       seed=self.noise_seed)
        return {"prep": prepared, "container": container, "revealed": self.reveal_net(received)}

    @property
    def networks(self) -> dict[str, list]:
        """The trainable variables of each network, for inspecting gradient flow."""
        return {name: [v for layer in layers for v in layer.trainable_variables]
                for name, layers in (("prep", self.prep_layers), ("hide", self.hide_layers),
                                     ("reveal", self.reveal_layers))}

    def build_for(self, size: int) -> "StegoNet":
        """Create the weights by running once on zeros of the given size; returns self."""
        self((np.zeros((1, size, size, self.config_.secret_channels), np.float32),
              np.zeros((1, size, size, 3), np.float32)))
        return self

    # ------------------------------------------------------------------ the user's view
    def hide(self, secret: np.ndarray, cover: np.ndarray) -> np.ndarray:
        """Containers for float32 NHWC secrets and covers in [0, 1]; clipped to [0, 1]."""
        secret, cover = _check_batch(secret, "secret", self.config_.secret_channels), _check_batch(cover, "cover", 3)
        if secret.shape[:3] != cover.shape[:3]:
            raise ValueError(f"secret and cover must have the same batch and size, got {secret.shape} and {cover.shape}")
        container = self.hide_net(self.prep(secret), cover)
        return np.clip(keras.ops.convert_to_numpy(container), 0.0, 1.0)

    def reveal(self, container: np.ndarray) -> np.ndarray:
        """Revealed secrets for float32 NHWC containers in [0, 1]; clipped to [0, 1]."""
        container = _check_batch(container, "container", 3)
        return np.clip(keras.ops.convert_to_numpy(self.reveal_net(container)), 0.0, 1.0)


def _check_batch(x, name: str, channels: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] != channels:
        raise ValueError(f"{name} must be a float32 NHWC batch with {channels} channel(s), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must be float in [0, 1], got dtype {x.dtype}; divide uint8 images by 255")
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"{name} must lie in [0, 1], got values in [{x.min():.3g}, {x.max():.3g}]")
    return x.astype(np.float32)


def stego_losses(secret, cover, outputs, beta: float = 1.0):
    """(total, cover loss, secret loss): mean squared errors, total = cover + beta * secret."""
    cover_loss = tf.reduce_mean(tf.square(outputs["container"] - cover))
    secret_loss = tf.reduce_mean(tf.square(outputs["revealed"] - secret))
    return cover_loss + beta * secret_loss, cover_loss, secret_loss


def make_train_step(model: StegoNet, optimizer, beta: float = 1.0, jit_compile: bool = False):
    """A compiled (tf.function) auto-diff training step: (secret, cover) -> (total, cover, secret) losses."""

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def step(secret, cover):
        with tf.GradientTape() as tape:
            outputs = model((secret, cover), training=True)
            total, cover_loss, secret_loss = stego_losses(secret, cover, outputs, beta)
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return total, cover_loss, secret_loss

    return step


@dataclass
class TrainingData:
    """A pool of training patches; batches pair a random secret with a random other cover."""

    secrets: np.ndarray
    covers: np.ndarray
    seed: int = 0
    rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self):
        self.rng = np.random.default_rng(self.seed)

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        i = self.rng.integers(len(self.secrets), size=size)
        j = self.rng.integers(len(self.covers), size=size)
        return self.secrets[i], self.covers[j]


def training_data(size: int, pool: int, seed: int = 0, secrets: str = "natural", secret_channels: int = 3) -> TrainingData:
    """Patches of the corpus's training images: covers are natural photographs, secrets natural or medical."""
    from ..data import patch_set, split_names

    covers = patch_set(split_names("natural", "train"), size, pool, seed=seed)
    secret = patch_set(split_names(secrets, "train"), size, pool, seed=seed + 1, channels=secret_channels)
    return TrainingData(secret, covers, seed=seed + 2)


def evaluate(model: StegoNet, secrets: np.ndarray, covers: np.ndarray) -> dict:
    """Quality on held-out pairs, with the container stored as an 8-bit image before it is revealed.

    Returns PSNR (dB), SSIM and mean absolute error (0-255) for cover vs container and secret vs revealed,
    averaged over the pairs, plus the arrays (prep, container, revealed) for figures.
    """
    from .. import metrics
    from ..plotting import to_uint8

    container = to_uint8(model.hide(secrets, covers))  # what would be sent: an 8-bit image
    revealed = model.reveal(container.astype(np.float32) / 255.0)
    prep = keras.ops.convert_to_numpy(model.prep(secrets))
    result = metrics.hiding_quality(to_uint8(covers), container, to_uint8(secrets), to_uint8(revealed))
    return {**{k: round(v, 4) for k, v in result.items()},
            "arrays": {"prep": prep, "container": container.astype(np.float32) / 255.0, "revealed": revealed}}


def run_steps(step, data: TrainingData, steps: int, batch: int, progress: bool = True, desc: str = "training",
              on_step=None) -> dict:
    """The training loop shared by auto-diff and hand-written training.

    Each step draws a batch from ``data``, calls ``step(secret, cover)`` (which returns the total, cover and
    secret losses) and records them; ``on_step(i, history)``, if given, runs after it (evaluations, GIF
    frames). ``seconds`` is the whole wall time; ``images_per_second`` times only the step calls after the
    first, which traces and compiles the step function.
    """
    from tqdm import tqdm

    history: dict = {"step": [], "total": [], "cover": [], "secret": []}
    start = time.perf_counter()
    step_seconds = 0.0
    bar = tqdm(range(1, steps + 1), disable=not progress, mininterval=2.0, desc=desc)
    for i in bar:
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
        if progress and i % 10 == 0:
            bar.set_postfix(cover=f"{cover_loss:.4f}", secret=f"{secret_loss:.4f}")
    history["seconds"] = time.perf_counter() - start
    history["images_per_second"] = (steps - 1) * batch / step_seconds if step_seconds > 0 else batch / history["seconds"]
    return history


def train(model: StegoNet, data: TrainingData, steps: int, batch: int = 8, learning_rate: float = 1e-3,
          beta: float = 1.0, eval_pairs: tuple[np.ndarray, np.ndarray] | None = None, eval_every: int = 0,
          progress: bool = True, jit_compile: bool = False, lr_decay: bool = True) -> dict:
    """Train with the compiled auto-diff step; returns the history of :func:`run_steps` plus evaluations.

    Adam with ``learning_rate``, decayed along a cosine to 10 % of it by the last step (``lr_decay``).
    Every ``eval_every`` steps (if > 0) ``eval_pairs`` are evaluated and one frame of their first pair
    (secret, cover, container, revealed) is kept for a training GIF.
    """
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.1) if lr_decay else learning_rate
    step = make_train_step(model, keras.optimizers.Adam(schedule), beta, jit_compile)
    evals, frames = [], []

    def evaluate_now(i, _history):
        if eval_pairs is None or not eval_every or not (i % eval_every == 0 or i == steps):
            return
        result = evaluate(model, *eval_pairs)
        arrays = result.pop("arrays")
        evals.append({"step": i, **result})
        s, r = eval_pairs[0][0], arrays["revealed"][0]
        s = np.repeat(s, 3, axis=-1) if s.shape[-1] == 1 else s
        r = np.repeat(r, 3, axis=-1) if r.shape[-1] == 1 else r
        frames.append(np.concatenate([s, eval_pairs[1][0], arrays["container"][0], r], axis=1))

    history = run_steps(step, data, steps, batch, progress, "training", evaluate_now)
    history.update(evals=evals, frames=frames, steps=steps, batch=batch, learning_rate=learning_rate,
                   lr_decay=lr_decay, beta=beta)
    return history


def transfer_weights(source: StegoNet, target: StegoNet) -> StegoNet:
    """Start ``target`` from ``source``'s weights, also across secret channel counts (3 -> 1 or 1 -> 3).

    Every weight of the same shape is copied. Where only the secret's channel count differs, the two
    layers that touch the secret are converted so that the grey model starts as the colour model applied
    to a grey secret replicated into R, G and B:

    * the first prep convolution sums its kernel over the three input channels (a conv of ``(g, g, g)``
      with kernels ``W_r, W_g, W_b`` equals a conv of ``g`` with ``W_r + W_g + W_b``) -- exact;
    * the reveal output convolution averages its kernel and bias over the three output channels (the
      revealed grey is the mean of the revealed R, G, B) -- exact too, as the output is linear.

    Going from 1 to 3 channels does the reverse (kernel / 3 replicated; output kernel replicated).
    Both models must be built (:meth:`StegoNet.build_for`). Returns ``target``.
    """
    if source.config_.variant != target.config_.variant or source.config_.filters != target.config_.filters \
            or source.config_.depth != target.config_.depth:
        raise ValueError("transfer_weights needs the same variant, filters and depth; got "
                         f"{source.config_} and {target.config_}")
    s_in, t_in = source.config_.secret_channels, target.config_.secret_channels
    for group in ("prep_layers", "hide_layers", "reveal_layers"):
        for s_layer, t_layer in zip(getattr(source, group), getattr(target, group)):
            s_vars, t_vars = s_layer.get_weights(), t_layer.get_weights()
            if not s_vars or not t_vars:
                raise ValueError("build both models first (model.build_for(size))")
            new = []
            for s_w, t_w in zip(s_vars, t_vars):
                if s_w.shape == t_w.shape:
                    new.append(s_w)
                elif group == "prep_layers" and s_w.ndim == 4 and s_w.shape[2] == s_in and t_w.shape[2] == t_in:
                    new.append(np.repeat(s_w.sum(axis=2, keepdims=True) / t_in, t_in, axis=2))
                elif group == "reveal_layers" and s_w.shape[-1] == s_in and t_w.shape[-1] == t_in:
                    new.append(np.repeat(s_w.mean(axis=-1, keepdims=True), t_in, axis=-1))
                else:
                    raise ValueError(f"cannot transfer {s_layer.name}: shapes {s_w.shape} -> {t_w.shape}")
            t_layer.set_weights(new)
    return target


# ---------------------------------------------------------------------------------------------------------
# pretrained models
# ---------------------------------------------------------------------------------------------------------

def save_pretrained(model: StegoNet, folder: Path, card: dict) -> None:
    """Write ``model.weights.h5`` and ``model_card.json`` (config + provenance + metrics) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_weights(folder / "model.weights.h5")
    (folder / "model_card.json").write_text(json.dumps({"config": asdict(model.config_), **card}, indent=2) + "\n")
    write_card_markdown(folder)


def write_card_markdown(folder: Path) -> Path:
    """Write ``README.md`` beside ``model_card.json``: the same facts, for people."""
    folder = Path(folder)
    card = json.loads((folder / "model_card.json").read_text())
    m = card["heldout_metrics"]
    lines = [f"# Model card: {folder.name}", "",
             "Deep steganography (Baluja 2017, the seed's variant) trained by the course's own code.", "",
             f"- Command: `{card['command']}`", f"- Date: {card['date']}", f"- Machine: {card['machine']}",
             f"- Configuration: {card['config']}",
             f"- Data: {card['data']}",
             f"- Secrets: {card.get('secrets', 'natural')}, {card['config']['secret_channels']} channel(s)"
             + (f"; started from the pretrained model `{card['init']}` (utils.hiding.stego.transfer_weights)"
                if card.get("init") else "; trained from random weights"),
             f"- Image size {card['image_size']}px; {card['steps']} steps of {card['batch']} pairs from a pool of "
             f"{card['pool']} patches; Adam {card['learning_rate']} ({card.get('lr_schedule', 'constant')}); "
             f"beta {card['beta']}",
             f"- Wall time: {card['wall_time_minutes']} min ({card['images_per_second']} pairs per second)", "",
             "Held-out metrics (16 pairs, container stored as 8-bit PNG before reveal):", "",
             "| | PSNR (dB) | SSIM | mean abs. error (0-255) |", "| --- | --- | --- | --- |",
             f"| cover vs container | {m['cover_psnr']:.2f} | {m['cover_ssim']:.3f} | {m['cover_mae_255']:.2f} |",
             f"| secret vs revealed | {m['secret_psnr']:.2f} | {m['secret_ssim']:.3f} | {m['secret_mae_255']:.2f} |", "",
             "Learning curve on the held-out pairs: `curve` in model_card.json.", ""]
    path = folder / "README.md"
    path.write_text("\n".join(lines))
    return path


def load_pretrained(name: str = "stego_natural_64") -> StegoNet:
    """A trained model shipped with the course (see its ``model_card.json`` for how it was made)."""
    folder = PRETRAINED_DIR / name
    card_path, weights = folder / "model_card.json", folder / "model.weights.h5"
    if not card_path.exists() or not weights.exists():
        available = sorted(p.name for p in PRETRAINED_DIR.glob("*/model_card.json")) if PRETRAINED_DIR.exists() else []
        raise FileNotFoundError(f"no pretrained model {name!r} in {PRETRAINED_DIR}; available: {available or 'none'}")
    card = json.loads(card_path.read_text())
    model = StegoNet(StegoConfig(**card["config"])).build_for(card.get("image_size", 64))
    model.load_weights(weights)
    model.card = card
    return model


def _main(argv=None) -> None:
    import argparse
    import platform

    from ..data import heldout_pairs
    from ..runtime import machine_summary, seed_everything

    parser = argparse.ArgumentParser(prog="python -m utils.hiding.stego", description="Train and save a stego model.")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--pool", type=int, default=2048)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--variant", default="seed", choices=list(_KERNELS))
    parser.add_argument("--secrets", default="natural", choices=["natural", "medical"])
    parser.add_argument("--secret-channels", type=int, default=3, choices=[1, 3],
                        help="1: grey secrets (colour ones become luma); 3: RGB secrets (grey ones replicated)")
    parser.add_argument("--init", default=None,
                        help="start from this pretrained model (name under utils/pretrained), see transfer_weights")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    seed_everything(args.seed)
    channels = args.secret_channels
    model = StegoNet(StegoConfig(variant=args.variant, seed=args.seed, secret_channels=channels)).build_for(args.size)
    if args.init:
        transfer_weights(load_pretrained(args.init), model)
    data = training_data(args.size, args.pool, seed=args.seed, secrets=args.secrets, secret_channels=channels)
    pairs = heldout_pairs(size=args.size, n=16, secrets=args.secrets, channels=channels)
    history = train(model, data, args.steps, args.batch, args.lr, args.beta, eval_pairs=pairs,
                    eval_every=max(1, args.steps // 20))
    final = evaluate(model, *pairs)
    final.pop("arrays")
    card = {"command": "python -m utils.hiding.stego " + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_summary(),
            "platform": platform.platform(), "image_size": args.size, "steps": args.steps, "batch": args.batch,
            "pool": args.pool, "learning_rate": args.lr, "lr_schedule": "cosine decay to 10 %", "beta": args.beta,
            "secrets": args.secrets, "secret_channels": channels, "init": args.init,
            "data": "patches of the corpus's train split (covers: natural photographs); metrics on "
                    "utils.data.heldout_pairs(size, n=16), containers stored as 8-bit images",
            "wall_time_minutes": round(history["seconds"] / 60, 1),
            "images_per_second": round(history["images_per_second"], 2),
            "heldout_metrics": final, "curve": [{k: v for k, v in e.items()} for e in history["evals"]]}
    save_pretrained(model, args.out, card)
    print(json.dumps({k: card[k] for k in ("wall_time_minutes", "images_per_second", "heldout_metrics")}, indent=2))


if __name__ == "__main__":
    _main()
