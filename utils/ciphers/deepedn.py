"""DeepEDN (Ding et al., IEEE IoT-J 2021, arXiv 2004.05523): image encryption as Cycle-GAN domain translation.

The idea: a Cycle-GAN learns to translate images of a *plain domain* (grey medical images) into a *cipher
domain* (a target domain chosen by the owner, which "acts as the hidden key"), and back:

* ``G``: plain -> cipher, the encryption network;
* ``F``: cipher -> plain, the reconstruction (decryption) network;
* ``D_cipher``, ``D_plain``: one PatchGAN discriminator per domain.

Losses (LSGAN adversarial, L1 cycle, L1 identity; Zhu et al. 2017)::

    L_adv(G, D_c) = E_y (D_c(y) - 1)^2 + E_x D_c(G(x))^2            (D_c minimises; G minimises E_x (D_c(G(x)) - 1)^2)
    L_cyc(G, F)   = E_x |F(G(x)) - x| + E_y |G(F(y)) - y|
    L_id(G, F)    = E_y |G(y) - y| + E_x |F(x) - x|
    L_gen         = L_adv(G) + L_adv(F) + lambda_cyc L_cyc + lambda_id L_id

A third network, the *ROI-mining network*, segments the object of interest directly from cipher images
(the paper's privacy-preserving analysis): :func:`roi_masks` is the rule that makes its training masks
from the plain images, :func:`train_roi` trains it, :func:`dice` scores it.

The key domain (:func:`key_domain_images`). The paper does not say what its target domain was beyond a
"hidden factor"; here it is an image *distribution* that only the key holder can sample:

* ``"texture"`` (the default): keyed sparse-tap textures. The key (an integer) draws 8 tap positions in a
  9x9 window, no two taps neighbours, and 8 Gaussian weights (unit norm). A sample is white Gaussian noise
  filtered by those taps and mapped through the normal CDF: every pixel is uniform on [0, 1] (the ideal
  histogram, entropy 8 bits) and independent of its 8 neighbours (adjacent correlation 0, as the field
  asks of a cipher image), but pixels 2-8 apart are correlated in a pattern that only this key makes.
  The discriminator learns that pattern; another key is another domain.
* ``"noise"``: i.i.d. uniform noise, the ideal cipher image, but keyless: anyone can sample it.

The course's cipher (:class:`DeepEDNCipher`) sends the cipher image as 8-bit pixels: ``encrypt`` returns
uint8 (N, 64, 64); training passes the 8-bit rounding straight through, so ``F`` learns to decrypt what is
actually sent. The pretrained model is made by ``python -m utils.ciphers.deepedn --out
utils/pretrained/deepedn_64 ...`` (see its model card).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .base import Cipher, ThreatModel, check_batch, check_images

__all__ = ["DEFAULT_KEY", "SECOND_KEY", "KEY_DOMAINS", "DeepEDNConfig", "DeepEDN", "key_taps", "key_domain_images",
           "autocorrelation", "train_cyclegan", "roi_masks", "dice", "train_roi", "predict_roi", "linear_attack",
           "DeepEDNCipher",
           "save_pretrained", "load_pretrained", "load", "PRETRAINED_DIR"]

#: The key of the shipped model's cipher domain, and the second key of the key-sensitivity test.
DEFAULT_KEY, SECOND_KEY = 2021, 7
#: The kinds of key domain.
KEY_DOMAINS = ("texture", "noise")
#: Where the course's trained models live.
from ..cards import PRETRAINED_DIR, load_model, record_files  # noqa: E402
from ..layers.blocks import run_image_network  # noqa: E402


# ------------------------------------------------------------------------------------------------------
# the key domain
# ------------------------------------------------------------------------------------------------------

def key_taps(key: int, taps: int = 8, window: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """The secret of a ``"texture"`` key domain: ``taps`` offsets (dy, dx) in a ``window`` square, no two of
    them neighbours (Chebyshev distance >= 2), and their weights (Gaussian, unit L2 norm).

    Because no two taps are neighbours, the filtered noise has zero correlation at every one-pixel lag.
    """
    if not isinstance(key, (int, np.integer)) or isinstance(key, bool):
        raise TypeError(f"key must be an integer, got {type(key).__name__}")
    rng = np.random.default_rng([int(key), 0x5EED])
    cells = [(y, x) for y in range(window) for x in range(window)]
    chosen: list[tuple[int, int]] = []
    for i in rng.permutation(len(cells)):
        y, x = cells[i]
        if all(max(abs(y - a), abs(x - b)) >= 2 for a, b in chosen):
            chosen.append((y, x))
        if len(chosen) == taps:
            break
    if len(chosen) < taps:
        raise ValueError(f"cannot place {taps} non-adjacent taps in a {window}x{window} window")
    weights = rng.normal(size=taps)
    return np.array(chosen, np.int64), (weights / np.linalg.norm(weights)).astype(np.float64)


def key_domain_images(n: int, size: int = 64, kind: str = "texture", key: int = DEFAULT_KEY,
                      seed: int = 0) -> np.ndarray:
    """``n`` samples of the cipher (key) domain, float32 (n, size, size) in [0, 1].

    ``kind="texture"``: white Gaussian noise filtered by the key's taps (:func:`key_taps`), then mapped
    through the normal CDF (uniform marginals). ``kind="noise"``: i.i.d. uniform noise (``key`` unused).
    ``seed`` picks the samples; the key picks the distribution.
    """
    from scipy.special import ndtr

    if kind not in KEY_DOMAINS:
        raise ValueError(f"kind must be one of {KEY_DOMAINS}, got {kind!r}")
    if int(n) < 0 or int(size) < 1:
        raise ValueError(f"need n >= 0 and size >= 1, got n={n!r}, size={size!r}")
    rng = np.random.default_rng([int(seed), 0xC1F])
    if kind == "noise":
        return rng.random((int(n), size, size), dtype=np.float32)
    offsets, weights = key_taps(key)
    pad = int(offsets.max())
    noise = rng.standard_normal((int(n), size + pad, size + pad))
    z = np.zeros((int(n), size, size))
    for (dy, dx), w in zip(offsets, weights):
        z += w * noise[:, dy:dy + size, dx:dx + size]
    return ndtr(z).astype(np.float32)


def autocorrelation(images, lags: int = 8) -> np.ndarray:
    """Mean normalised autocorrelation of a batch of images (N, H, W) for lags -lags..lags in y and x.

    The centre is 1; a key-domain texture shows peaks where two of its taps differ by that lag.
    """
    x = np.asarray(images, np.float64)
    x = x - x.mean(axis=(1, 2), keepdims=True)
    x = x / np.maximum(x.std(axis=(1, 2), keepdims=True), 1e-12)
    spectrum = np.fft.fft2(x, s=(2 * x.shape[1], 2 * x.shape[2]))
    corr = np.fft.ifft2(np.abs(spectrum) ** 2).real.mean(0) / (x.shape[1] * x.shape[2])
    corr = np.fft.fftshift(corr)
    cy, cx = corr.shape[0] // 2, corr.shape[1] // 2
    return corr[cy - lags:cy + lags + 1, cx - lags:cx + lags + 1]


# ------------------------------------------------------------------------------------------------------
# the networks
# ------------------------------------------------------------------------------------------------------

@dataclass
class DeepEDNConfig:
    """Everything that defines a DeepEDN model (stored in its model card).

    ``width``/``blocks``: the ResNet generators (``width``, 2x, 4x channels; residual blocks at 1/4
    resolution); ``disc_width``: the PatchGAN discriminators; ``roi_width``: the ROI-mining network.
    ``key_domain``/``key``: the cipher domain (:func:`key_domain_images`); ``seed``: the weights' seed.
    """

    image_size: int = 64
    width: int = 16
    blocks: int = 2
    disc_width: int = 16
    roi_width: int = 8
    key_domain: str = "texture"
    key: int = DEFAULT_KEY
    seed: int = 0
    lambda_cycle: float = 30.0
    lambda_identity: float = 0.5
    lambda_cycle_back: float | None = 1.0
    norm: bool = False
    warmup_steps: int = 0
    lr_decay: bool = False
    learning_rate: float = 2e-4
    beta_1: float = 0.5

    def __post_init__(self):
        if self.key_domain not in KEY_DOMAINS:
            raise ValueError(f"key_domain must be one of {KEY_DOMAINS}, got {self.key_domain!r}")
        if self.image_size % 8:
            raise ValueError(f"image_size must be a multiple of 8, got {self.image_size}")
        for name in ("width", "blocks", "disc_width", "roi_width"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")


class DeepEDN:
    """The four Cycle-GAN networks and the ROI-mining network of one DeepEDN model (Keras 3 models).

    Attributes ``G`` (plain -> cipher), ``F`` (cipher -> plain), ``D_plain``, ``D_cipher``, ``roi``.
    All images are float in [0, 1] with a channel axis (N, H, W, 1); generators end in a sigmoid.
    """

    def __init__(self, config: DeepEDNConfig | None = None):
        import keras

        from ..layers.blocks import patch_discriminator, resnet_generator

        self.config = config or DeepEDNConfig()
        c = self.config
        keras.utils.set_random_seed(c.seed)
        size = c.image_size
        self.G = resnet_generator(1, 1, width=c.width, blocks=c.blocks, size=size, name="G_encrypt", norm=c.norm)
        self.F = resnet_generator(1, 1, width=c.width, blocks=c.blocks, size=size, name="F_decrypt", norm=c.norm)
        self.D_cipher = patch_discriminator(1, width=c.disc_width, size=size, name="D_cipher")
        self.D_plain = patch_discriminator(1, width=c.disc_width, size=size, name="D_plain")
        self.roi = resnet_generator(1, 1, width=c.roi_width, blocks=1, size=size, name="roi_miner")
        self.card: dict = {}

    def cipher_float(self, images: np.ndarray, batch: int = 128) -> np.ndarray:
        """G on a batch (N, H, W) -> cipher images (N, H, W) as floats in [0, 1] (before 8-bit rounding)."""
        return run_image_network(self.G, images, batch)

    def decrypt_float(self, cipher: np.ndarray, batch: int = 128) -> np.ndarray:
        """F on cipher images (N, H, W) in [0, 1] -> plain images (N, H, W)."""
        return run_image_network(self.F, cipher, batch)

    def count_params(self) -> dict[str, int]:
        return {name: int(getattr(self, name).count_params()) for name in ("G", "F", "D_cipher", "D_plain", "roi")}

    def save(self, folder: Path, with_discriminators: bool = False) -> None:
        """Write ``G.weights.h5``, ``F.weights.h5``, ``roi.weights.h5`` (and the discriminators if asked)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("G", "F", "roi") + (("D_cipher", "D_plain") if with_discriminators else ()):
            getattr(self, name).save_weights(folder / f"{name}.weights.h5")

    def load(self, folder: Path) -> "DeepEDN":
        folder = Path(folder)
        for name in ("G", "F", "roi", "D_cipher", "D_plain"):
            path = folder / f"{name}.weights.h5"
            if path.exists():
                getattr(self, name).load_weights(path)
            elif name in ("G", "F"):
                raise FileNotFoundError(f"{path.name} is missing in {folder.name}; train with python -m "
                                        "utils.ciphers.deepedn --out <folder>")
        return self


