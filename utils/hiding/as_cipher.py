"""A hider behind the cipher interface (:class:`utils.ciphers.base.Cipher`), so that notebook 09's benchmark
measures hiders and ciphers alike: the plaintext is hidden in a test photograph, the container is the
"ciphertext", revealing is decrypting. Its ``kind`` is ``"hider"``, the interface's third kind.
"""

from __future__ import annotations

import numpy as np

__all__ = ["HiderMethod"]


class HiderMethod:
    """A hider behind the cipher interface: the plaintext is hidden in a test photograph (the i-th image
    always in the i-th cover), the container is the "ciphertext", revealing is decrypting."""

    kind, image_size = "hider", None

    def __init__(self, name: str, model=None, size: int = 64, seed: int = 0, split: str = "test"):
        from ..data import PatchSampler, sources

        self.name, self.model, self.size, self.split = name, model, size, split
        covers, _ = sources("natural", split)
        self._sampler = PatchSampler(covers, size, 3)
        self._seed = seed
        self._covers = np.zeros((0, size, size, 3), np.float32)

    def attacker_oracle(self) -> "HiderMethod":
        """The same hider putting images into covers of the training split: what the attacker uses to make
        their own pairs, so that no test container shares a cover with them."""
        return HiderMethod(self.name, self.model, self.size, self._seed + 1, "train")

    def threat_model(self):
        from ..ciphers.base import ThreatModel

        if self.model is None:
            return ThreatModel("the method (3-3-2 LSB) and the cover", "none", 0,
                               "no key: anyone who knows the method reads the secret (Kerckhoffs)")
        return ThreatModel("the design and the trained hiding and reveal networks (shipped with the course)", "none",
                           0, "no key: the public reveal network reads the secret; here the i-th image always goes "
                           "into the i-th cover, so encryption is deterministic")

    def covers(self, n: int) -> np.ndarray:
        if len(self._covers) < n:
            self._covers = self._sampler.sample(np.random.default_rng(self._seed), n)
        return self._covers[:n]

    def encrypt(self, images) -> np.ndarray:
        from ..ciphers import check_images
        from ..plotting import to_uint8
        from .lsb import lsb_hide

        images = check_images(images)
        covers = self.covers(len(images))
        if self.model is None:
            return lsb_hide(to_uint8(images[..., None]), to_uint8(covers))
        return to_uint8(self.model.hide(images[..., None], covers))

    def decrypt(self, containers) -> np.ndarray:
        from .lsb import lsb_reveal

        containers = np.asarray(containers)
        if self.model is None:
            return lsb_reveal(containers, secret_channels=1)[..., 0].astype(np.float32) / 255.0
        return self.model.reveal(containers.astype(np.float32) / 255.0)[..., 0]

    def cipher_image(self, containers) -> np.ndarray:
        """The container's three channels side by side, (N, H, 3W): its statistics are the cover's."""
        c = np.asarray(containers)
        return np.concatenate([c[..., 0], c[..., 1], c[..., 2]], axis=2)

    def stored_bytes(self, containers) -> int:
        from ..metrics import encoded_size_kb

        return int(round(np.mean([encoded_size_kb(c) for c in np.asarray(containers)]) * 1000))

    def features(self, containers) -> np.ndarray:
        return np.asarray(containers, np.float32) / 255.0

    def other_key(self):
        if self.model is None:
            return self  # LSB has no key: anyone who knows the method reads the secret
        raise NotImplementedError("a hider's key is a trained model; notebook 04 trains one from another seed")

    def dedicated_attack(self, known_plains, test_ciphertext):
        """LSB has no key: knowing the method (Kerckhoffs) is reading the secret. The learned hiders: none."""
        return self.decrypt(test_ciphertext) if self.model is None else None
