"""AES-256-GCM: the real encryption every learned cipher is timed and judged against.

Through the ``cryptography`` package (OpenSSL): a fresh random 96-bit nonce per message and an
authentication tag, so that any changed byte of the ciphertext, nonce or associated data, or a wrong key,
makes decryption fail instead of returning garbage. :func:`aes_encrypt` returns
``nonce || ciphertext || tag``; :func:`aes_encrypt_image` also authenticates the array's dtype and shape,
so the receiver gets back exactly the array that was sent.
"""

from __future__ import annotations

import json
import os

import numpy as np

__all__ = ["AESDecryptionError", "aes_key", "aes_encrypt", "aes_decrypt", "aes_encrypt_image", "aes_decrypt_image"]

_NONCE_BYTES = 12
_TAG_BYTES = 16


class AESDecryptionError(ValueError):
    """Decryption refused: wrong key, or ciphertext, nonce or associated data changed since encryption."""


def aes_key() -> bytes:
    """A fresh random 256-bit key (from the operating system's CSPRNG)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM.generate_key(bit_length=256)


def _aesgcm(key: bytes):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if isinstance(key, str):
        raise TypeError("key must be 32 bytes, not a str: a text password is not a key; make a key with "
                        "aes_key(), or derive one from a password with a key-derivation function (scrypt, Argon2)")
    if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
        raise ValueError(f"key must be 32 bytes (AES-256), got {type(key).__name__} of length "
                         f"{len(key) if hasattr(key, '__len__') else '?'}; make one with aes_key()")
    return AESGCM(bytes(key))


def _check_nonce(nonce) -> None:
    if nonce is not None and (not isinstance(nonce, (bytes, bytearray)) or len(nonce) != _NONCE_BYTES):
        raise ValueError(f"nonce must be None (a fresh random one per message) or {_NONCE_BYTES} bytes, got "
                         f"{type(nonce).__name__} of length {len(nonce) if hasattr(nonce, '__len__') else '?'}")


def aes_encrypt(data: bytes, key: bytes, associated_data: bytes = b"", nonce: bytes | None = None) -> bytes:
    """Encrypt and authenticate ``data``; returns nonce (12 bytes) + ciphertext + tag (16 bytes).

    ``associated_data`` is authenticated but not encrypted (a header the receiver must see unchanged).
    ``nonce``: None (the default and the only safe choice) draws a fresh random one; a fixed nonce repeated
    over messages is a known misuse (GCM becomes a fixed XOR key stream), there only as the course's
    insecure control.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}; for arrays use aes_encrypt_image")
    _check_nonce(nonce)
    nonce = os.urandom(_NONCE_BYTES) if nonce is None else bytes(nonce)
    return nonce + _aesgcm(key).encrypt(nonce, bytes(data), associated_data or None)


def aes_decrypt(blob: bytes, key: bytes, associated_data: bytes = b"") -> bytes:
    """Check and decrypt what :func:`aes_encrypt` returned; raises AESDecryptionError if anything is off."""
    from cryptography.exceptions import InvalidTag

    if len(blob) < _NONCE_BYTES + _TAG_BYTES:
        raise AESDecryptionError(f"ciphertext of {len(blob)} bytes is too short to hold a nonce and a tag "
                                 f"({_NONCE_BYTES + _TAG_BYTES} bytes); it was cut or is not from aes_encrypt")
    try:
        return _aesgcm(key).decrypt(bytes(blob[:_NONCE_BYTES]), bytes(blob[_NONCE_BYTES:]), associated_data or None)
    except InvalidTag:
        raise AESDecryptionError("authentication failed: the key is wrong, or the ciphertext, nonce or associated "
                                 "data was changed after encryption; nothing was decrypted") from None


def aes_encrypt_image(image: np.ndarray, key: bytes, nonce: bytes | None = None) -> bytes:
    """Encrypt an array's bytes; its dtype and shape travel in an authenticated header (``nonce``: see
    :func:`aes_encrypt`)."""
    array = np.ascontiguousarray(image)
    if array.dtype == object:
        raise TypeError("image must be a numeric array")
    header = json.dumps({"dtype": array.dtype.str, "shape": list(array.shape)}).encode()
    return len(header).to_bytes(2, "big") + header + aes_encrypt(array.tobytes(), key, associated_data=header, nonce=nonce)


def aes_decrypt_image(blob: bytes, key: bytes) -> np.ndarray:
    """The array :func:`aes_encrypt_image` encrypted, exactly; AESDecryptionError on any tampering."""
    if len(blob) < 2:
        raise AESDecryptionError("ciphertext too short to hold a header")
    size = int.from_bytes(blob[:2], "big")
    header = bytes(blob[2:2 + size])
    plain = aes_decrypt(blob[2 + size:], key, associated_data=header)  # authenticates the header too
    meta = json.loads(header)
    return np.frombuffer(plain, dtype=np.dtype(meta["dtype"])).reshape(meta["shape"]).copy()


