"""The classic chaotic image cipher: Arnold-cat-map permutation, then XOR with a chaotic key stream (notebook 06).

The design the field publishes by the hundred, in its plainest form (permutation-diffusion):

1. **permutation** ("confusion"): the generalised Arnold cat map moves every pixel,
   ``(i, j) -> (i + p j, q i + (pq + 1) j) mod N``, ``rounds`` times (:func:`~utils.ciphers.chaos.cat_map_permutation`);
2. **diffusion**: every byte of the shuffled image is XORed with a byte of a chaotic key stream, from the
   logistic map or from the Henon map (:class:`~utils.ciphers.chaos.MapKey`).

``C = perm(P) XOR K``, and decryption undoes both: ``P = perm^-1(C XOR K)``. It is exact on 8-bit images.

The key (:class:`ChaoticKey`) is the maps' parameters and initial conditions, the choice of stream, and the
cat map's ``p``, ``q`` and ``rounds``. It works on square images of any side (the cat map needs a square).

Its cipher images pass the statistical tests of the field (entropy, chi-square, correlation) and its key
stream changes completely when the key changes by 1e-15. It is nevertheless broken: the key stream and the
permutation are the same for every image, so known or chosen plaintext-ciphertext pairs give them away
(:mod:`utils.ciphers.keystream_attack`; notebook 06 shows how many pairs and why).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Cipher, ThreatModel, check_batch, check_images
from .chaos import MapKey, apply_permutation, cat_map_permutation

__all__ = ["STREAMS", "ChaoticKey", "ChaoticCipher", "load"]

#: The maps that can make the key stream.
STREAMS = ("logistic", "henon")


@dataclass(frozen=True)
class ChaoticKey(MapKey):
    """The classic cipher's key: the maps (:class:`~utils.ciphers.chaos.MapKey`), which one makes the
    stream (``stream``: ``"logistic"`` or ``"henon"``), and the cat map's ``cat_p``, ``cat_q``, ``cat_rounds``."""

    stream: str = "logistic"
    cat_p: int = 5
    cat_q: int = 11
    cat_rounds: int = 7

    def __post_init__(self):
        super().__post_init__()
        if self.stream not in STREAMS:
            raise ValueError(f"stream must be one of {STREAMS}, got {self.stream!r}")
        for name in ("cat_p", "cat_q", "cat_rounds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def stream_bytes(self, n: int) -> np.ndarray:
        """The key stream of the chosen map, ``n`` bytes."""
        return self.logistic_stream(n) if self.stream == "logistic" else self.henon_stream(n)

    def permutation(self, size: int) -> np.ndarray:
        """The cat map of this key on a ``size`` x ``size`` image (gather indices)."""
        return cat_map_permutation(int(size), int(self.cat_p), int(self.cat_q), int(self.cat_rounds))


class ChaoticCipher(Cipher):
    """Arnold cat map + chaotic XOR stream on square 8-bit grey images; see the module text.

    ``encrypt`` returns uint8 (N, H, W); ``decrypt`` returns float32 (N, H, W), exact for 8-bit images
    (``round(255 x)`` of the input comes back bit for bit).
    """

    name, kind, image_size = "chaotic", "classic", None

    def __init__(self, key: ChaoticKey | None = None):
        self.key = ChaoticKey() if key is None else key
        if not isinstance(self.key, ChaoticKey):
            raise TypeError(f"key must be a ChaoticKey, got {type(self.key).__name__}")

    # the two stages, public so that the notebook (and the attack) can show them one at a time
    def permute(self, codes: np.ndarray) -> np.ndarray:
        """The permutation stage on uint8 images (N, S, S)."""
        return apply_permutation(codes, self.key.permutation(codes.shape[1]))

    def keystream(self, shape) -> np.ndarray:
        """The key stream laid out as one image of ``shape`` (H, W)."""
        return self.key.stream_bytes(int(np.prod(shape))).reshape(shape)

    def public_codes(self, images) -> np.ndarray:
        """What the secret stages (permutation, XOR) act on: the 8-bit image. Anyone can compute it."""
        batch = self._check(images)
        return np.round(batch.astype(np.float64) * 255.0).astype(np.uint8)  # as utils.ciphers.evaluation.as_uint8

    def decode_codes(self, codes) -> np.ndarray:
        """The inverse of :meth:`public_codes`: bytes back to float32 images in [0, 1]."""
        return np.asarray(codes, np.uint8).astype(np.float32) / 255.0

    def encrypt(self, images) -> np.ndarray:
        codes = self.public_codes(images)
        return self.permute(codes) ^ self.keystream(codes.shape[1:])[None]

    def decrypt(self, ciphertext) -> np.ndarray:
        ct = check_batch(ciphertext, "u", 3)
        if ct.dtype != np.uint8:
            raise TypeError(f"ciphertext must be uint8, got {ct.dtype}; pass what encrypt() returned")
        self._check_square(ct.shape, "ciphertext")
        shuffled = ct ^ self.keystream(ct.shape[1:])[None]
        return self.decode_codes(apply_permutation(shuffled, self.key.permutation(ct.shape[1]), inverse=True))

    def with_key(self, key) -> "ChaoticCipher":
        """The cipher under another key: a :class:`ChaoticKey`, or a dict of fields to change in this one
        (``cipher.with_key({"logistic_x0": cipher.key.logistic_x0 + 1e-15})``)."""
        if isinstance(key, dict):
            return ChaoticCipher(self.key.replace(**key))
        if isinstance(key, ChaoticKey):
            return ChaoticCipher(key)
        raise TypeError(f"key must be a ChaoticKey or a dict of key fields, got {type(key).__name__}")

    def other_key(self) -> "ChaoticCipher":
        """A neighbouring key: the stream map's initial value changed by 1e-15 (notebook 06's key sensitivity)."""
        field = "logistic_x0" if self.key.stream == "logistic" else "henon_x0"
        return self.with_key({field: getattr(self.key, field) + 1e-15})

    def threat_model(self) -> ThreatModel:
        return ThreatModel("the design (cat map, then XOR with a logistic or Henon stream)",
                           f"the {self.key.stream} map's initial value and parameter, the cat map's p, q and rounds",
                           100.0, "the field counts two doubles at 1e-15 precision (about 2 x 50 bits); but the "
                           "permutation and the stream are the same for every image: the cat map is one of about "
                           "2^17 (64 px), found by exhaustive search from 2 known pairs, and the stream then "
                           "follows from one pair")

    def dedicated_attack(self, known_plains, test_ciphertext):
        """With 2 or more known pairs of ``known_plains`` (encrypted here, as an oracle or intercepted traffic
        would give them): the exhaustive cat-map search (:func:`utils.ciphers.keystream_attack.cat_map_search`)
        on the first two, exact from 2 pairs; should it find no map (a key whose permutation is not a cat
        map), the signature attack (:mod:`utils.ciphers.keystream_attack`) on all of them. Returns the
        recovered test plaintexts, float32 (N, H, W); None without 2 pairs."""
        from .keystream_attack import cat_map_search, decrypt_with, recover_keystream

        plains = np.asarray(known_plains, np.float32)
        ct = np.asarray(test_ciphertext)
        if plains.ndim != 3 or len(plains) < 2:
            return None
        if plains.shape[1:] != ct.shape[1:]:
            raise ValueError(f"known plaintexts of {plains.shape[1]}x{plains.shape[2]} cannot break ciphertexts of "
                             f"{ct.shape[1]}x{ct.shape[2]}: the key stream depends on the size")
        found = cat_map_search(self.public_codes(plains[:2]), self.encrypt(plains[:2]))
        if found.key is None:
            return _keystream_break(self, plains, ct, recover_keystream, decrypt_with)
        return self.decode_codes(decrypt_with(found.key, ct))

    def _check(self, images) -> np.ndarray:
        batch = check_images(images)
        self._check_square(batch.shape, "images")
        return batch

    @staticmethod
    def _check_square(shape, name) -> None:
        if shape[1] != shape[2]:
            raise ValueError(f"{name} must be square for the Arnold cat map, got {shape[1]}x{shape[2]}; "
                             "crop or resize first (utils.data.square_image(image, size))")

    def __repr__(self) -> str:
        k = self.key
        return (f"<ChaoticCipher 'chaotic' (classic, any square size; cat map p={k.cat_p}, q={k.cat_q}, "
                f"rounds={k.cat_rounds}; {k.stream} stream)>")


def load(key: ChaoticKey | dict | None = None, **fields) -> ChaoticCipher:
    """The classic chaotic cipher with the course's demonstration key, or ``key``, or the demonstration key
    with some fields changed (``load(stream="henon")``)."""
    base = ChaoticKey() if key is None else (ChaoticKey(**key) if isinstance(key, dict) else key)
    return ChaoticCipher(base.replace(**fields) if fields else base)


def _keystream_break(cipher, known_plains, test_ciphertext, recover, decrypt_with):
    """Recover the permutation and stream from the known pairs, then decrypt the test ciphertexts."""
    plains = np.asarray(known_plains, np.float32)
    ct = np.asarray(test_ciphertext)
    if plains.ndim != 3 or len(plains) == 0:
        return None
    if plains.shape[1:] != ct.shape[1:]:
        raise ValueError(f"known plaintexts of {plains.shape[1]}x{plains.shape[2]} cannot break ciphertexts of "
                         f"{ct.shape[1]}x{ct.shape[2]}: the key stream depends on the size")
    found = recover(cipher.public_codes(plains), cipher.encrypt(plains))
    return cipher.decode_codes(decrypt_with(found, ct))
