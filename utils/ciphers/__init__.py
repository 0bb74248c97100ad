"""Every image cipher of the course behind one interface (notebooks 05-09).

    >>> from utils import ciphers
    >>> ciphers.available()                       # the names
    >>> c = ciphers.load("chaotic")               # ready, with its default key (learned: shipped weights)
    >>> x = c.decrypt(c.encrypt(images))          # images: float32 (N, H, W) in [0, 1]

The interface is :class:`utils.ciphers.base.Cipher`. One module per cipher, named after it:

    utils.ciphers.aes_gcm     AES-256-GCM (the ``cryptography`` package): the baseline           (03, 04, 09)
    utils.ciphers.chaotic     permutation-diffusion with logistic / Henon maps and the Arnold cat map  (06)
    utils.ciphers.drpe        double random phase encoding, the optical cryptosystem                    (07)
    utils.ciphers.deepedn     DeepEDN: Cycle-GAN encryption with a reconstruction network              (05)
    utils.ciphers.bp_chaotic  a back-propagation network with chaotic key streams                      (06)
    utils.ciphers.invertible  an invertible coupling network with DRPE                                 (07)
    utils.ciphers.saae        the scrambling adversarial autoencoder                                   (08)

and the measurements and attacks they share: :mod:`utils.ciphers.evaluation`, :mod:`utils.ciphers.attacks`,
:mod:`utils.ciphers.games` (the distinguishing games) and :mod:`utils.ciphers.randomness` (NIST SP 800-22
on key streams, 06).
"""

from __future__ import annotations

import importlib
import importlib.util

from .base import Cipher, check_images

__all__ = ["Cipher", "available", "load", "check_images", "NAMES"]

#: Every cipher name of the course, in the order of the series.
NAMES = ("aes_gcm", "chaotic", "drpe", "deepedn", "bp_chaotic", "invertible", "saae")


def available() -> list[str]:
    """The names of the ciphers present in this copy of the course, in the order of :data:`NAMES`."""
    return [n for n in NAMES if importlib.util.find_spec(f"{__name__}.{n}") is not None]


def load(name: str, **kwargs) -> Cipher:
    """A ready cipher with its default key (a learned cipher: the pretrained weights shipped with the course).

    Keyword arguments go to the cipher module's ``load`` (for example another key or model).
    """
    if name not in NAMES:
        raise KeyError(f"unknown cipher {name!r}; the course's ciphers are: {', '.join(NAMES)}")
    if name not in available():
        raise KeyError(f"cipher {name!r} is not in this copy of the course (utils/ciphers/{name}.py is missing)")
    return importlib.import_module(f"{__name__}.{name}").load(**kwargs)
