"""The interface every cipher of the course shares (the course plan's "Learned ciphers share one interface").

A cipher has

* ``name``: its registry name (``"aes_gcm"``, ``"chaotic"``, ...);
* ``kind``: ``"classic"`` or ``"learned"`` (``"hider"`` for a hider behind this interface,
  :class:`utils.hiding.as_cipher.HiderMethod`, which the benchmark measures beside the ciphers);
* ``image_size``: the side it works on, or None for any size (a learned cipher trained on 64x64 patches
  that runs at any size says so with ``trained_size``, and ``multiple``: the sides must be multiples of it);
* ``encrypt(images)``: a float32 batch (N, H, W) of grey images in [0, 1] -> one numpy array with N first
  (uint8 bytes or pixels, float or complex values, as the method produces);
* ``decrypt(ciphertext)``: that array -> the float32 (N, H, W) batch.

and, for the measurements of notebooks 05-09:

* ``cipher_image(ciphertext)``: the ciphertext as 8-bit images (N, h, w), on which entropy, histogram,
  adjacent-pixel correlation, NPCR and UACI are computed (each cipher says how it maps its values);
* ``stored_bytes(ciphertext)``: the bytes one image's ciphertext takes as it would be stored or sent;
* ``features(ciphertext)``: the ciphertext as float32 (N, h, w, c), what an attacker's network reads;
* ``with_key(key)``: the same cipher under another key (for key sensitivity); a learned cipher's key is
  its weights, so its ``with_key`` takes another trained model;
* ``other_key()``: the same cipher under a different key of its own choosing (a neighbouring key for a
  classic cipher, a model trained from another seed for a learned one): what the benchmark's
  key-sensitivity test decrypts with;
* ``threat_model()``: a :class:`ThreatModel`: what is public (design, training recipe, weights), what
  the key is, and its size in bits -- what the security measurements are measured under;
* ``dedicated_attack(known_plains, test_ciphertext)``: the classic break the design invites, when there is
  one (recovering an XOR key stream, inverting a linear map), given known plaintexts: the attacker's
  recovered test plaintexts, or None where only the generic substitute decoder of
  :mod:`utils.ciphers.attacks` applies.

Wrong shapes, dtypes or ranges get a clear error (:func:`check_images`, :func:`check_batch`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

__all__ = ["Cipher", "ThreatModel", "check_images", "check_batch", "to_uint8"]


@dataclass(frozen=True)
class ThreatModel:
    """What a cipher's security is measured under (Kerckhoffs: everything but the key is public).

    ``public``: what the attacker knows (the design, the training recipe, shipped weights, ...);
    ``key``: what the sender and receiver keep secret; ``key_bits``: the key's nominal size in bits (0 for
    no key); ``note``: what limits it in practice (a smaller effective key space, a public part that
    gives the key away, ...).
    """

    public: str
    key: str
    key_bits: float
    note: str = ""

    def describe(self) -> str:
        """One paragraph: public, key, bits, note."""
        bits = "no key" if self.key_bits == 0 else f"{self.key_bits:g} bits"
        return f"public: {self.public}; key: {self.key} ({bits})" + (f"; {self.note}" if self.note else "")


def check_images(images, image_size: int | None = None, name: str = "images", multiple: int | None = None) -> np.ndarray:
    """A float32 (N, H, W) batch in [0, 1], or a ValueError / TypeError that says what is wrong and how to fix it.

    ``image_size``: the one side the cipher takes (None: any); ``multiple``: height and width must be
    multiples of it (a convolutional network's strides)."""
    array = np.asarray(images)
    if array.dtype == np.uint8:
        raise TypeError(f"{name} must be float in [0, 1], got uint8; divide by 255 first")
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name} must be a float array in [0, 1], got dtype {array.dtype}")
    if array.ndim == 2:
        raise ValueError(f"{name} must be a batch (N, H, W), got one image of shape {array.shape}; "
                         "use images[None] for a batch of one")
    if array.ndim == 4 and array.shape[-1] == 1:
        raise ValueError(f"{name} must be (N, H, W), got shape {array.shape}; drop the channel axis: images[..., 0]")
    if array.ndim != 3:
        raise ValueError(f"{name} must be grey images (N, H, W), got shape {array.shape}; "
                         "colour images: convert to grey first (utils.data.to_channels(image, 1))")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch")
    if image_size is not None and array.shape[1:] != (image_size, image_size):
        raise ValueError(f"{name} must be {image_size}x{image_size} for this cipher, got {array.shape[1]}x{array.shape[2]}; "
                         f"resize first (utils.data.square_image(image, {image_size}))")
    if multiple and (array.shape[1] % multiple or array.shape[2] % multiple):
        side = max(multiple, array.shape[1] // multiple * multiple)
        raise ValueError(f"{name} must have height and width that are multiples of {multiple} for this cipher, got "
                         f"{array.shape[1]}x{array.shape[2]}; crop or resize first (utils.data.square_image(image, "
                         f"{side}))")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if array.min() < 0 or array.max() > 1:
        raise ValueError(f"{name} must lie in [0, 1], got values in [{array.min():.3g}, {array.max():.3g}]")
    return array.astype(np.float32)


def check_batch(ciphertext, dtype_kind: str, ndim: int, name: str = "ciphertext") -> np.ndarray:
    """A ciphertext batch of the expected kind (``"u"`` uint8, ``"f"`` float, ``"c"`` complex) and rank."""
    array = np.asarray(ciphertext)
    if array.dtype.kind != dtype_kind:
        kinds = {"u": "uint8", "f": "float", "c": "complex"}
        raise TypeError(f"{name} must be {kinds.get(dtype_kind, dtype_kind)}, got {array.dtype}; "
                        "pass what encrypt() returned")
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions (N first), got shape {array.shape}; "
                         "pass what encrypt() returned")
    return array


