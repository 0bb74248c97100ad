"""The invertible network behind the course's cipher interface."""

from __future__ import annotations

import numpy as np

from ..base import Cipher, ThreatModel, check_cipher_images, check_images
from ..drpe import gaussian_view, to_complex
from .attacks import peel_attack
from .networks import InvertibleNet


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
        return check_cipher_images(ciphertext, self.multiple, "c").astype(np.complex64)

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
