"""An invertible encryption network around double random phase encoding (notebook 07): the course's reading.

The surveyed paper (Wang et al., "Invertible encryption network for optical image cryptosystem", Optics
and Lasers in Engineering 149, 2022) could not be read: only its title and its place in the survey are
known. What follows is therefore a *reading*, built from what the title says and from the two standard
parts it names: an exactly invertible network (affine coupling blocks, Real NVP, Dinh et al. 2017) and an
optical cryptosystem (DRPE, :mod:`utils.ciphers.drpe`). The course's design::

    f  --Haar--> coupling blocks P --inverse Haar-->  z  --DRPE(key)-->  field  --Haar--> coupling blocks Q
       --inverse Haar-->  y = (y_re, y_im)      the ciphertext: complex64 y_re + i y_im, the size of f

* ``P`` (the *pre-network*) works on the plaintext's four Haar sub-bands at half resolution (two parts of
  two channels: LL, LH and HL, HH). Its training goal here is to *whiten* the image before the optics: no correlation
  between neighbouring pixels of ``z``, and the energy of ``f`` kept. It makes the cipher a non-linear
  function of the plaintext, so the linear attacks on DRPE no longer apply as they are.
* ``DRPE`` with the key's two phase masks spreads every pixel over the whole field.
* ``Q`` (the *post-network*) works on the Haar sub-bands of the field's real part and of its imaginary part
  (the two parts, four channels each). Its goal is a *noise-like ciphertext*: every image's 2 H W values distributed like
  standard Gaussian white noise (a sorted-values, Wasserstein-2 loss against the normal quantiles) with no
  correlation between neighbours. DRPE's field is already Gaussian noise, but with the image's energy as
  its variance (Parseval); ``Q`` has to hide that. (Each part separately: pooled, the two parts could sit
  at different means and still look Gaussian together.) The 8-bit picture of the ciphertext is the normal CDF
  of its values (:func:`utils.ciphers.drpe.gaussian_view`), uniform when ``Q`` succeeds.
* Both are stacks of the course's affine coupling blocks (:class:`utils.layers.coupling.AffineCoupling`)
  whose two parts swap roles from block to block, so that each part is rescaled in turn.
* **Decryption** runs the same parts backwards: ``Q`` inverted, conjugate masks, ``P`` inverted. Coupling
  blocks invert exactly whatever their weights, so decryption returns the plaintext to float32 rounding
  (about 1e-6); training only shapes what the ciphertext looks like.

The key is the DRPE key (an integer that seeds both masks) together with the network's weights.
:class:`InvertibleCipher` puts it behind the course's cipher interface; the shipped model is made by
``python -m utils.ciphers.invertible --out utils/pretrained/invertible_64 ...`` (see its model card).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .base import Cipher, ThreatModel, check_batch, check_images
from .drpe import (DEFAULT_KEY, SECOND_KEY, check_key, drpe_decrypt, drpe_encrypt, gaussian_view, mask_tensors,
                   to_complex)

__all__ = ["DEFAULT_KEY", "SECOND_KEY", "InvertibleConfig", "InvertibleNet", "gaussianity_loss",
           "neighbour_correlation", "make_train_step", "train", "validation_metrics", "InvertibleCipher",
           "peel_attack", "peel_attack_curve", "save_pretrained", "load_pretrained", "load", "PRETRAINED_DIR"]

#: Where the course's trained models live.
from ..cards import PRETRAINED_DIR, load_model, record_files  # noqa: E402


@dataclass
class InvertibleConfig:
    """Everything that defines a model (stored in its model card).

    Attributes:
        image_size: the side the model is trained and used at.
        key: the DRPE key (seeds both phase masks).
        pre_blocks, post_blocks: coupling blocks before and after the optics.
        width: width of the coupling blocks' subnets.
        clamp: bound of the coupling blocks' log-scales.
        seed: seed of the initial weights and of the training batches.
        learning_rate: Adam's step size.
        weight_gauss, weight_correlation, weight_white, weight_energy: loss weights (see
            :func:`make_train_step`).
    """

    image_size: int = 64
    key: int = DEFAULT_KEY
    pre_blocks: int = 4
    post_blocks: int = 4
    width: int = 16
    clamp: float = 2.0
    seed: int = 0
    learning_rate: float = 1e-3
    weight_gauss: float = 1.0
    weight_correlation: float = 1.0
    weight_white: float = 0.1
    weight_energy: float = 0.1


def _networks():
    """The Keras model class, defined on first use (so that importing this module does not import Keras)."""
    global _InvertibleNet
    if "_InvertibleNet" in globals():
        return _InvertibleNet
    import keras
    from keras import ops

    from ..layers.coupling import AffineCoupling
    from ..layers.wavelets import haar, inverse_haar

    class AlternatingCouplings(keras.layers.Layer):
        """Affine coupling blocks (:class:`utils.layers.coupling.AffineCoupling`) on two parts of equal width
        that swap roles from one block to the next, so that each part is rescaled in turn (in a single
        two-sided block only the second part is; the first is only shifted)."""

        def __init__(self, channels: int, blocks: int, width: int, clamp: float, **kwargs):
            super().__init__(**kwargs)
            self.blocks = [AffineCoupling(channels, channels, width, clamp, name=f"coupling_{i + 1}")
                           for i in range(blocks)]

        def call(self, inputs, reverse: bool = False):
            a, b = inputs
            order = list(enumerate(self.blocks))
            for i, block in (reversed(order) if reverse else order):
                if i % 2:
                    b, a = block((b, a), reverse=reverse)
                else:
                    a, b = block((a, b), reverse=reverse)
            return a, b

    class InvertibleNetLayers(keras.Model):
        """Pre-network ``P`` and post-network ``Q`` (coupling blocks); DRPE sits between them."""

        def __init__(self, config: InvertibleConfig, **kwargs):
            super().__init__(name="invertible_encryption_net", **kwargs)
            c = config
            self.pre = AlternatingCouplings(2, c.pre_blocks, c.width, c.clamp, name="pre") if c.pre_blocks else None
            self.post = AlternatingCouplings(4, c.post_blocks, c.width, c.clamp, name="post") if c.post_blocks else None

        # P: (N, H, W) -> (N, H, W)
        def pre_forward(self, f):
            if self.pre is None:
                return f
            x = haar(f[..., None])
            a, b = self.pre((x[..., :2], x[..., 2:]))
            return inverse_haar(ops.concatenate([a, b], axis=-1))[..., 0]

        def pre_inverse(self, z):
            if self.pre is None:
                return z
            y = haar(z[..., None])
            a, b = self.pre((y[..., :2], y[..., 2:]), reverse=True)
            return inverse_haar(ops.concatenate([a, b], axis=-1))[..., 0]

        # Q: (re, im) each (N, H, W) -> (N, H, W, 2)
        def post_forward(self, re, im):
            if self.post is None:
                return ops.stack([re, im], axis=-1)
            a, b = self.post((haar(re[..., None]), haar(im[..., None])))  # the four sub-bands of each part
            return ops.concatenate([inverse_haar(a), inverse_haar(b)], axis=-1)

        def post_inverse(self, y):
            if self.post is None:
                return y[..., 0], y[..., 1]
            a, b = self.post((haar(y[..., :1]), haar(y[..., 1:])), reverse=True)
            return inverse_haar(a)[..., 0], inverse_haar(b)[..., 0]

        def call(self, f):
            z = self.pre_forward(f)
            return self.post_forward(z, ops.zeros_like(z))  # builds both stacks (no optics)

    _InvertibleNet = InvertibleNetLayers
    return _InvertibleNet


class InvertibleNet:
    """The invertible encryption network of one configuration: ``P``, the DRPE masks, ``Q``.

    ``encode(f)`` -> ``(z, y)`` (the pre-network's output and the ciphertext channels, (N, H, W, 2));
    ``decode(y)`` -> f. Both take and return backend tensors (NumPy in, tensors out), so that they can be
    used inside a training step; :class:`InvertibleCipher` wraps them for NumPy users.
    """

    def __init__(self, config: InvertibleConfig | None = None):
        import keras

        self.config = config or InvertibleConfig()
        c = self.config
        check_key(c.key)
        if c.image_size < 2 or c.image_size % 2:
            raise ValueError(f"image_size must be even (the Haar transform halves it), got {c.image_size}")
        keras.utils.set_random_seed(c.seed)
        self.layers = _networks()(c)
        self.layers(np.zeros((1, c.image_size, c.image_size), np.float32))
        self.masks = mask_tensors(c.key, c.image_size, c.image_size)
        self.card: dict = {}

    def with_key(self, key: int) -> "InvertibleNet":
        """The same network weights with the DRPE masks of another key."""
        other = InvertibleNet.__new__(InvertibleNet)
        other.config = InvertibleConfig(**{**asdict(self.config), "key": check_key(key)})
        other.layers, other.card = self.layers, self.card
        other.masks = mask_tensors(other.config.key, other.config.image_size, other.config.image_size)
        return other

    def masks_for(self, height: int, width: int) -> tuple:
        """The DRPE masks of this key at another image size (the masks follow from the key and the size;
        the coupling networks are convolutional and take any even size). Cached per size."""
        c = self.config
        if (int(height), int(width)) == (c.image_size, c.image_size):
            return self.masks
        if int(height) % 2 or int(width) % 2:
            raise ValueError(f"images must have even height and width (the Haar transform halves them), got "
                             f"{height}x{width}; crop one row or column")
        cache = self.__dict__.setdefault("_masks_by_size", {})
        if (height, width) not in cache:
            cache[(height, width)] = mask_tensors(c.key, int(height), int(width))
        return cache[(height, width)]

    def encode(self, f):
        z = self.layers.pre_forward(f)
        re, im = drpe_encrypt(z, self.masks_for(f.shape[1], f.shape[2]))
        return z, self.layers.post_forward(re, im)

    def decode(self, y):
        re, im = self.layers.post_inverse(y)
        re, _ = drpe_decrypt((re, im), self.masks_for(y.shape[1], y.shape[2]))
        return self.layers.pre_inverse(re)

    def count_params(self) -> int:
        return int(self.layers.count_params())

    def randomize(self, scale: float = 0.1, seed: int = 0) -> "InvertibleNet":
        """Set every weight to Gaussian noise of std ``scale`` (tests: invertibility whatever the weights)."""
        rng = np.random.default_rng(seed)
        for v in self.layers.weights:
            v.assign(rng.normal(0.0, scale, v.shape).astype(np.float32))
        return self

    def save(self, folder) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.layers.save_weights(folder / "model.weights.h5")
        return folder

    def load(self, folder) -> "InvertibleNet":
        self.layers.load_weights(Path(folder) / "model.weights.h5")
        return self


# ------------------------------------------------------------------------------------------------------
# losses and training
# ------------------------------------------------------------------------------------------------------

def gaussianity_loss(values):
    """How far each image's values are from standard Gaussian noise, channel by channel: the squared
    Wasserstein-2 distance between their empirical distribution and N(0, 1), i.e. the mean squared difference
    between the sorted values and the normal quantiles ``Phi^-1((j + 1/2) / M)``.

    ``values``: (N, H, W) or (N, H, W, C) -> scalar (mean over images and channels). Per channel, because a
    pooled test lets one channel sit at -0.6 and the other at +0.6: a Gaussian mixture, not white noise.
    """
    from keras import ops
    from scipy.special import ndtri

    x = values if len(values.shape) == 4 else values[..., None]
    x = ops.transpose(x, (0, 3, 1, 2))
    flat = ops.reshape(x, (-1, x.shape[2] * x.shape[3]))
    m = flat.shape[-1]
    quantiles = ndtri((np.arange(m) + 0.5) / m).astype(np.float32)
    return ops.mean(ops.square(ops.sort(flat, axis=-1) - quantiles))


def neighbour_correlation(images):
    """Mean squared Pearson correlation of neighbouring pixels in four directions (horizontal, vertical,
    diagonal, anti-diagonal), per image and channel. ``images``: (N, H, W) or (N, H, W, C); 0 for white
    noise, near 1 for natural images."""
    from keras import ops

    x = images if len(images.shape) == 4 else images[..., None]

    def corr(a, b):
        a = a - ops.mean(a, axis=(1, 2), keepdims=True)
        b = b - ops.mean(b, axis=(1, 2), keepdims=True)
        num = ops.mean(a * b, axis=(1, 2))
        den = ops.sqrt(ops.mean(a * a, axis=(1, 2)) * ops.mean(b * b, axis=(1, 2)) + 1e-12)
        return num / den

    pairs = ((x[:, :, :-1], x[:, :, 1:]), (x[:, :-1], x[:, 1:]), (x[:, :-1, :-1], x[:, 1:, 1:]),
             (x[:, :-1, 1:], x[:, 1:, :-1]))
    return sum(ops.mean(ops.square(corr(a, b))) for a, b in pairs) / len(pairs)


def make_train_step(net: InvertibleNet):
    """A compiled training step (TensorFlow backend): a batch (B, H, W) of plaintexts -> the losses.

    total = w_g gaussianity(y) + w_c correlation(y) + w_w correlation(z) + w_e (rms(z) - rms(f))^2

    (``y``: the ciphertext channels; ``z``: the pre-network's output; correlations of neighbouring pixels in
    four directions, :func:`neighbour_correlation`.)
    """
    import keras
    import tensorflow as tf

    c = net.config
    optimizer = keras.optimizers.Adam(c.learning_rate)
    variables = net.layers.trainable_variables

    @tf.function(reduce_retracing=True)
    def step(f):
        with tf.GradientTape() as tape:
            z, y = net.encode(f)
            gauss = gaussianity_loss(y)
            corr = neighbour_correlation(y)
            white = neighbour_correlation(z) if c.pre_blocks else tf.constant(0.0)
            rms_f = tf.sqrt(tf.reduce_mean(tf.square(f), axis=(1, 2)) + 1e-8)
            rms_z = tf.sqrt(tf.reduce_mean(tf.square(z), axis=(1, 2)) + 1e-8)
            energy = tf.reduce_mean(tf.square(rms_z - rms_f))
            total = (c.weight_gauss * gauss + c.weight_correlation * corr + c.weight_white * white
                     + c.weight_energy * energy)
        optimizer.apply_gradients(zip(tape.gradient(total, variables), variables))
        return {"total": total, "gauss": gauss, "correlation": corr, "white": white, "energy": energy}

    return step


def validation_metrics(net: InvertibleNet, images: np.ndarray) -> dict[str, float]:
    """What training watches on validation images: the cipher images' entropy and chi-square, the
    adjacent correlation of the ciphertext and of ``z``, and the decryption's largest error."""
    from .. import metrics

    cipher = InvertibleCipher(net)
    ct = cipher.encrypt(images)
    pictures = cipher.cipher_image(ct)
    z = np.asarray(net.layers.pre_forward(images.astype(np.float32)))
    back = np.asarray(net.decode(cipher.features(ct)))
    z_corr = [np.corrcoef(zz[:, :-1].ravel(), zz[:, 1:].ravel())[0, 1] if zz.std() > 0 else 1.0 for zz in z]
    return {"entropy": round(float(np.mean([metrics.entropy(p) for p in pictures])), 4),
            "chi_square": round(float(np.mean([metrics.chi_square(p)["statistic"] for p in pictures])), 1),
            "cipher_corr": round(float(np.mean([abs(_correlation(p)) for p in pictures])), 4),
            "z_corr": round(float(np.mean(z_corr)), 4),
            "max_error": float(np.abs(back - images).max())}


def _correlation(picture) -> float:
    from .. import metrics

    try:
        return metrics.adjacent_correlation(picture)
    except ValueError:  # a constant cipher image
        return 1.0


def train(net: InvertibleNet, plains: np.ndarray, steps: int, batch: int = 16, val_images=None,
          eval_every: int = 0, progress: bool = True, log=None) -> dict:
    """Train ``net`` on ``plains`` (float (N, H, W) train images; random flips and quarter turns).

    Every ``eval_every`` steps (and at the last) :func:`validation_metrics` is computed on ``val_images``
    (monitoring only). Returns the history: per-step losses, the evaluations, wall and CPU seconds, and
    images per second (over the timed steps, the first compiled step excluded).
    """
    plains = check_images(plains, net.config.image_size, "plains")
    rng = np.random.default_rng([net.config.seed, 0x1A7E])
    step = make_train_step(net)
    history = {k: [] for k in ("total", "gauss", "correlation", "white", "energy")}
    history["evals"] = []
    wall, cpu = time.perf_counter(), time.process_time()
    timed = 0.0
    steps_range = range(int(steps))
    if progress:
        from tqdm.auto import tqdm

        steps_range = tqdm(steps_range, desc="training", mininterval=5, ncols=80)
    for i in steps_range:
        x = plains[rng.integers(len(plains), size=batch)]
        x = np.rot90(x, k=int(rng.integers(4)), axes=(1, 2))
        if rng.random() < 0.5:
            x = x[:, :, ::-1]
        began = time.perf_counter()
        losses = step(np.ascontiguousarray(x, np.float32))
        for k, v in losses.items():
            history[k].append(float(v))
        if i > 0:
            timed += time.perf_counter() - began
        last = i + 1 == int(steps)
        if val_images is not None and ((eval_every and (i + 1) % eval_every == 0) or last):
            row = {"step": i + 1, "loss": round(history["total"][-1], 6), **validation_metrics(net, val_images)}
            history["evals"].append(row)
            if log:
                log(json.dumps(row))
    history["seconds"] = time.perf_counter() - wall
    history["cpu_seconds"] = time.process_time() - cpu
    history["images_per_second"] = batch * max(int(steps) - 1, 1) / max(timed, 1e-9)
    return history


# ------------------------------------------------------------------------------------------------------
# the cipher interface
# ------------------------------------------------------------------------------------------------------

class InvertibleCipher(Cipher):
    """The invertible encryption network behind the course's cipher interface (64x64 for the shipped model).

    * ``encrypt``: float32 (N, H, W) in [0, 1] -> complex64 (N, H, W): the network's two output channels as
      real and imaginary parts (8 bytes per pixel, like DRPE).
    * ``decrypt``: the exact inverse (float32 rounding), clipped to [0, 1].
    * ``cipher_image``: real and imaginary parts side by side, (N, H, 2W), each through the normal CDF
      (:func:`utils.ciphers.drpe.gaussian_view` with scale 1, the spread the network is trained to):
      uniform 8-bit levels when the values are standard Gaussian noise.
    * ``features``: the two parts as channels, float32 (N, H, W, 2).
    * ``with_key``: an integer -> the same weights with other DRPE masks; an :class:`InvertibleNet` -> that
      network (another trained model: the other half of the key).
    """

    name, kind = "invertible", "learned"
    image_size = None  # any even side: the masks follow from the key and the size, the couplings are convolutional
    multiple = 2

    def __init__(self, net: InvertibleNet):
        self.net = net
        self.trained_size = net.config.image_size

    def encrypt(self, images) -> np.ndarray:
        batch = check_images(images, multiple=self.multiple)
        _, y = self.net.encode(batch)
        y = np.asarray(y, np.float32)
        return to_complex((y[..., 0], y[..., 1]))

    def _check(self, ciphertext) -> np.ndarray:
        array = check_batch(ciphertext, "c", 3)
        if array.shape[1] % self.multiple or array.shape[2] % self.multiple:
            raise ValueError(f"ciphertext must be (N, H, W) with even H and W, got {array.shape}; "
                             "pass what encrypt() returned")
        return array.astype(np.complex64)

    def decrypt(self, ciphertext) -> np.ndarray:
        y = self.features(ciphertext)
        return np.clip(np.asarray(self.net.decode(y), np.float32), 0.0, 1.0)

    def cipher_image(self, ciphertext) -> np.ndarray:
        field = self._check(ciphertext)
        return gaussian_view(np.concatenate([field.real, field.imag], axis=2), 1.0)

    def features(self, ciphertext) -> np.ndarray:
        field = self._check(ciphertext)
        return np.stack([field.real, field.imag], axis=-1).astype(np.float32)

    def stored_bytes(self, ciphertext) -> int:
        """complex64 as stored: 8 bytes per pixel (the 8-bit plaintext: 1 byte per pixel)."""
        return int(self._check(ciphertext)[0].size * np.dtype(np.complex64).itemsize)

    def with_key(self, key) -> "InvertibleCipher":
        if isinstance(key, InvertibleNet):
            return InvertibleCipher(key)
        if isinstance(key, InvertibleCipher):
            return InvertibleCipher(key.net)
        return InvertibleCipher(self.net.with_key(key))

    def other_key(self) -> "InvertibleCipher":
        """The same weights under a neighbouring DRPE key (``key + 1``). The DRPE key is the secret half of
        this cipher's key: the weights come from a public recipe (notebook 07, exercise 3 and section 4)."""
        return self.with_key(self.net.config.key + 1)

    def threat_model(self) -> ThreatModel:
        return ThreatModel("the design, the training recipe and the trained weights (shipped with the course)",
                           "the DRPE seed (an integer)", 128,
                           "with the weights public the cipher is DRPE between two public invertible maps, and "
                           "the peel attack recovers the masks from a handful of known pairs; the demonstration seed "
                           f"{self.net.config.key} has {int(self.net.config.key).bit_length()} bits")

    def dedicated_attack(self, known_plains, test_ciphertext):
        """The peel attack (:func:`peel_attack`) with the cipher's own, public weights: the known pairs of
        ``known_plains`` (encrypted here) are peeled to DRPE pairs through the shipped networks, the masks
        are recovered, and the test ciphertexts decrypted: float32 (N, H, W). None with fewer than 2 pairs.
        Exact to float precision from 3-4 pairs of the course's 64x64 patches (as DRPE itself); an
        attacker who had to train their own network (weights secret) would not get this
        (:func:`peel_attack` with another network, notebook 07)."""
        if len(known_plains) < 2:
            return None
        plains = check_images(known_plains, None, "known_plains", multiple=self.multiple)
        images, _ = peel_attack(self.net, plains, self.encrypt(plains), self._check(test_ciphertext))
        return images

    def __repr__(self) -> str:
        c = self.net.config
        return (f"<InvertibleCipher 'invertible' (learned, any even size, trained at {c.image_size}, DRPE key {c.key}, "
                f"{c.pre_blocks}+{c.post_blocks} coupling blocks)>")


# ------------------------------------------------------------------------------------------------------
# the attack of an attacker who knows the design (Kerckhoffs)
# ------------------------------------------------------------------------------------------------------

def peel_attack(own: InvertibleNet, plains, ciphertexts, test_ciphertexts, iterations: int = 2000):
    """Known-plaintext attack by an attacker who knows the design and has trained it under their own key.

    The attacker's own network ``own`` (same recipe, their own DRPE key and seed) stands in for the unknown
    ``P`` and ``Q``: the pairs become ``(P'(f_k), Q'^-1(C_k))``, which would be exact DRPE pairs if the two
    trainings had found the same networks; the masks then follow by mask recovery
    (:func:`utils.ciphers.drpe_attacks.recover_fourier_mask` and ``recover_input_mask``), and a test
    ciphertext is decrypted as ``P'^-1(DRPE^-1(Q'^-1(C)))``. Returns ``(images, info)``: float32 (N, H, W)
    clipped to [0, 1], and mask recovery's ``info`` (its ``residual`` says how well the peeled pairs fit DRPE).
    """
    from .drpe_attacks import decrypt_with_masks, recover_fourier_mask, recover_input_mask

    def peel(ct):
        field = np.asarray(ct)
        re, im = own.layers.post_inverse(np.stack([field.real, field.imag], axis=-1).astype(np.float32))
        return np.asarray(re, np.float64) + 1j * np.asarray(im, np.float64)

    z = np.asarray(own.layers.pre_forward(np.asarray(plains, np.float32)), np.float64)
    fields = peel(ciphertexts)
    mask, info = recover_fourier_mask(z, fields, iterations)
    input_mask = recover_input_mask(z, fields, mask)
    z_test = decrypt_with_masks(peel(test_ciphertexts), mask, input_mask).astype(np.float32)
    return np.clip(np.asarray(own.layers.pre_inverse(z_test), np.float32), 0.0, 1.0), info


def peel_attack_curve(cipher, own: InvertibleNet, attacker_plains, test_set, ks=(0, 4, 16, 64),
                      iterations: int = 2000) -> dict[int, dict]:
    """:func:`peel_attack` against the number k of known pairs (k = 0, 1: the blind constant), in the format of
    :func:`utils.ciphers.attacks.known_plaintext_curve`, with each row's mask-recovery ``residual``."""
    from .attacks import curve_over_k

    def attack(plains, ciphertexts, test_ciphertexts):
        images, info = peel_attack(own, plains, ciphertexts, test_ciphertexts, iterations)
        return images, {"residual": info["residual"]}

    return curve_over_k(cipher, attacker_plains, test_set, ks, attack, at_zero={"residual": None}, fewest=2,
                        view="ciphertexts")


# ------------------------------------------------------------------------------------------------------
# pretrained models
# ------------------------------------------------------------------------------------------------------

def _fmt(row: dict, digits: int = 2) -> str:
    return f"{row['mean']:.{digits}f} [{row['low']:.{digits}f}, {row['high']:.{digits}f}]"


def save_pretrained(net: InvertibleNet, folder, card: dict) -> Path:
    """Write ``model.weights.h5``, ``model_card.json`` (``card`` plus the configuration) and ``README.md``."""
    folder = net.save(folder)
    card = record_files(folder, {"config": asdict(net.config), **card})
    (folder / "model_card.json").write_text(json.dumps(card, indent=2))
    net.card = card
    m = card.get("test_metrics", {})
    cfg = card["config"]
    lines = ["# Model card: invertible encryption network (notebook 07)", "",
             "The course's reading of an invertible encryption network for an optical cryptosystem (Wang et al., "
             "Optics and Lasers in Engineering 2022, whose text was not available): Haar + affine coupling blocks "
             "before DRPE (whitening), DRPE with the key's two phase masks, Haar + coupling blocks after it "
             "(trained towards standard Gaussian white noise). Decryption is the exact inverse. See "
             "`utils/ciphers/invertible.py`.", "",
             f"- Command: `{card.get('command', '')}`",
             f"- Date: {card.get('date', '')}",
             f"- Machine: {card.get('machine', '')}",
             f"- Data: {card.get('data', '')}",
             f"- Configuration: {cfg}",
             f"- Training: {card.get('steps')} steps of {card.get('batch')} images, Adam {cfg['learning_rate']}",
             f"- Wall time: {card.get('wall_time_minutes')} min; CPU time {card.get('cpu_minutes')} min "
             "(the CPU was shared with other jobs: CPU time is the fairer measure)",
             f"- Parameters: {card.get('parameters')}", ""]
    if m:
        lines += [f"Test metrics ({m['n']}; 95 % bootstrap intervals over source images):", "",
                  "| measure | value | ideal |", "| --- | --- | --- |",
                  f"| decryption, largest absolute error (0-1 scale) | {m['max_abs_error']:.2e} | 0 |",
                  f"| decryption, share of images exact as 8-bit | {_fmt(m['exact'], 3)} | 1 |",
                  f"| cipher entropy (bits, 64x128 cipher image) | {_fmt(m['entropy'], 3)} | 8 |",
                  f"| histogram chi-square (255 dof) | {_fmt(m['chi_square'], 0)} | < 293.25 |",
                  f"| histogram chi-square test passed (share of images) | {_fmt(m['chi_square_pass'], 3)} "
                  "| 0.95 (a random picture passes 95 % of the time) |",
                  f"| adjacent correlation, horizontal | {_fmt(m['correlation_horizontal'], 3)} | 0 |",
                  f"| adjacent correlation, vertical | {_fmt(m['correlation_vertical'], 3)} | 0 |",
                  f"| adjacent correlation, diagonal | {_fmt(m['correlation_diagonal'], 3)} | 0 |",
                  f"| NPCR, one pixel changed (%) | {_fmt(m['npcr'], 3)} | >= {m['npcr_critical']:.4f} |",
                  f"| UACI, one pixel changed (%) | {_fmt(m['uaci'], 3)} | {m['uaci_interval'][0]:.4f}-"
                  f"{m['uaci_interval'][1]:.4f} |", ""]
    lines += ["Validation curve (monitoring only; the last weights are kept): `curve` in model_card.json.", ""]
    (folder / "README.md").write_text("\n".join(lines))
    return folder


def load_pretrained(name: str | Path = "invertible_64") -> InvertibleNet:
    """A trained model: a name under ``utils/pretrained`` or a folder with ``model_card.json``."""
    return load_model(name, lambda card, folder: InvertibleNet(InvertibleConfig(**card["config"])).load(folder),
                      family="invertible model", prefix="invertible",
                      train="python -m utils.ciphers.invertible --out utils/pretrained/<name>")


def load(model: str | Path | InvertibleNet = "invertible_64", key: int | None = None) -> InvertibleCipher:
    """The course's invertible cipher with its shipped weights (or another model), optionally another DRPE key."""
    net = model if isinstance(model, InvertibleNet) else load_pretrained(model)
    return InvertibleCipher(net if key is None else net.with_key(key))


# ------------------------------------------------------------------------------------------------------
# command line: train, measure on the test split, write weights and card
# ------------------------------------------------------------------------------------------------------

def _row(interval) -> dict:
    return {"mean": round(float(interval.mean), 5), "low": round(float(interval.low), 5),
            "high": round(float(interval.high), 5)}


def measure_on_test(net: InvertibleNet, test_set) -> dict:
    """The card's test metrics: exactness, cipher statistics and avalanche, with intervals.

    The test images are quantised to 8 bits first: the plaintexts a sender holds.
    """
    import dataclasses

    from . import evaluation as ev

    test_set = dataclasses.replace(test_set, images=ev.as_uint8(test_set.images).astype(np.float32) / 255.0)
    cipher = InvertibleCipher(net)
    ct = cipher.encrypt(test_set.images)
    rec = ev.reconstruction(cipher, test_set, ct)
    stats = ev.cipher_statistics(cipher, test_set, ct)
    aval = ev.avalanche(cipher, test_set)
    raw = np.asarray(net.decode(cipher.features(ct)))
    out = {k: _row(v) for k, v in {**rec, **stats}.items() if np.isfinite(v.mean)}
    out.update(max_abs_error=float(np.abs(raw - test_set.images).max()), npcr=_row(aval["npcr"]),
               uaci=_row(aval["uaci"]), npcr_pass=_row(aval["npcr_pass"]), uaci_pass=_row(aval["uaci_pass"]),
               npcr_critical=round(aval["npcr_critical"], 4),
               uaci_interval=[round(v, 4) for v in aval["uaci_interval"]], n=rec["exact"].describe())
    return out


def _main(argv=None) -> None:
    import argparse
    import platform

    from ..data import image_set
    from ..runtime import machine_summary, seed_everything

    parser = argparse.ArgumentParser(prog="python -m utils.ciphers.invertible",
                                     description="Train the invertible encryption network, measure it on the test "
                                                 "split, save it.")
    parser.add_argument("--out", type=Path, required=True, help="folder for weights and model card")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--pool", type=int, default=2048, help="train-split patches to draw batches from")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--key", type=int, default=DEFAULT_KEY)
    parser.add_argument("--pre-blocks", type=int, default=4)
    parser.add_argument("--post-blocks", type=int, default=4)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--clamp", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-correlation", type=float, default=1.0)
    parser.add_argument("--weight-white", type=float, default=0.1)
    parser.add_argument("--weight-energy", type=float, default=0.1)
    parser.add_argument("--eval-every", type=int, default=0, help="validation every N steps (default steps/20)")
    parser.add_argument("--n-test", type=int, default=None, help="test images (default: the full test set)")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    seed_everything(args.seed)
    config = InvertibleConfig(image_size=args.size, key=args.key, pre_blocks=args.pre_blocks,
                              post_blocks=args.post_blocks, width=args.width, clamp=args.clamp, seed=args.seed,
                              learning_rate=args.lr, weight_correlation=args.weight_correlation,
                              weight_white=args.weight_white, weight_energy=args.weight_energy)
    net = InvertibleNet(config)
    train_set = image_set("train", size=config.image_size, n=args.pool, seed=args.seed)
    val = image_set("val", size=config.image_size, n=64)
    test = image_set("test", size=config.image_size, n=args.n_test)
    eval_every = args.eval_every or max(1, args.steps // 20)
    history = train(net, train_set.images, args.steps, args.batch, val.images, eval_every, progress=args.progress,
                    log=lambda line: print(line, flush=True))
    metrics = measure_on_test(net, test)
    card = {"command": "python -m utils.ciphers.invertible " + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_summary(),
            "platform": platform.platform(), "image_size": config.image_size, "steps": args.steps,
            "batch": args.batch, "pool": args.pool,
            "data": f"train: {train_set.description}; validation (monitoring): {val.description}; "
                    f"test: {test.description}",
            "wall_time_minutes": round(history["seconds"] / 60, 1),
            "cpu_minutes": round(history["cpu_seconds"] / 60, 1),
            "images_per_second": round(history["images_per_second"], 2), "parameters": net.count_params(),
            "test_metrics": metrics, "curve": history["evals"],
            "losses_every_10": {k: [round(v, 6) for v in history[k][9::10]]
                                for k in ("total", "gauss", "correlation", "white", "energy")}}
    save_pretrained(net, args.out, card)
    print(json.dumps({k: card[k] for k in ("wall_time_minutes", "cpu_minutes", "images_per_second")}, indent=2))
    print(json.dumps({k: metrics[k] for k in ("max_abs_error", "entropy", "chi_square", "npcr", "n")}, indent=2))


if __name__ == "__main__":
    _main()
