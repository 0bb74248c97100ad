"""Double random phase encoding (DRPE), the optical image cryptosystem of Refregier and Javidi (1995).

A grey image ``f`` (values in [0, 1]) is multiplied by a random phase mask in the input plane, Fourier
transformed (a lens), multiplied by a second random phase mask in the Fourier plane, and transformed back::

    C = IFFT2( FFT2( f * exp(i 2 pi n) ) * exp(i 2 pi b) ),        n, b uniform in [0, 1), drawn from the key
    f = Re( exp(-i 2 pi n) * IFFT2( FFT2(C) * exp(-i 2 pi b) ) )     decryption: the conjugate masks, in reverse

The ciphertext is a complex field the size of the image, a speckle pattern that looks like white noise.
Three facts matter for its security, and notebook 07 measures each:

* **It is linear in f.** ``C = T f`` for a fixed unitary matrix ``T``. A one-pixel change of the plaintext
  changes every cipher pixel, but by about ``1 / sqrt(H W)`` of the change: there is no avalanche.
* **The first mask hardly matters.** A camera behind the decrypting optics records ``|f exp(i 2 pi n)| = f``
  (f is non-negative): the Fourier-plane mask ``b`` alone decrypts. See :func:`drpe_decrypt`.
* **Known pairs give the key.** ``b`` follows from a few (plaintext, ciphertext) pairs by linear algebra
  (:mod:`utils.ciphers.drpe_attacks`).

Everything is computed with ``keras.ops`` FFTs (``keras.ops.fft2`` / ``ifft2`` act on (real, imaginary)
pairs), so the same functions run inside a Keras model and on any backend; :class:`DRPECipher` puts DRPE
behind the course's cipher interface (:class:`utils.ciphers.base.Cipher`).
"""

from __future__ import annotations

import functools

import numpy as np

from .base import Cipher, ThreatModel, check_batch, check_images

__all__ = ["DEFAULT_KEY", "SECOND_KEY", "FIELD_SCALE", "check_key", "phase_masks", "clear_caches", "mask_tensors", "drpe_encrypt",
           "drpe_decrypt", "to_complex", "gaussian_view", "DRPECipher", "load"]

#: The course's demonstration key (fixed so that the notebooks repeat), and the second key of the
#: key-sensitivity test. A real key would come from the operating system: ``secrets.randbits(128)``.
DEFAULT_KEY, SECOND_KEY = 2022, 7
#: The scale of DRPE's 8-bit view: about the standard deviation of the field's real and imaginary parts
#: for the course's training images (``rms(f) / sqrt 2``: 0.23 on average over the train split, 0 to 0.69).
FIELD_SCALE = 0.25


def check_key(key) -> int:
    """A DRPE key: a non-negative integer (any size; it seeds the generator of both masks)."""
    if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
        raise TypeError(f"key must be a non-negative integer, got {type(key).__name__}; "
                        "make one with secrets.randbits(128)")
    if key < 0:
        raise ValueError(f"key must be a non-negative integer, got {key}")
    return int(key)