# ------------------------------------------------------------------------------------------------------
# training the Cycle-GAN
# ------------------------------------------------------------------------------------------------------

def _quantise(x):
    """8-bit rounding with a straight-through gradient: the forward pass sees what is sent."""
    import tensorflow as tf

    return x + tf.stop_gradient(tf.round(x * 255.0) / 255.0 - x)


def make_train_step(model: DeepEDN):
    """A compiled Cycle-GAN step (TensorFlow backend): (x plain, y key-domain) batches (B, H, W, 1) -> losses.

    Generators and discriminators are updated at once from one forward pass (their losses use
    ``stop_gradient`` on the fakes the discriminators see), each network with its own Adam.
    """
    import keras
    import tensorflow as tf

    c = model.config
    opts = {k: keras.optimizers.Adam(c.learning_rate, beta_1=c.beta_1, name=f"adam_{k}") for k in ("gen", "dc", "dp")}
    gen_vars = model.G.trainable_variables + model.F.trainable_variables
    adv_weight = tf.Variable(1.0, trainable=False, name="adversarial_weight")
    lam_c, lam_i = float(c.lambda_cycle), float(c.lambda_identity)
    lam_b = lam_c if c.lambda_cycle_back is None else float(c.lambda_cycle_back)

    def mse_to(t, value):
        return tf.reduce_mean(tf.square(t - value))

    @tf.function(reduce_retracing=True)
    def step(x, y):
        y = tf.round(y * 255.0) / 255.0  # the key domain as 8-bit images, like the cipher images
        with tf.GradientTape(persistent=True) as tape:
            fake_c = _quantise(model.G(x, training=True))
            rec_x = model.F(fake_c, training=True)
            fake_x = model.F(y, training=True)
            rec_y = model.G(fake_x, training=True)
            adv_g = mse_to(model.D_cipher(fake_c, training=True), 1.0)
            adv_f = mse_to(model.D_plain(fake_x, training=True), 1.0)
            cycle_x = tf.reduce_mean(tf.abs(rec_x - x))  # plain -> cipher -> plain: decryption
            cycle_y = tf.reduce_mean(tf.abs(rec_y - y))  # key domain -> plain -> key domain
            if lam_i > 0:
                identity = (tf.reduce_mean(tf.abs(model.G(y, training=True) - y))
                            + tf.reduce_mean(tf.abs(model.F(x, training=True) - x)))
            else:
                identity = tf.constant(0.0)
            gen = adv_weight * (adv_g + adv_f) + lam_c * cycle_x + lam_b * cycle_y + lam_i * identity
            d_c = 0.5 * (mse_to(model.D_cipher(y, training=True), 1.0)
                         + mse_to(model.D_cipher(tf.stop_gradient(fake_c), training=True), 0.0))
            d_p = 0.5 * (mse_to(model.D_plain(x, training=True), 1.0)
                         + mse_to(model.D_plain(tf.stop_gradient(fake_x), training=True), 0.0))
        for loss, variables, opt in ((gen, gen_vars, opts["gen"]),
                                     (d_c, model.D_cipher.trainable_variables, opts["dc"]),
                                     (d_p, model.D_plain.trainable_variables, opts["dp"])):
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        del tape
        return {"gen": gen, "adv_G": adv_g, "adv_F": adv_f, "cycle": cycle_x + cycle_y, "cycle_x": cycle_x,
                "cycle_y": cycle_y, "identity": identity,
                "D_cipher": d_c, "D_plain": d_p}

    step.adversarial_weight = adv_weight
    step.optimizers = list(opts.values())
    return step