def check_cipher_images(ciphertext, multiple: int, kind: str = "u") -> np.ndarray:
    """Cipher images (N, H, W) of ``kind`` (``"u"`` uint8 images, ``"c"`` complex fields) with H and W
    multiples of ``multiple`` (a network's strides), or a TypeError / ValueError saying so."""
    array = check_batch(ciphertext, kind, 3)
    if array.shape[1] % multiple or array.shape[2] % multiple:
        what = {"u": "uint8 cipher images", "c": "complex cipher fields"}.get(kind, "cipher arrays")
        raise ValueError(f"ciphertext must be {what} (N, H, W) with H and W multiples of {multiple}, "
                         f"got shape {array.shape}; pass what encrypt() returned")
    return array


def to_uint8(values, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Map [low, high] linearly to 0-255 and round (values outside are clipped)."""
    scaled = (np.asarray(values, np.float64) - low) / (high - low)
    return np.clip(np.round(scaled * 255.0), 0, 255).astype(np.uint8)


class Cipher(ABC):
    """The common interface (see the module text); subclasses set ``name``, ``kind``, ``image_size``."""

    name: str = ""
    kind: str = "classic"
    image_size: int | None = None

    @abstractmethod
    def encrypt(self, images) -> np.ndarray:
        """float32 (N, H, W) in [0, 1] -> ciphertext array with N first."""

    @abstractmethod
    def decrypt(self, ciphertext) -> np.ndarray:
        """ciphertext array -> float32 (N, H, W)."""

    def cipher_image(self, ciphertext) -> np.ndarray:
        """The ciphertext as 8-bit images (N, h, w) for the statistics; by default uint8 ciphertexts as they are."""
        array = np.asarray(ciphertext)
        if array.dtype != np.uint8 or array.ndim != 3:
            raise NotImplementedError(f"{self.name}: say how its ciphertext becomes an 8-bit image")
        return array

    def stored_bytes(self, ciphertext) -> int:
        """Bytes that one image's ciphertext takes when stored or sent (the array's bytes per image)."""
        array = np.asarray(ciphertext)
        return int(array[0].nbytes)

    def features(self, ciphertext) -> np.ndarray:
        """The ciphertext as float32 (N, h, w, c) for an attacker's network; by default the cipher image / 255."""
        return (self.cipher_image(ciphertext).astype(np.float32) / 255.0)[..., None]

    def with_key(self, key) -> "Cipher":
        """This cipher under another key."""
        raise NotImplementedError(f"{self.name} has no with_key")

    def other_key(self) -> "Cipher":
        """This cipher under a different key of its own choosing (for the key-sensitivity test)."""
        raise NotImplementedError(f"{self.name} has no other_key")

    def threat_model(self) -> ThreatModel:
        """What is public, what the key is, and its size in bits (each cipher says)."""
        raise NotImplementedError(f"{self.name} states no threat model")

    def dedicated_attack(self, known_plains, test_ciphertext):
        """The attack this design invites with ``len(known_plains)`` known pairs (encrypted here by the
        attacker's oracle or taken from traffic): recovered test plaintexts (N, H, W), or None if none applies."""
        return None

    def __repr__(self) -> str:
        trained = getattr(self, "trained_size", None)
        size = f"any size, trained at {trained}" if trained and self.image_size is None else f"image_size={self.image_size}"
        return f"<{type(self).__name__} {self.name!r} ({self.kind}, {size})>"
