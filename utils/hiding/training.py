"""Training and evaluating hiders with Keras ``compile`` / ``fit``, on any backend.

* :class:`PatchStream`: an endless, seeded stream of (secret, cover) training batches cut fresh from the
  train split's sources (every frame), with augmentation: flips and 90-degree turns, brightness and
  contrast jitter, and for colour images a hue jitter (a small rotation about the grey axis).
* :func:`compile_hider`: Baluja's loss as Keras losses -- mean squared error on the ``container`` output
  against the cover and on the ``revealed`` output against the secret, ``loss_weights`` 1 and ``beta`` --
  with Adam and a warm-up + cosine learning-rate schedule.
* :class:`ValidationMonitor`: a callback that measures the validation pairs every few steps (container
  stored as 8 bits), keeps the learning curve and one frame per evaluation for a training GIF, keeps the
  best weights (validation-based selection, restored at the end), writes them to a checkpoint file, prints
  one line per evaluation, and can stop training at a time budget.
* :func:`fit_hider`: all of it in one call; :func:`evaluate`: quality on a :class:`utils.data.PairSet`
  with 95 % intervals over source images.
"""

from __future__ import annotations

import time

import numpy as np

from ..runtime import quiet_tensorflow

quiet_tensorflow()

import keras  # noqa: E402

from .. import metrics  # noqa: E402
from ..data import PairSet, PatchSampler, sources, split_names  # noqa: E402
from .channel import apply as apply_channel  # noqa: E402
from .stego import Hider, StegoNet  # noqa: E402

__all__ = ["augment", "PatchStream", "training_stream", "TrainingData", "training_data", "compile_hider",
           "ValidationMonitor", "fit_hider", "evaluate", "quick_quality", "format_quality"]


# ---------------------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------------------

def augment(images: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """A randomly flipped, turned and jittered copy of a batch (N, H, W, C) in [0, 1].

    Each image: a 90-degree turn (0-3 times) and a horizontal flip with probability 1/2; contrast x U(0.8,
    1.2) about the mean and brightness + U(-0.08, 0.08) (times ``strength``); colour images also get a hue
    rotation of U(-0.3, 0.3) rad about the grey axis. Results are clipped to [0, 1].
    """
    out = np.empty_like(images)
    for i, image in enumerate(images):
        x = np.rot90(image, int(rng.integers(4)), axes=(0, 1))
        if rng.random() < 0.5:
            x = x[:, ::-1]
        if strength > 0:
            mean = x.mean()
            x = (x - mean) * (1 + strength * rng.uniform(-0.2, 0.2)) + mean + strength * rng.uniform(-0.08, 0.08)
            if x.shape[-1] == 3:
                x = x @ _hue_rotation(strength * rng.uniform(-0.3, 0.3)).T
        out[i] = np.clip(x, 0.0, 1.0)
    return out


def _hue_rotation(angle: float) -> np.ndarray:
    """3x3 rotation by ``angle`` about the grey axis (1, 1, 1) / sqrt(3): keeps grey, turns hue."""
    c, s = np.cos(angle), np.sin(angle)
    k = np.ones((3, 3)) / 3.0
    cross = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]]) / np.sqrt(3.0)
    return (c * np.eye(3) + (1 - c) * k + s * cross).astype(np.float32)