def learning_rate_at(config: DeepEDNConfig, step: int, steps: int) -> float:
    """Cycle-GAN's schedule when ``config.lr_decay``: constant for the first half, then linearly to 0."""
    if not config.lr_decay or step <= steps // 2:
        return float(config.learning_rate)
    return float(config.learning_rate) * max(0.0, (steps - step + 1) / (steps - steps // 2))


def validation_metrics(model: DeepEDN, images: np.ndarray) -> dict[str, float]:
    """What training watches on validation images: decryption PSNR of the 8-bit cipher images, the cipher
    images' mean entropy, and the mean |correlation| between a plain image and its cipher image (leakage)."""
    from .. import metrics
    from .evaluation import as_uint8

    cipher8 = as_uint8(model.cipher_float(images))
    back8 = as_uint8(model.decrypt_float(cipher8.astype(np.float32) / 255.0))
    plain8 = as_uint8(images)
    psnr = float(np.mean([min(metrics.psnr(a, b), 100.0) for a, b in zip(plain8, back8)]))
    entropy = float(np.mean([metrics.entropy(c) for c in cipher8]))
    leak = []
    for p, c in zip(plain8.astype(np.float64), cipher8.astype(np.float64)):
        ok = p.std() > 0 and c.std() > 0
        leak.append(abs(np.corrcoef(p.ravel(), c.ravel())[0, 1]) if ok else 0.0)
    return {"psnr": round(psnr, 3), "entropy": round(entropy, 4), "leak_corr": round(float(np.mean(leak)), 4)}


@dataclass
class _Stream:
    """Batches of plain training images (random flips and quarter turns) and fresh key-domain samples."""

    plains: np.ndarray
    config: DeepEDNConfig
    seed: int = 0
    rng: np.random.Generator = field(init=False, repr=False)
    drawn: int = field(default=0, init=False)

    def __post_init__(self):
        self.rng = np.random.default_rng([self.seed, 0xDA7A])

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        x = self.plains[self.rng.integers(len(self.plains), size=size)]
        x = np.rot90(x, k=int(self.rng.integers(4)), axes=(1, 2))
        if self.rng.random() < 0.5:
            x = x[:, :, ::-1]
        c = self.config
        y = key_domain_images(size, c.image_size, c.key_domain, c.key, seed=self.seed * 1_000_003 + self.drawn)
        self.drawn += 1
        return np.ascontiguousarray(x)[..., None].astype(np.float32), y[..., None]


def train_cyclegan(model: DeepEDN, plains: np.ndarray, steps: int, batch: int = 8, val_images=None,
                   eval_every: int = 0, progress: bool = True, seed: int | None = None, log=None,
                   max_minutes: float | None = None) -> dict:
    """Train the Cycle-GAN on ``plains`` (float (N, H, W) train images) against the model's key domain.

    Every ``eval_every`` steps (and at the last) :func:`validation_metrics` is computed on ``val_images``
    (validation images: monitoring only). Training stops after ``steps`` steps or, if given, once
    ``max_minutes`` of wall time have passed (``steps_done`` says which). Returns the history: per-step
    losses, the evaluations, wall and CPU seconds and images per second. ``log``: a callable that gets a
    line per evaluation.
    """
    import tensorflow as tf
    from tqdm import tqdm

    if int(steps) < 1 or int(batch) < 1:
        raise ValueError(f"steps and batch must be >= 1, got steps={steps!r}, batch={batch!r}")
    plains = check_images(plains, model.config.image_size, "plains")
    stream = _Stream(plains, model.config, model.config.seed if seed is None else seed)
    step = make_train_step(model)
    history: dict = {"step": [], "evals": []}
    wall, cpu = time.perf_counter(), time.process_time()
    bar = tqdm(range(1, int(steps) + 1), disable=not progress, mininterval=5.0, desc="Cycle-GAN", leave=True)
    for i in bar:
        out_of_time = max_minutes is not None and time.perf_counter() - wall > 60 * max_minutes
        last = i == steps or out_of_time
        x, y = stream.batch(batch)
        step.adversarial_weight.assign(0.0 if i <= model.config.warmup_steps else 1.0)
        for opt in step.optimizers:
            opt.learning_rate = learning_rate_at(model.config, i, int(steps))
        losses = {k: float(v) for k, v in step(tf.constant(x), tf.constant(y)).items()}
        if not np.isfinite(losses["gen"]):
            raise FloatingPointError(f"generator loss became {losses['gen']} at step {i}; lower the learning rate")
        history["step"].append(i)
        for k, v in losses.items():
            history.setdefault(k, []).append(v)
        if val_images is not None and eval_every and (i % eval_every == 0 or last):
            ev = {"step": i, **validation_metrics(model, val_images)}
            history["evals"].append(ev)
            if log is not None:
                log(f"step {i}: cycle x {losses['cycle_x']:.4f} y {losses['cycle_y']:.4f} adv_G {losses['adv_G']:.3f} D_cipher "
                    f"{losses['D_cipher']:.3f} | val {ev}")
        if progress and i % 10 == 0:
            bar.set_postfix(cycle=f"{losses['cycle']:.3f}", adv_G=f"{losses['adv_G']:.2f}")
        if out_of_time:
            break
    bar.close()
    history["steps_done"] = len(history["step"])
    history["seconds"] = time.perf_counter() - wall
    history["cpu_seconds"] = time.process_time() - cpu
    history["images_per_second"] = history["steps_done"] * batch / history["seconds"]
    return history


# ------------------------------------------------------------------------------------------------------
# ROI mining
# ------------------------------------------------------------------------------------------------------

def roi_masks(images, sigma: float = 1.0, min_contrast: float = 0.1) -> np.ndarray:
    """The object of interest in plain images (N, H, W) -> boolean masks (N, H, W). The rule:

    smooth with a Gaussian of ``sigma`` pixels; if the smoothed image's contrast (99th minus 1st
    percentile) is below ``min_contrast``, the ROI is empty (a flat patch of background or tissue);
    otherwise the ROI is every pixel brighter than the smoothed image's Otsu threshold (the bright
    structure: bone, contrast-filled vessels, tissue against the dark background of a scan).
    """
    from scipy.ndimage import gaussian_filter
    from skimage.filters import threshold_otsu

    batch = check_images(images, None, "images")
    out = np.zeros(batch.shape, bool)
    for i, image in enumerate(batch):
        smooth = gaussian_filter(image.astype(np.float64), sigma)
        low, high = np.percentile(smooth, [1, 99])
        if high - low >= min_contrast:
            out[i] = smooth > threshold_otsu(smooth)
    return out


def dice(pred, true) -> np.ndarray:
    """Dice coefficient per image, 2|P and T| / (|P| + |T|); 1 where both masks are empty."""
    p, t = np.asarray(pred, bool), np.asarray(true, bool)
    if p.shape != t.shape:
        raise ValueError(f"pred and true must have the same shape, got {p.shape} and {t.shape}")
    axes = tuple(range(1, p.ndim))
    inter = (p & t).sum(axis=axes).astype(np.float64)
    total = (p.sum(axis=axes) + t.sum(axis=axes)).astype(np.float64)
    return np.where(total == 0, 1.0, 2 * inter / np.maximum(total, 1))


def train_roi(network, features: np.ndarray, masks: np.ndarray, steps: int = 300, batch: int = 16,
              learning_rate: float = 2e-3, seed: int = 0) -> dict:
    """Train the ROI-mining network (any Keras model (N, H, W, 1) -> (N, H, W, 1) in [0, 1]) on
    ``features`` (cipher images / 255, (N, H, W)) and boolean ``masks``: binary cross-entropy + soft Dice.
    Returns ``{"loss": [...], "seconds": ...}``."""
    import keras
    import tensorflow as tf

    x = np.asarray(features, np.float32)[..., None]
    y = np.asarray(masks, np.float32)[..., None]
    if x.shape != y.shape:
        raise ValueError(f"features and masks must have the same shape, got {x.shape[:3]} and {y.shape[:3]}")
    opt = keras.optimizers.Adam(learning_rate)
    bce = keras.losses.BinaryCrossentropy()

    @tf.function(reduce_retracing=True)
    def step(xb, yb):
        with tf.GradientTape() as tape:
            p = network(xb, training=True)
            soft = 1 - (2 * tf.reduce_sum(p * yb) + 1) / (tf.reduce_sum(p) + tf.reduce_sum(yb) + 1)
            loss = bce(yb, p) + soft
        grads = tape.gradient(loss, network.trainable_variables)
        opt.apply_gradients(zip(grads, network.trainable_variables))
        return loss

    rng = np.random.default_rng([seed, 0x201])
    began, losses = time.perf_counter(), []
    for _ in range(int(steps)):
        i = rng.integers(len(x), size=min(batch, len(x)))
        losses.append(float(step(tf.constant(x[i]), tf.constant(y[i]))))
    return {"loss": losses, "seconds": time.perf_counter() - began}


def predict_roi(network, features: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Boolean masks (N, H, W) that the ROI-mining network reads from ``features`` (N, H, W)."""
    return run_image_network(network, features) > threshold


# ------------------------------------------------------------------------------------------------------
# the cipher interface
# ------------------------------------------------------------------------------------------------------

def _neighbourhoods(cipher_images: np.ndarray, radius: int) -> np.ndarray:
    padded = np.pad(np.asarray(cipher_images, np.float32) / 255.0, ((0, 0), (radius, radius), (radius, radius)),
                    mode="reflect")
    side_y, side_x = cipher_images.shape[1:]
    cols = [padded[:, dy:dy + side_y, dx:dx + side_x] for dy in range(2 * radius + 1) for dx in range(2 * radius + 1)]
    return np.stack(cols + [np.ones_like(cols[0])], axis=-1).reshape(-1, len(cols) + 1)


def linear_attack(known_cipher: np.ndarray, known_plains: np.ndarray, test_cipher: np.ndarray,
                  radius: int = 4) -> np.ndarray:
    """A known-plaintext attack with no network: least squares from the (2 radius + 1)^2 neighbourhood of
    each cipher pixel (uint8 (N, H, W)) to the plain pixel, fitted on the known pairs; returns the test
    plaintexts it reads, float32 in [0, 1]."""
    coef, *_ = np.linalg.lstsq(_neighbourhoods(known_cipher, radius), np.asarray(known_plains, np.float32).ravel(),
                               rcond=None)
    out = _neighbourhoods(test_cipher, radius) @ coef
    return np.clip(out, 0, 1).reshape(np.asarray(test_cipher).shape).astype(np.float32)


class DeepEDNCipher(Cipher):
    """DeepEDN behind the course's interface: ``encrypt`` = 8-bit rounding of G(x), uint8 (N, H, W);
    ``decrypt`` = F(cipher / 255), float32 (N, H, W) clipped to [0, 1]. Any height and width that are
    multiples of 4: G and F are fully convolutional, so a model trained on 64x64 patches encrypts a 512x512
    slice whole (``trained_size`` says what it was trained at; quality at other sizes is measured, not
    promised: ``python -m utils.benchmark --size 256``).

    The cipher image *is* the ciphertext (``cipher_image`` returns it as it is; ``features`` is it / 255).
    The key is the trained pair (G, F) -- and the key domain they were trained on; :meth:`with_key` takes
    another trained model (a :class:`DeepEDN`, a pretrained name, or a folder).
    Deterministic, no nonce: one image always encrypts to the same cipher image.
    """

    name, kind = "deepedn", "learned"

    def __init__(self, model: DeepEDN):
        if not isinstance(model, DeepEDN):
            raise TypeError(f"model must be a DeepEDN, got {type(model).__name__}; use utils.ciphers.deepedn.load()")
        self.model = model
        self.trained_size = model.config.image_size

    image_size = None  # any side that is a multiple of 4: G and F are fully convolutional
    multiple = 4

    def encrypt(self, images) -> np.ndarray:
        from .evaluation import as_uint8

        return as_uint8(self.model.cipher_float(check_images(images, multiple=self.multiple)))

    def decrypt(self, ciphertext) -> np.ndarray:
        c = check_batch(ciphertext, "u", 3)
        if c.shape[1] % self.multiple or c.shape[2] % self.multiple:
            raise ValueError(f"ciphertext must be (N, H, W) cipher images with H and W multiples of {self.multiple}, "
                             f"got {c.shape}; pass what encrypt() returned")
        return np.clip(self.model.decrypt_float(c.astype(np.float32) / 255.0), 0.0, 1.0).astype(np.float32)

    def cipher_image(self, ciphertext) -> np.ndarray:
        return check_batch(ciphertext, "u", 3)

    def with_key(self, key) -> "DeepEDNCipher":
        if isinstance(key, DeepEDNCipher):
            return key
        if isinstance(key, DeepEDN):
            return DeepEDNCipher(key)
        if isinstance(key, (str, Path)):
            return DeepEDNCipher(load_pretrained(key))
        raise TypeError("a DeepEDN key is a trained model: pass a DeepEDN, a pretrained name such as "
                        f"'deepedn_64_seed1', or a folder; got {type(key).__name__}")

    def other_key(self) -> "DeepEDNCipher":
        """The model trained by the same command from another seed (``deepedn_64_seed1``)."""
        return self.with_key("deepedn_64_seed1")

    def threat_model(self) -> ThreatModel:
        c = self.model.config
        return ThreatModel("the design and the training recipe (the course's code and command)",
                           "the trained networks G and F, which the recipe makes from the key-domain integer and "
                           "the training seed", 64,
                           "two 32-bit integers nominally; the weights are millions of floats, but not chosen "
                           f"at random: the demonstration model uses key {c.key} and seed {c.seed}; deterministic "
                           "(one image, one cipher image)")

    def dedicated_attack(self, known_plains, test_ciphertext):
        """None: DeepEDN has no classic break of its own (no key stream to recover, no linear map to invert);
        the generic substitute decoder of :mod:`utils.ciphers.attacks` applies. :func:`linear_attack` is the
        network-free variant the notebook's exercise tries."""
        return None

    def __repr__(self) -> str:
        c = self.model.config
        return (f"<DeepEDNCipher 'deepedn' (learned, any size, trained at {self.trained_size}, key domain "
                f"{c.key_domain}:{c.key}, seed {c.seed})>")


# ------------------------------------------------------------------------------------------------------
# pretrained models
# ------------------------------------------------------------------------------------------------------

def save_pretrained(model: DeepEDN, folder: Path, card: dict) -> None:
    """Write the weights (G, F, roi), ``model_card.json`` (config + provenance + metrics) and ``README.md``."""
    folder = Path(folder)
    model.save(folder)
    card = record_files(folder, {"config": asdict(model.config), **card})
    (folder / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    write_card_markdown(folder)


def _fmt(row: dict, digits: int = 2) -> str:
    return f"{row['mean']:.{digits}f} [{row['low']:.{digits}f}, {row['high']:.{digits}f}]"


def write_card_markdown(folder: Path) -> Path:
    """``README.md`` beside ``model_card.json``: the same facts, for people."""
    folder = Path(folder)
    card = json.loads((folder / "model_card.json").read_text())
    cfg, m = card["config"], card["test_metrics"]
    lines = [f"# Model card: {folder.name}", "",
             "DeepEDN (Ding et al. 2021) rebuilt at CPU scale by the course's own code: a Cycle-GAN between grey "
             "medical images and a keyed cipher domain, its reconstruction network, and an ROI-mining network "
             "that segments cipher images.", "",
             f"- Command: `{card['command']}`", f"- Date: {card['date']}", f"- Machine: {card['machine']}",
             f"- Configuration: {cfg}",
             f"- Key domain: {card['key_domain_text']}",
             f"- Data: {card['data']}",
             f"- Training: {card['steps']} Cycle-GAN steps of {card['batch']} images"
             + (f" (of {card['steps_planned']} planned: stopped by the wall-time budget)"
                if card.get("steps_planned", card["steps"]) > card["steps"] else "")
             + f" (Adam {cfg['learning_rate']}"
             + (", constant for half the steps, then linearly to 0" if cfg.get("lr_decay") else "")
             + (f"; the first {cfg['warmup_steps']} steps without the adversarial terms" if cfg.get("warmup_steps") else "")
             + ", "
             f"beta1 {cfg['beta_1']}; LSGAN; L1 decryption cycle x{cfg['lambda_cycle']}, L1 key-domain cycle "
             f"x{cfg['lambda_cycle_back']}, L1 identity x{cfg['lambda_identity']}; 8-bit rounding of the cipher "
             f"images with a straight-through gradient; generators {'with' if cfg['norm'] else 'without'} instance "
             f"normalisation), then {card['roi_steps']} ROI-mining steps",
             f"- Wall time: {card['wall_time_minutes']} min; CPU time {card['cpu_minutes']} min "
             f"(the CPU was shared with other jobs: CPU time is the fairer measure)",
             f"- Parameters: {card['parameters']}", "",
             f"Test metrics ({m['n']}; 95 % bootstrap intervals over source images):", "",
             "| measure | value | ideal |", "| --- | --- | --- |",
             f"| decryption PSNR (dB, 8-bit cipher images) | {_fmt(m['psnr'])} | high |",
             f"| decryption SSIM | {_fmt(m['ssim'], 3)} | 1 |",
             f"| decryption MSE (0-1 scale) | {_fmt(m['mse'], 5)} | 0 |",
             f"| cipher entropy (bits) | {_fmt(m['entropy'], 3)} | 8 (7.95 for a random 64x64 image) |",
             f"| histogram chi-square (255 dof) | {_fmt(m['chi_square'], 0)} | < 293.25 |",
             f"| adjacent correlation, horizontal | {_fmt(m['correlation_horizontal'], 3)} | 0 |",
             f"| NPCR, one pixel changed (%) | {_fmt(m['npcr'], 3)} | >= {m['npcr_critical']:.4f} |",
             f"| UACI, one pixel changed (%) | {_fmt(m['uaci'], 3)} | {m['uaci_interval'][0]:.4f}-"
             f"{m['uaci_interval'][1]:.4f} |",
             f"| ROI Dice from cipher images | {_fmt(m['roi_dice'], 3)} | 1 |", "",
             f"Quality and its limits: {card['quality_note']}", "",
             "Validation curve (monitoring only; the last weights are kept): `curve` in model_card.json.", ""]
    path = folder / "README.md"
    path.write_text("\n".join(lines))
    return path


def load_pretrained(name: str | Path = "deepedn_64") -> DeepEDN:
    """A trained DeepEDN model: a name under ``utils/pretrained`` or a folder with ``model_card.json``."""
    return load_model(name, lambda card, folder: DeepEDN(DeepEDNConfig(**card["config"])).load(folder),
                      family="DeepEDN model", prefix="deepedn",
                      train="python -m utils.ciphers.deepedn --out utils/pretrained/<name>")


def load(model: str | Path | DeepEDN = "deepedn_64") -> DeepEDNCipher:
    """The course's DeepEDN cipher with its shipped weights (or another trained model, by name or folder)."""
    return DeepEDNCipher(model if isinstance(model, DeepEDN) else load_pretrained(model))


# ------------------------------------------------------------------------------------------------------
# command line: train, measure on the test split, write weights and card
# ------------------------------------------------------------------------------------------------------

def _row(interval) -> dict:
    return {"mean": round(float(interval.mean), 5), "low": round(float(interval.low), 5),
            "high": round(float(interval.high), 5)}


def measure_on_test(model: DeepEDN, test_set) -> dict:
    """The card's test metrics: reconstruction, cipher statistics, avalanche and ROI Dice, with intervals."""
    from ..metrics import bootstrap_ci
    from . import evaluation as ev

    cipher = DeepEDNCipher(model)
    ct = cipher.encrypt(test_set.images)
    rec = ev.reconstruction(cipher, test_set, ct)
    stats = ev.cipher_statistics(cipher, test_set, ct)
    aval = ev.avalanche(cipher, test_set)
    roi = bootstrap_ci(dice(predict_roi(model.roi, ct.astype(np.float32) / 255.0), roi_masks(test_set.images)),
                       test_set.ids)
    out = {k: _row(v) for k, v in {**rec, **stats}.items()}
    out.update(npcr=_row(aval["npcr"]), uaci=_row(aval["uaci"]), npcr_pass=_row(aval["npcr_pass"]),
               uaci_pass=_row(aval["uaci_pass"]), npcr_critical=round(aval["npcr_critical"], 4),
               uaci_interval=[round(v, 4) for v in aval["uaci_interval"]], roi_dice=_row(roi),
               n=rec["psnr"].describe())
    return out


def quality_note(metrics: dict, steps: int, config: DeepEDNConfig, extra: str = "") -> str:
    """A plain sentence on what the measured numbers mean, written from the numbers themselves."""
    psnr, entropy, npcr = metrics["psnr"]["mean"], metrics["entropy"]["mean"], metrics["npcr"]["mean"]
    passes = metrics["npcr_pass"]["mean"]
    text = (f"after {steps} steps at width {config.width} with {config.blocks} residual blocks, the reconstruction "
            f"network decrypts test images at {psnr:.1f} dB; the cipher images have {entropy:.2f} bits of entropy; "
            f"one changed plaintext pixel changes {npcr:.2f} % of the cipher pixels (Wu et al. ask >= "
            f"{metrics['npcr_critical']:.2f} %; {passes:.0%} of images pass)"
            + (": the avalanche test fails, as it must for a convolutional network, whose output pixel depends "
               "only on a neighbourhood of input pixels, a property of the method, not of the budget. "
               if passes < 0.5 else ". ")
            + "Reconstruction quality is limited by the CPU budget (small networks, short training).")
    return text + (" " + extra if extra else "")


def _main(argv=None) -> None:
    import argparse
    import platform

    from ..data import image_set
    from ..runtime import machine_summary, seed_everything

    parser = argparse.ArgumentParser(prog="python -m utils.ciphers.deepedn",
                                     description="Train a DeepEDN model, measure it on the test split, save it.")
    parser.add_argument("--out", type=Path, required=True, help="folder for weights and model card")
    parser.add_argument("--steps", type=int, default=4000, help="Cycle-GAN steps")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--pool", type=int, default=2048, help="train-split patches to draw batches from")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--disc-width", type=int, default=16)
    parser.add_argument("--roi-width", type=int, default=8)
    parser.add_argument("--roi-steps", type=int, default=400)
    parser.add_argument("--key-domain", default="texture", choices=KEY_DOMAINS)
    parser.add_argument("--key", type=int, default=DEFAULT_KEY)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--lambda-cycle", type=float, default=30.0, help="weight of the decryption cycle")
    parser.add_argument("--lambda-identity", type=float, default=0.5)
    parser.add_argument("--lambda-cycle-back", type=float, default=1.0,
                        help="weight of the key-domain cycle y -> F(y) -> G(F(y))")
    parser.add_argument("--eval-every", type=int, default=0, help="validation every N steps (default steps/20)")
    parser.add_argument("--n-test", type=int, default=None, help="test images (default: the full test set)")
    parser.add_argument("--quality-note", default="", help="a sentence added to the card's note on quality")
    parser.add_argument("--warmup", type=int, default=0,
                        help="first steps without the adversarial terms (an autoencoder through the cipher)")
    parser.add_argument("--lr-decay", action="store_true",
                        help="Cycle-GAN's schedule: constant for half the steps, then linearly to 0")
    parser.add_argument("--minutes", type=float, default=None, help="stop the Cycle-GAN training after this wall time")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    seed_everything(args.seed)
    config = DeepEDNConfig(width=args.width, blocks=args.blocks, disc_width=args.disc_width, roi_width=args.roi_width,
                           key_domain=args.key_domain, key=args.key, seed=args.seed, lambda_cycle=args.lambda_cycle,
                           lambda_identity=args.lambda_identity, lambda_cycle_back=args.lambda_cycle_back,
                           learning_rate=args.lr, warmup_steps=args.warmup, lr_decay=args.lr_decay)
    model = DeepEDN(config)
    train = image_set("train", size=config.image_size, n=args.pool, seed=args.seed)
    val = image_set("val", size=config.image_size, n=64)
    test = image_set("test", size=config.image_size, n=args.n_test)
    eval_every = args.eval_every or max(1, args.steps // 20)
    wall, cpu = time.perf_counter(), time.process_time()
    history = train_cyclegan(model, train.images, args.steps, args.batch, val.images, eval_every,
                             progress=args.progress, log=lambda line: print(line, flush=True),
                             max_minutes=args.minutes)
    cipher8 = DeepEDNCipher(model).encrypt(train.images)
    roi_history = train_roi(model.roi, cipher8.astype(np.float32) / 255.0, roi_masks(train.images),
                            steps=args.roi_steps, seed=args.seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    metrics = measure_on_test(model, test)
    key_text = (f"keyed sparse-tap texture, key {config.key} (utils.ciphers.deepedn.key_domain_images)"
                if config.key_domain == "texture" else "i.i.d. uniform noise (keyless)")
    card = {"command": "python -m utils.ciphers.deepedn " + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_summary(),
            "platform": platform.platform(), "image_size": config.image_size, "steps": history["steps_done"],
            "steps_planned": args.steps,
            "batch": args.batch, "pool": args.pool, "roi_steps": args.roi_steps, "key_domain_text": key_text,
            "data": f"train: {train.description}; validation (monitoring): {val.description}; test: {test.description}",
            "wall_time_minutes": round(wall / 60, 1), "cpu_minutes": round(cpu / 60, 1),
            "images_per_second": round(history["images_per_second"], 2), "parameters": model.count_params(),
            "test_metrics": metrics,
            "quality_note": quality_note(metrics, history["steps_done"], config, args.quality_note),
            "curve": history["evals"],
            "losses_every_10": {k: [round(float(v), 5) for v in history[k][9::10]]
                                for k in ("gen", "adv_G", "adv_F", "cycle_x", "cycle_y", "identity", "D_cipher", "D_plain")},
            "roi_loss_every_10": [round(v, 5) for v in roi_history["loss"][9::10]]}
    save_pretrained(model, args.out, card)
    print(json.dumps({k: card[k] for k in ("wall_time_minutes", "cpu_minutes", "images_per_second")}, indent=2))
    print(json.dumps({k: metrics[k] for k in ("psnr", "ssim", "entropy", "npcr", "roi_dice", "n")}, indent=2))


if __name__ == "__main__":
    _main()