# ------------------------------------------------------------------------------------------------------
# the cipher interface (utils.ciphers.base)
# ------------------------------------------------------------------------------------------------------

from .base import Cipher, ThreatModel, check_batch, check_images  # noqa: E402

#: The course's demonstration key: fixed so that notebooks repeat; make a real one with aes_key().
DEMO_KEY = bytes(range(32))


class AesGcmCipher(Cipher):
    """AES-256-GCM on 8-bit images: each image is quantised to uint8 (what an 8-bit image file holds),
    encrypted with a fresh random nonce, and returned as a row of bytes (header, nonce, ciphertext, tag).

    Decryption is exact for 8-bit images and refuses any changed byte or wrong key (AESDecryptionError).
    Because every encryption draws a new nonce, encrypting one image twice gives two unrelated ciphertexts.

    ``nonce``: a fixed 12-byte nonce used for every image instead: the classic misuse, kept as an insecure
    control (:func:`repeated_nonce`). GCM is counter mode, so a repeated nonce repeats the key stream:
    ``C = P XOR K`` for every image, deterministic, and one known pair gives K away.
    """

    name, kind, image_size = "aes_gcm", "classic", None

    def __init__(self, key: bytes = DEMO_KEY, nonce: bytes | None = None):
        _aesgcm(key)  # checks the key
        _check_nonce(nonce)
        self.key = bytes(key)
        self.nonce = None if nonce is None else bytes(nonce)

    def encrypt(self, images) -> np.ndarray:
        batch = check_images(images)
        pixels = np.round(batch * 255.0).astype(np.uint8)
        return np.stack([np.frombuffer(aes_encrypt_image(p, self.key, self.nonce), np.uint8) for p in pixels])

    def decrypt(self, ciphertext) -> np.ndarray:
        blobs = check_batch(ciphertext, "u", 2)
        return np.stack([aes_decrypt_image(b.tobytes(), self.key) for b in blobs]).astype(np.float32) / 255.0

    def _layout(self, blob: bytes) -> tuple[int, tuple[int, ...]]:
        size = int.from_bytes(blob[:2], "big")
        shape = tuple(json.loads(blob[2:2 + size])["shape"])
        return 2 + size + _NONCE_BYTES, shape

    def cipher_image(self, ciphertext) -> np.ndarray:
        """The encrypted pixel bytes (without header, nonce and tag) laid out as the image was."""
        blobs = check_batch(ciphertext, "u", 2)
        start, shape = self._layout(blobs[0].tobytes())
        count = int(np.prod(shape))
        return np.stack([b[start:start + count].reshape(shape) for b in blobs])

    def with_key(self, key) -> "AesGcmCipher":
        return AesGcmCipher(key, self.nonce)

    def other_key(self) -> "AesGcmCipher":
        """The key with every byte plus one (mod 256): a neighbouring key."""
        return AesGcmCipher(bytes((b + 1) % 256 for b in self.key), self.nonce)

    def threat_model(self) -> ThreatModel:
        if self.nonce is None:
            return ThreatModel("the algorithm (AES-256-GCM), the nonce of each message", "a random 256-bit key",
                               256, "randomised: a fresh 96-bit nonce per image; authenticated (a wrong key or a "
                               "changed byte is refused)")
        return ThreatModel("the algorithm (AES-256-GCM) and the nonce, the same for every image",
                           "a random 256-bit key", 256, "MISUSE (insecure control): a repeated nonce repeats the "
                           "key stream, C = P XOR K; one known pair reveals K for every image of that size")

    def dedicated_attack(self, known_plains, test_ciphertext):
        """With a repeated nonce, one known pair gives the key stream K = C XOR P, which decrypts every
        ciphertext of that size (the tag is then the only thing that fails; the pixels come back). With
        fresh nonces there is no such attack: None."""
        plains = np.asarray(known_plains, np.float32)
        if self.nonce is None or plains.ndim != 3 or len(plains) == 0:
            return None
        stream = self.cipher_image(self.encrypt(plains[:1]))[0] ^ np.round(plains[0] * 255.0).astype(np.uint8)
        return (self.cipher_image(test_ciphertext) ^ stream[None]).astype(np.float32) / 255.0


def load(key: bytes = DEMO_KEY, nonce: bytes | None = None) -> AesGcmCipher:
    """AES-256-GCM with the course's demonstration key (or ``key``); ``nonce`` only for the insecure control."""
    return AesGcmCipher(key, nonce)


#: The fixed nonce of the insecure control (any fixed value is equally bad).
REPEATED_NONCE = bytes(12)


def repeated_nonce(key: bytes = DEMO_KEY) -> AesGcmCipher:
    """The insecure control: AES-256-GCM with one nonce for every image (named ``aes_gcm_repeated_nonce``)."""
    cipher = AesGcmCipher(key, REPEATED_NONCE)
    cipher.name = "aes_gcm_repeated_nonce"
    return cipher
