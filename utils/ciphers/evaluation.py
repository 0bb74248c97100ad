"""The measurements every cipher notebook (05-09) makes, each with a 95 % interval over source images.

All take a cipher (:class:`utils.ciphers.base.Cipher`) and an :class:`utils.data.ImageSet` of test images
(plaintexts never used in training), and return :class:`utils.metrics.Interval` values:

* :func:`reconstruction`: MSE (the mean of squared differences, on the 0-1 scale), PSNR and SSIM of the
  decrypted images against the plaintexts, on 8-bit images as they would be received; "exact" where
  every image comes back bit for bit.
* :func:`cipher_statistics`: entropy, histogram chi-square, adjacent-pixel correlations of the cipher
  images (:meth:`Cipher.cipher_image`).
* :func:`avalanche`: change one plaintext pixel by one grey level; NPCR and UACI between the two cipher
  images, with the share of images that pass Wu et al.'s critical values for that size.
* :func:`key_sensitivity`: decrypt with another key; PSNR and SSIM against the plaintext, next to the
  mean oracle (every pixel at the image's own mean, :data:`utils.metrics.MEAN_ORACLE`): an oracle, not
  an attack, so a wrong key that stays below it shows nothing of the picture's structure. The attacker's
  floor, the blind constant, is k = 0 of every attack curve (:mod:`utils.ciphers.attacks`).

Good statistics are not security: a cipher that passes all of these can still fall to one known
plaintext. The attacks are in :mod:`utils.ciphers.attacks`.
"""

from __future__ import annotations

import numpy as np

from .. import metrics
from ..metrics import Interval, bootstrap_ci

__all__ = ["as_uint8", "quality", "reconstruction", "cipher_statistics", "avalanche", "key_sensitivity", "format_intervals"]


def as_uint8(images) -> np.ndarray:
    """Float images in [0, 1] to the 8-bit images that would be stored or sent."""
    return np.clip(np.round(np.asarray(images, np.float64) * 255.0), 0, 255).astype(np.uint8)


def _groups(image_set):
    return getattr(image_set, "ids", None)


def quality(plain8: np.ndarray, other8: np.ndarray, groups=None) -> dict[str, Interval]:
    """``mse`` (0-1 scale), ``psnr`` (dB, capped at 100) and ``ssim`` of 8-bit images against 8-bit
    plaintexts, each an Interval over ``groups`` (the source of each image)."""
    mse = np.array([np.mean(((a.astype(np.float64) - b) / 255.0) ** 2) for a, b in zip(plain8, other8)])
    out = {"mse": bootstrap_ci(mse, groups)}
    if np.all(mse == 0):
        out["psnr"] = bootstrap_ci(np.full(len(mse), np.inf))
    else:
        out["psnr"] = bootstrap_ci(np.minimum([metrics.psnr(a, b) for a, b in zip(plain8, other8)], 100.0), groups)
    out["ssim"] = bootstrap_ci([metrics.ssim(a, b) for a, b in zip(plain8, other8)], groups)
    return out


_quality = quality  # the name the attack modules import


def reconstruction(cipher, image_set, ciphertext=None) -> dict[str, Interval]:
    """Decryption quality on 8-bit images: ``mse`` (0-1 scale), ``psnr`` (dB; capped at 100, "exact" when
    all images return bit for bit), ``ssim``; plus ``exact`` (the share of images returned exactly)."""
    images = image_set.images
    ct = cipher.encrypt(images) if ciphertext is None else ciphertext
    plain8, back8 = as_uint8(images), as_uint8(cipher.decrypt(ct))
    out = _quality(plain8, back8, _groups(image_set))
    out["exact"] = bootstrap_ci([float(np.array_equal(a, b)) for a, b in zip(plain8, back8)], _groups(image_set))
    return out


def cipher_statistics(cipher, image_set, ciphertext=None) -> dict[str, Interval]:
    """Entropy (bits, ideal 8), chi-square of the histogram (255 dof; below 293.25 passes at 5 %), the share
    of images that pass it, and horizontal / vertical / diagonal adjacent-pixel correlations (ideal 0)."""
    ct = cipher.encrypt(image_set.images) if ciphertext is None else ciphertext
    pictures = cipher.cipher_image(ct)
    groups = _groups(image_set)
    chi = [metrics.chi_square(p) for p in pictures]
    out = {"entropy": bootstrap_ci([metrics.entropy(p) for p in pictures], groups),
           "chi_square": bootstrap_ci([c["statistic"] for c in chi], groups),
           "chi_square_pass": bootstrap_ci([float(c["pass"]) for c in chi], groups)}
    for direction in ("horizontal", "vertical", "diagonal"):
        values = []
        for p in pictures:
            try:
                values.append(metrics.adjacent_correlation(p, direction))
            except ValueError:  # a constant cipher image: correlation undefined; count it as fully correlated
                values.append(1.0)
        out[f"correlation_{direction}"] = bootstrap_ci(values, groups)
    return out