class PatchStream(keras.utils.PyDataset):
    """Batches ``((secret, cover), {"container": cover, "revealed": secret})`` for ``fit``.

    Args:
        secrets, covers: :class:`utils.data.PatchSampler` (fresh patches) or arrays (N, H, W, C) to draw from.
        batch: pairs per batch.
        steps: batches per epoch (``len(stream)``).
        seed: the stream is a function of (seed, epoch, batch index): the same on every run.
        augment: strength of :func:`augment` (0 turns jitter off but keeps flips and turns; None: none at all).
        replicate: give grey secrets to the model as three equal channels (a colour model fed grey images).
    """

    def __init__(self, secrets, covers, batch: int = 16, steps: int = 100, seed: int = 0, augment: float | None = 1.0,
                 replicate: bool = False):
        super().__init__(workers=1, use_multiprocessing=False)
        self.secrets, self.covers = secrets, covers
        self.batch, self.steps, self.seed, self.strength = int(batch), int(steps), int(seed), augment
        self.replicate = bool(replicate)
        self.epoch = 0

    def __len__(self) -> int:
        return self.steps

    def _draw(self, source, rng, n):
        if isinstance(source, PatchSampler):
            return source.sample(rng, n)
        return np.asarray(source)[rng.integers(len(source), size=n)]

    def pairs(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The (secret, cover) batch number ``index`` of the current epoch."""
        rng = np.random.default_rng([self.seed, self.epoch, index])
        s, c = self._draw(self.secrets, rng, self.batch), self._draw(self.covers, rng, self.batch)
        if self.strength is not None:
            s, c = augment(s, rng, self.strength), augment(c, rng, self.strength)
        if self.replicate and s.shape[-1] == 1:
            s = np.repeat(s, 3, axis=-1)
        return s, c

    def __getitem__(self, index):
        s, c = self.pairs(index)
        return (s, c), {"container": c, "revealed": s}

    def on_epoch_end(self):
        self.epoch += 1


def training_stream(size: int, secrets: str = "natural", secret_channels: int = 3, batch: int = 16,
                    steps: int = 100, seed: int = 0, augment: float | None = 1.0, data="auto",
                    content: bool = False) -> tuple[PatchStream, str]:
    """A :class:`PatchStream` over the train split (covers: natural photographs; secrets: ``secrets``), and
    a sentence saying which sources it uses. ``content=True`` draws the secrets under the content rule of
    :mod:`utils.data.content` (no background patches); the shipped hiders were trained without it."""
    cover_sources, cover_text = sources("natural", "train", data=data)
    secret_sources, secret_text = sources(secrets, "train", data=data)
    stream = PatchStream(PatchSampler(secret_sources, size, secret_channels, content=content),
                         PatchSampler(cover_sources, size, 3), batch, steps, seed, augment)
    rule = "; secrets under the content rule" if content else ""
    return stream, f"secrets: {secret_text}; covers: {cover_text}{rule}"


class TrainingData:
    """A fixed pool of training patches; ``batch(n)`` pairs a random secret with a random other cover
    (the simple loop of notebooks 01 and 02, where every step should be reproducible by hand)."""

    def __init__(self, secrets: np.ndarray, covers: np.ndarray, seed: int = 0):
        self.secrets, self.covers, self.seed = secrets, covers, seed
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        i = self.rng.integers(len(self.secrets), size=size)
        j = self.rng.integers(len(self.covers), size=size)
        return self.secrets[i], self.covers[j]


def training_data(size: int, pool: int, seed: int = 0, secrets: str = "natural", secret_channels: int = 3) -> TrainingData:
    """A :class:`TrainingData` pool cut from the corpus's train split (covers: natural photographs)."""
    from ..data import patch_set

    covers = patch_set(split_names("natural", "train"), size, pool, seed=seed)
    secret = patch_set(split_names(secrets, "train"), size, pool, seed=seed + 1, channels=secret_channels)
    return TrainingData(secret, covers, seed=seed + 2)


# ---------------------------------------------------------------------------------------------------------
# compile, monitor, fit
# ---------------------------------------------------------------------------------------------------------

def learning_rate_schedule(learning_rate: float, steps: int, warmup: float = 0.02, final: float = 0.05):
    """Linear warm-up over ``warmup`` of the steps to ``learning_rate``, then a cosine to ``final`` x it."""
    warm = max(1, int(steps * warmup))
    return keras.optimizers.schedules.CosineDecay(learning_rate * 0.1, max(1, steps - warm), alpha=final,
                                                  warmup_target=learning_rate, warmup_steps=warm)


def compile_hider(model: Hider, learning_rate: float = 1e-3, beta: float = 1.0, steps: int | None = None,
                  jit_compile="auto") -> Hider:
    """Compile with Baluja's loss: MSE(container, cover) + beta MSE(revealed, secret), Adam.

    With ``steps`` the learning rate follows :func:`learning_rate_schedule`; without, it is constant.
    """
    rate = learning_rate_schedule(learning_rate, steps) if steps else learning_rate
    model.compile(optimizer=keras.optimizers.Adam(rate),
                  loss={"container": "mse", "revealed": "mse"},
                  loss_weights={"container": 1.0, "revealed": float(beta)}, jit_compile=jit_compile)
    return model


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(x, np.float64) * 255.0), 0, 255).astype(np.uint8)


def quick_quality(model: Hider, secrets: np.ndarray, covers: np.ndarray, channel=None) -> dict:
    """Mean cover and secret PSNR (dB) with the container stored as 8 bits: the cheap check of training.

    With a :class:`utils.hiding.channel.Channel`, also ``secret_psnr_channel``: the secret revealed from
    the container after that channel (for example ``Channel("jpeg", 75)``)."""
    container = _to_uint8(model.hide(secrets, covers))
    revealed = _to_uint8(model.reveal(container.astype(np.float32) / 255.0))
    truth = _to_uint8(secrets)
    out = {"cover_psnr": float(np.mean([metrics.psnr(a, b) for a, b in zip(_to_uint8(covers), container)])),
           "secret_psnr": float(np.mean([metrics.psnr(a, b) for a, b in zip(truth, revealed)]))}
    if channel is not None:
        after = _to_uint8(model.reveal(apply_channel(container, channel)))
        out["secret_psnr_channel"] = float(np.mean([metrics.psnr(a, b) for a, b in zip(truth, after)]))
    return out