@functools.lru_cache(maxsize=32)
def phase_masks(key: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The two masks of ``key`` for images of ``height`` x ``width``: ``(n, b)``, float64 in [0, 1).

    ``n`` is the input-plane mask, ``b`` the Fourier-plane mask; both are drawn from NumPy's PCG64 generator
    seeded with ``(key, height, width)``, so every image size has its own pair of masks. (Read-only arrays.)
    """
    key = check_key(key)
    if int(height) < 1 or int(width) < 1:
        raise ValueError(f"height and width must be positive, got {height} x {width}")
    rng = np.random.default_rng([key, int(height), int(width)])
    n, b = rng.random((height, width)), rng.random((height, width))
    n.setflags(write=False), b.setflags(write=False)
    return n, b


def clear_caches() -> None:
    """Forget the cached masks, so that the next encryption draws them again (the benchmark times it so)."""
    phase_masks.cache_clear()


def mask_tensors(key: int, height: int, width: int, dtype: str = "float32") -> tuple:
    """``(cos 2 pi n, sin 2 pi n, cos 2 pi b, sin 2 pi b)`` as arrays of ``dtype``: what the FFT code multiplies by."""
    n, b = phase_masks(key, height, width)
    return tuple(np.asarray(v, dtype) for v in (np.cos(2 * np.pi * n), np.sin(2 * np.pi * n),
                                               np.cos(2 * np.pi * b), np.sin(2 * np.pi * b)))


def _multiply(re, im, cos, sin, conjugate=False):
    """(re + i im) * (cos + i sin), or times its conjugate."""
    if conjugate:
        return re * cos + im * sin, im * cos - re * sin
    return re * cos - im * sin, re * sin + im * cos


def drpe_encrypt(field, masks):
    """DRPE of a batch of fields (N, H, W): a real tensor, or a pair (real, imaginary). Returns (real, imaginary).

    ``masks`` is :func:`mask_tensors`' tuple. Uses only ``keras.ops``, so it works inside a model and on any
    backend, and gradients flow through it.
    """
    from keras import ops

    re, im = field if isinstance(field, (tuple, list)) else (field, ops.zeros_like(field))
    cn, sn, cb, sb = masks
    re, im = _multiply(re, im, cn, sn)
    re, im = ops.fft2((re, im))
    re, im = _multiply(re, im, cb, sb)
    return ops.ifft2((re, im))


def drpe_decrypt(cipher, masks, first_mask: bool = True):
    """The inverse of :func:`drpe_encrypt`: conjugate Fourier mask, then (if ``first_mask``) conjugate input mask.

    With ``first_mask=False`` the result is ``f exp(i 2 pi n)``, whose magnitude is already ``|f|``: what a
    camera records. Returns (real, imaginary).
    """
    from keras import ops

    re, im = cipher
    cn, sn, cb, sb = masks
    re, im = ops.fft2((re, im))
    re, im = _multiply(re, im, cb, sb, conjugate=True)
    re, im = ops.ifft2((re, im))
    if first_mask:
        re, im = _multiply(re, im, cn, sn, conjugate=True)
    return re, im


def gaussian_view(values, scale: float = 1.0) -> np.ndarray:
    """Real values to 8-bit through the normal CDF: ``floor(256 Phi(values / scale))``, clipped to 0-255.

    The natural 8-bit picture of a Gaussian noise field of standard deviation ``scale``: such a field gives a
    uniform histogram (every one of the 256 levels equally likely). A field with another spread gives a
    histogram piled up in the middle (smaller) or at the ends (larger).
    """
    from scipy.special import ndtr

    u = ndtr(np.asarray(values, np.float64) / scale)
    return np.clip(np.floor(u * 256.0), 0, 255).astype(np.uint8)


def to_complex(pair) -> np.ndarray:
    """(real, imaginary) tensors -> one complex64 NumPy array."""
    re, im = (np.asarray(v, np.float32) for v in pair)
    return (re + 1j * im).astype(np.complex64)


class DRPECipher(Cipher):
    """DRPE behind the course's cipher interface; works on any image size (``image_size`` None).

    * ``encrypt``: float32 (N, H, W) in [0, 1] -> complex64 (N, H, W), the cipher field (float32 FFTs).
    * ``decrypt``: the real part of the field after the conjugate masks, clipped to [0, 1]; exact to float32
      rounding (about 1e-6).
    * ``cipher_image``: real and imaginary parts side by side, (N, H, 2W), each through the normal CDF with
      a fixed ``scale`` (:func:`gaussian_view`; default :data:`FIELD_SCALE` = 0.25, about the field's typical
      standard deviation ``rms(f) / sqrt 2``). An image of typical energy gives a nearly uniform histogram;
      a darker or brighter one does not, because the field's energy *is* the image's (Parseval).
    * ``features``: real and imaginary parts as two channels, float32 (N, H, W, 2), what an attacker reads.
    * ``stored_bytes``: 8 bytes per pixel (complex64), against 1 byte per pixel of an 8-bit plaintext.
    """

    name, kind, image_size = "drpe", "classic", None

    def __init__(self, key: int = DEFAULT_KEY, scale: float = FIELD_SCALE):
        self.key = check_key(key)
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        self.scale = float(scale)

    def masks(self, height: int, width: int) -> tuple:
        """The mask tensors for images of this size (see :func:`mask_tensors`)."""
        return mask_tensors(self.key, height, width)

    def encrypt(self, images) -> np.ndarray:
        batch = check_images(images)
        return to_complex(drpe_encrypt(batch, self.masks(*batch.shape[1:])))

    def _check(self, ciphertext) -> np.ndarray:
        array = check_batch(ciphertext, "c", 3)
        if array.dtype != np.complex64:
            array = array.astype(np.complex64)
        return array

    def decrypt(self, ciphertext) -> np.ndarray:
        field = self._check(ciphertext)
        re, _ = drpe_decrypt((field.real, field.imag), self.masks(*field.shape[1:]))
        return np.clip(np.asarray(re, np.float32), 0.0, 1.0)

    def cipher_image(self, ciphertext) -> np.ndarray:
        field = self._check(ciphertext)
        return gaussian_view(np.concatenate([field.real, field.imag], axis=2), self.scale)

    def features(self, ciphertext) -> np.ndarray:
        field = self._check(ciphertext)
        return np.stack([field.real, field.imag], axis=-1).astype(np.float32)

    def stored_bytes(self, ciphertext) -> int:
        """complex64 as stored: 8 bytes per pixel (the 8-bit plaintext: 1 byte per pixel)."""
        field = self._check(ciphertext)
        return int(field[0].size * np.dtype(np.complex64).itemsize)

    def with_key(self, key) -> "DRPECipher":
        return DRPECipher(key, self.scale)

    def other_key(self) -> "DRPECipher":
        """A neighbouring key: ``key + 1``. Its masks share nothing with this key's (each key seeds its own
        generator), which is what the key-sensitivity test should find."""
        return self.with_key(self.key + 1)

    def threat_model(self) -> ThreatModel:
        return ThreatModel("the design (two random phase masks, Fourier transforms)",
                           "the integer that seeds both masks", 128,
                           "a real key is drawn by secrets.randbits(128); the demonstration key "
                           f"{self.key} has {int(self.key).bit_length()} bits; the field is linear in the image, "
                           "so the Fourier mask follows from a few known pairs")

    def dedicated_attack(self, known_plains, test_ciphertext):
        """Fourier-mask recovery (:func:`utils.ciphers.drpe_attacks.recover_fourier_mask`) from the known
        pairs of ``known_plains`` (encrypted here, as an oracle or intercepted traffic would give them), then
        decryption of ``test_ciphertext`` with the recovered mask: float32 (N, H, W). None with fewer than
        2 pairs (one pair gives no linear equation for the mask). Exact to float precision from 4 pairs of
        the course's 64x64 test patches (notebook 07; 2 or 3 are not enough there)."""
        from .drpe_attacks import decrypt_with_fourier_mask, recover_fourier_mask

        field = self._check(test_ciphertext)
        if len(known_plains) < 2:
            return None
        plains = check_images(known_plains, name="known_plains")
        if plains.shape[1:] != field.shape[1:]:
            raise ValueError(f"known_plains {plains.shape[1:]} and test_ciphertext {field.shape[1:]} must have the "
                             "same image size")
        mask, _ = recover_fourier_mask(plains, self.encrypt(plains))
        return decrypt_with_fourier_mask(field, mask)

    def __repr__(self) -> str:
        return f"<DRPECipher 'drpe' (classic, any size, key {self.key})>"


def load(key: int = DEFAULT_KEY, scale: float = FIELD_SCALE) -> DRPECipher:
    """DRPE with the course's demonstration key (or ``key``)."""
    return DRPECipher(key, scale)
