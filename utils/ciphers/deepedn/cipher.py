"""DeepEDN behind the course's cipher interface, and the network-free linear attack of the exercises."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..base import Cipher, ThreatModel, check_batch, check_cipher_images, check_images
from .networks import DeepEDN


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
        from ..evaluation import as_uint8

        return as_uint8(self.model.cipher_float(check_images(images, multiple=self.multiple)))

    def decrypt(self, ciphertext) -> np.ndarray:
        c = check_cipher_images(ciphertext, self.multiple)
        return np.clip(self.model.decrypt_float(c.astype(np.float32) / 255.0), 0.0, 1.0).astype(np.float32)

    def cipher_image(self, ciphertext) -> np.ndarray:
        return check_batch(ciphertext, "u", 3)

    def with_key(self, key) -> "DeepEDNCipher":
        if isinstance(key, DeepEDNCipher):
            return key
        if isinstance(key, DeepEDN):
            return DeepEDNCipher(key)
        if isinstance(key, (str, Path)):
            from .pretrained import load_pretrained

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