class ValidationMonitor(keras.callbacks.Callback):
    """Measure the validation pairs every ``every`` steps; keep the curve, GIF frames and the best weights.

    Args:
        pairs: the validation :class:`utils.data.PairSet` (never the test set).
        every: steps between evaluations (and at the last step).
        total_steps: the planned number of steps (for the printed lines).
        checkpoint: a ``.weights.h5`` path to write the best weights to, or None.
        time_limit: seconds of training after which to stop (the time budget of an ablation), or None.
        verbose: print one line per evaluation.
        clock: ``"wall"`` (time_limit in seconds of the training steps) or ``"cpu"`` (in CPU seconds used by
            this process, all threads: a fair budget on a machine shared with other work).
        channel: a :class:`utils.hiding.channel.Channel` the secret must also survive (robust hiders).

    The score is the mean of the cover and secret PSNR (with ``channel``, the secret's is the mean of its
    PSNR on the lossless and on that channel); the weights of the best score are restored when
    training ends (``best_step`` says which). ``train_seconds`` times the training steps only (not the
    evaluations), the basis of the throughput in pairs per second.
    """

    def __init__(self, pairs, every: int = 100, total_steps: int | None = None, checkpoint=None,
                 time_limit: float | None = None, verbose: bool = True, frames: bool = True, clock: str = "wall",
                 channel=None):
        super().__init__()
        self.channel = channel
        if clock not in ("wall", "cpu"):
            raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}")
        self.clock, self.cpu_seconds, self._cpu_began = clock, 0.0, None
        self.pairs, self.every, self.total = pairs, max(1, int(every)), total_steps
        self.checkpoint, self.time_limit, self.verbose, self.keep_frames = checkpoint, time_limit, verbose, frames
        self.curve, self.frames, self.losses = [], [], []
        self.step, self.train_seconds, self.best_score, self.best_step, self.best_weights = 0, 0.0, -np.inf, 0, None
        self._began = None

    def on_train_batch_begin(self, batch, logs=None):
        self._began, self._cpu_began = time.perf_counter(), time.process_time()

    def on_train_batch_end(self, batch, logs=None):
        if self.step > 0:  # the first step traces and compiles; leave it out of the throughput
            self.train_seconds += time.perf_counter() - self._began
            self.cpu_seconds += time.process_time() - self._cpu_began
        self.step += 1
        logs = logs or {}
        self.losses.append({"step": self.step, "cover": float(logs.get("container_loss", np.nan)),
                            "secret": float(logs.get("revealed_loss", np.nan))})
        if self.step % self.every == 0:
            self.measure()
        spent = self.train_seconds if self.clock == "wall" else self.cpu_seconds
        if self.time_limit is not None and spent >= self.time_limit:
            self.model.stop_training = True
        if self.total is not None and self.step >= self.total:  # epochs may overshoot when steps % epoch > 0
            self.model.stop_training = True

    def measure(self):
        if self.curve and self.curve[-1]["step"] == self.step:
            return
        secrets, covers = self.pairs.secrets, self.pairs.covers
        result = quick_quality(self.model, secrets, covers, self.channel)
        secret = result["secret_psnr"] if self.channel is None else (result["secret_psnr"] + result["secret_psnr_channel"]) / 2
        score = (result["cover_psnr"] + secret) / 2
        self.curve.append({"step": self.step, "train_seconds": round(self.train_seconds, 1),
                           "cpu_seconds": round(self.cpu_seconds, 1), **result})
        if score > self.best_score:
            self.best_score, self.best_step = score, self.step
            self.best_weights = [np.array(w) for w in self.model.get_weights()]
            if self.checkpoint:
                from .pretrained import save_weights_only

                save_weights_only(self.model, self.checkpoint)
        if self.keep_frames:
            container = self.model.hide(secrets[:1], covers[:1])
            revealed = self.model.reveal(_to_uint8(container).astype(np.float32) / 255.0)
            grey = [np.repeat(x, 3, -1) if x.shape[-1] == 1 else x for x in (secrets[0], revealed[0])]
            self.frames.append(np.concatenate([grey[0], covers[0], container[0], grey[1]], axis=1))
        if self.verbose:
            total = f"/{self.total}" if self.total else ""
            after = (f", after {self.channel.name} {result['secret_psnr_channel']:.1f} dB"
                     if self.channel is not None else "")
            print(f"step {self.step}{total}: validation cover {result['cover_psnr']:.1f} dB, "
                  f"secret {result['secret_psnr']:.1f} dB{after}", flush=True)

    def on_train_end(self, logs=None):
        self.measure()
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def fit_hider(model: Hider, stream: PatchStream, steps: int, val_pairs, learning_rate: float = 1e-3,
              beta: float = 1.0, eval_every: int | None = None, checkpoint=None, time_limit: float | None = None,
              verbose: bool = True, schedule: bool = True, jit_compile="auto", clock: str = "wall",
              channel=None) -> dict:
    """Compile and ``fit`` for ``steps`` batches (or until ``time_limit`` seconds of training).

    Returns the history: ``curve`` (validation per evaluation), ``losses`` (per step), ``frames``,
    ``best_step``, ``steps`` done, ``seconds`` (wall), ``train_seconds``, ``cpu_seconds`` and
    ``pairs_per_second``. ``clock`` says how ``time_limit`` is counted and ``channel`` what else the secret must
    survive in validation (see :class:`ValidationMonitor`).
    """
    compile_hider(model, learning_rate, beta, steps if schedule else None, jit_compile)
    stream.steps = max(1, min(stream.steps, steps))
    epochs = int(np.ceil(steps / stream.steps))
    monitor = ValidationMonitor(val_pairs, eval_every or max(1, steps // 20), steps, checkpoint, time_limit, verbose,
                                clock=clock, channel=channel)
    began = time.perf_counter()
    model.fit(stream, epochs=epochs, steps_per_epoch=stream.steps, verbose=0, callbacks=[monitor])
    done = monitor.step
    return {"curve": monitor.curve, "losses": monitor.losses, "frames": monitor.frames, "best_step": monitor.best_step,
            "steps": done, "batch": stream.batch, "seconds": time.perf_counter() - began,
            "train_seconds": monitor.train_seconds, "cpu_seconds": monitor.cpu_seconds,
            "pairs_per_second": (done - 1) * stream.batch / monitor.train_seconds if monitor.train_seconds else None,
            "learning_rate": learning_rate, "beta": beta}


# ---------------------------------------------------------------------------------------------------------
# evaluation with intervals
# ---------------------------------------------------------------------------------------------------------

def evaluate(model: Hider, pairs, intervals: bool = True, channel=None) -> dict:
    """Quality on evaluation pairs, the container stored as an 8-bit image before it is revealed.

    With a :class:`utils.hiding.channel.Channel`, the secret is revealed from what that channel delivers
    (for example a JPEG of the container); the cover's quality is still the stored container's.

    Args:
        model: a hider.
        pairs: a :class:`utils.data.PairSet` (intervals over its secret and cover sources), or a tuple
            (secrets, covers) (intervals over pairs).
        intervals: compute the 95 % bootstrap intervals (:func:`utils.metrics.bootstrap_ci`).

    Returns:
        ``means`` (PSNR dB, SSIM, MAE 0-255 for cover and secret), ``intervals`` (the same as
        :class:`utils.metrics.Interval`), ``per_pair`` (arrays), and ``arrays`` (container, revealed,
        prep output for Baluja's network, residual) for figures.
    """
    secrets, covers = (pairs.secrets, pairs.covers) if isinstance(pairs, PairSet) else pairs
    groups = pairs.groups if isinstance(pairs, PairSet) else None
    container8 = _to_uint8(model.hide(secrets, covers))
    container = container8.astype(np.float32) / 255.0
    revealed = model.reveal(container if channel is None else apply_channel(container8, channel))
    per_pair = metrics.per_pair_quality(_to_uint8(covers), container8, _to_uint8(secrets), _to_uint8(revealed))
    out = {"means": {k: float(np.mean(v)) for k, v in per_pair.items()}, "per_pair": per_pair,
           "arrays": {"container": container, "revealed": revealed, "residual": container - covers}}
    if isinstance(model, StegoNet):
        out["arrays"]["prep"] = np.concatenate([keras.ops.convert_to_numpy(model.prep(secrets[i:i + 64]))
                                                for i in range(0, len(secrets), 64)])
    if intervals:
        out["intervals"] = metrics.summarize(per_pair, groups)
    return out


def format_quality(rows: dict, digits: int = 1) -> str:
    """A text table of :func:`evaluate` results with intervals: one row per method, PSNR and SSIM."""
    lines = [f"{'method':<30}{'cover PSNR (dB)':>22}{'cover SSIM':>22}{'secret PSNR (dB)':>22}{'secret SSIM':>22}"]
    for label, result in rows.items():
        iv = result["intervals"]
        lines.append(f"{label:<30}{iv['cover_psnr'].format(digits):>22}{iv['cover_ssim'].format(3):>22}"
                     f"{iv['secret_psnr'].format(digits):>22}{iv['secret_ssim'].format(3):>22}")
    first = next(iter(rows.values()))["intervals"]["cover_psnr"]
    lines.append(f"means with 95 % bootstrap intervals over source images ({first.describe()}); "
                 "containers stored as 8-bit images")
    return "\n".join(lines)
