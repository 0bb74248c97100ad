"""SAAE behind the course's cipher interface, and the public-key-only encryption."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from ...layers.blocks import run_image_network
from ..base import Cipher, ThreatModel, check_cipher_images, check_images
from .attacks import invert_encoder
from .networks import OTHER_KEY_MODEL, SAAE


class SAAECipher(Cipher):
    """A trained scrambling adversarial autoencoder behind the course's cipher interface.

    ``encrypt(images)``: float32 (N, 64, 64) in [0, 1] -> **uint8** cipher images (N, 64, 64), the encoder's
    output rounded to 8 bits: what is stored or sent. ``decrypt(cipher)``: those uint8 images -> float32
    (N, 64, 64), the decoder reading the 8-bit cipher image. Deterministic: no nonce, so one image always
    gives the same cipher image. ``cipher_image`` is the ciphertext itself; ``features`` is it / 255.

    ``public_key`` is the encoder (a Keras model), ``private_key`` the decoder.
    """

    name, kind = "saae", "learned"
    image_size = None  # any side that is a multiple of 4: the encoder and decoder are fully convolutional
    multiple = 4

    def __init__(self, model: SAAE):
        if not isinstance(model, SAAE):
            raise TypeError(f"model must be a trained SAAE (utils.ciphers.saae.load_model), got {type(model).__name__}")
        self.model = model
        self.trained_size = model.config.image_size

    @property
    def public_key(self) -> keras.Model:
        """The encoder: in the paper's reading, what may be published."""
        return self.model.encoder

    @property
    def private_key(self) -> keras.Model:
        """The decoder: in the paper's reading, what the receiver keeps secret."""
        return self.model.decoder

    def encrypt(self, images) -> np.ndarray:
        from ..evaluation import as_uint8

        return as_uint8(self.model.encode(check_images(images, multiple=self.multiple)))

    def _check_cipher(self, ciphertext) -> np.ndarray:
        return check_cipher_images(ciphertext, self.multiple)

    def decrypt(self, ciphertext) -> np.ndarray:
        cipher = self._check_cipher(ciphertext)
        return np.clip(self.model.decode(cipher.astype(np.float32) / 255.0), 0.0, 1.0).astype(np.float32)

    def cipher_image(self, ciphertext) -> np.ndarray:
        """The ciphertext is an 8-bit image already."""
        return self._check_cipher(ciphertext)

    def features(self, ciphertext) -> np.ndarray:
        return (self._check_cipher(ciphertext).astype(np.float32) / 255.0)[..., None]

    def public(self) -> "PublicEncryption":
        """The encryption alone, as the public key gives it to anyone (no decryption)."""
        return PublicEncryption(self.model.encoder)

    def with_key(self, key) -> "SAAECipher":
        """The same cipher with another trained model as its key pair: an :class:`SAAE`, an ``SAAECipher``, or
        the name of a pretrained model (``"saae_64_seed1"``: the same recipe from seed 1)."""
        if isinstance(key, SAAECipher):
            return SAAECipher(key.model)
        if isinstance(key, SAAE):
            return SAAECipher(key)
        if isinstance(key, (str, Path)):
            from .pretrained import load_model

            return SAAECipher(load_model(key))
        raise TypeError(f"key must be a trained SAAE, an SAAECipher or a pretrained model's name, got "
                        f"{type(key).__name__}; train one with utils.ciphers.saae.train")

    def other_key(self) -> "SAAECipher":
        """Another key pair: the model trained by the same recipe from seed 1 (``saae_64_seed1``; see its card)."""
        return self.with_key(OTHER_KEY_MODEL)

    def threat_model(self) -> ThreatModel:
        return ThreatModel("the design, the training recipe and the encoder (the paper's public key)",
                           "the decoder (the private key), trained with the encoder from a seed", 32,
                           "the decoder's weights are not drawn at random but trained from a 32-bit seed; anyone "
                           "with the public encoder encrypts images of their choice (unlimited chosen pairs) "
                           "and can invert it by gradient descent; deterministic")

    #: Adam steps of :meth:`dedicated_attack`'s inversion (the benchmark's ``--inversion-steps`` sets it)
    inversion_steps = 200

    def dedicated_attack(self, known_plains, test_ciphertext, steps: int | None = None):
        """The break this design invites: the encoder is the *public* key, a differentiable function that anyone
        holds, so the attacker inverts it by gradient descent (:func:`invert_encoder`, ``steps`` Adam steps per
        batch; :attr:`inversion_steps` where None) and needs no known pairs at all. ``known_plains`` (float32
        (k, H, W), possibly k = 0) is only checked, for the interface; ``test_ciphertext``: uint8 cipher images (N, H, W). Returns the recovered
        float32 (N, H, W) images. On the shipped model the inversion finds images whose encryption matches the
        cipher images far better than grey does but which are not the plaintexts; run 1000 steps from grey,
        noise or an oracle start near the plaintext, the mismatch keeps falling without reaching the plaintext's
        zero and the images do not approach the plaintexts (``utils.ciphers.saae_inversion``, stored in
        ``utils/results/saae_inversion``, shown in notebook 08). This attack fails where the substitute
        decoder succeeds."""
        known = np.asarray(known_plains)
        if known.size:
            check_images(known, name="known_plains", multiple=self.multiple)
        cipher = self._check_cipher(test_ciphertext)
        return invert_encoder(self.model.encoder, cipher, steps=steps or self.inversion_steps)["images"]

class PublicEncryption(Cipher):
    """What the public key gives anyone: an SAAE's encryption, and no decryption.

    Built from the encoder alone (:meth:`SAAECipher.public`); ``encrypt``, ``cipher_image`` and ``features``
    work as in :class:`SAAECipher`, ``decrypt`` refuses. The attacks of this module take one of these, so
    that they provably use nothing but the public key.
    """

    name, kind = "saae (public key only)", "learned"
    image_size = None
    multiple = 4

    def __init__(self, encoder: keras.Model):
        self.encoder = encoder
        self.trained_size = encoder.input_shape[1]

    def encrypt(self, images) -> np.ndarray:
        from ..evaluation import as_uint8

        return as_uint8(run_image_network(self.encoder, check_images(images, multiple=self.multiple), 64))

    def decrypt(self, ciphertext) -> np.ndarray:
        raise PermissionError("the public key only encrypts: decryption needs the private key (the decoder)")

    def cipher_image(self, ciphertext) -> np.ndarray:
        return check_cipher_images(ciphertext, self.multiple)