def avalanche(cipher, image_set, seed: int = 0) -> dict:
    """One-pixel avalanche test: NPCR and UACI (in %) between the cipher images of each plaintext and of a
    copy with one pixel (at a seeded random position) changed by one grey level (+1/255, or -1/255 at 255).

    Returns Intervals ``npcr``, ``uaci``, ``npcr_pass``, ``uaci_pass`` (shares of images that pass), and
    ``npcr_critical`` and ``uaci_interval`` (Wu et al., alpha = 0.05, for the cipher image's size).
    """
    images = as_uint8(image_set.images).astype(np.int16)
    rng = np.random.default_rng(seed)
    changed = images.copy()
    for k in range(len(images)):
        y, x = int(rng.integers(images.shape[1])), int(rng.integers(images.shape[2]))
        changed[k, y, x] += 1 if changed[k, y, x] < 255 else -1
    first = cipher.cipher_image(cipher.encrypt(images.astype(np.float32) / 255.0))
    second = cipher.cipher_image(cipher.encrypt(changed.astype(np.float32) / 255.0))
    tests = [metrics.npcr_uaci_test(a, b) for a, b in zip(first, second)]
    groups = _groups(image_set)
    return {"npcr": bootstrap_ci([t["npcr"] for t in tests], groups),
            "uaci": bootstrap_ci([t["uaci"] for t in tests], groups),
            "npcr_pass": bootstrap_ci([float(t["npcr_pass"]) for t in tests], groups),
            "uaci_pass": bootstrap_ci([float(t["uaci_pass"]) for t in tests], groups),
            "npcr_critical": tests[0]["npcr_critical"], "uaci_interval": tests[0]["uaci_interval"]}


def key_sensitivity(cipher, wrong, image_set) -> dict[str, dict[str, Interval]]:
    """Encrypt with ``cipher``, decrypt with ``wrong`` (the same cipher under another key or model).

    Returns ``{"right key": ..., "wrong key": ..., MEAN_ORACLE: ...}``, each with ``mse``, ``psnr`` and
    ``ssim`` (see :func:`reconstruction`); :data:`utils.metrics.MEAN_ORACLE` is the row of
    :func:`utils.metrics.mean_oracle_guess` (every pixel at the plaintext's own mean: an oracle, since it
    needs the image, and the floor a decryption must clear to show anything of the picture's structure).
    An authenticated cipher refuses a wrong key instead of returning an image: then ``"wrong key"`` is
    ``{"refused": <the error message>}``.
    """
    images = image_set.images
    ct = cipher.encrypt(images)
    plain8 = as_uint8(images)
    groups = _groups(image_set)
    constant = metrics.mean_oracle_guess(images)
    try:
        wrong_result = _quality(plain8, as_uint8(wrong.decrypt(ct)), groups)
    except ValueError as exc:  # e.g. AESDecryptionError: authentication failed
        wrong_result = {"refused": str(exc)}
    return {"right key": _quality(plain8, as_uint8(cipher.decrypt(ct)), groups), "wrong key": wrong_result,
            metrics.MEAN_ORACLE: _quality(plain8, as_uint8(constant), groups)}


def format_intervals(rows: dict[str, dict], keys: list[str], digits: int = 2, width: int = 22) -> str:
    """A text table: one row per label, one column per key, each cell ``mean [low, high]``."""
    header = f"{'':<{width}}" + "".join(f"{k:>{max(len(k), 20) + 2}}" for k in keys)
    lines = [header]
    for label, row in rows.items():
        cells = []
        for k in keys:
            value = row.get(k)
            text = value.format(digits) if isinstance(value, Interval) else ("-" if value is None else str(value))
            cells.append(f"{text:>{max(len(k), 20) + 2}}")
        lines.append(f"{label:<{width}}" + "".join(cells))
    return "\n".join(lines)
