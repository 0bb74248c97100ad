"""Deterministic patch sets for training and the fixed held-out pairs every notebook evaluates on.

An image is first resized so that its shorter side is ``shorter_side`` pixels (anti-aliased), so that a
64x64 patch of a 1955x1841 radiograph shows anatomy, not a flat stretch of film; then square patches are
cut at positions drawn from a seeded generator. The same arguments give the same patches on any machine.
"""

from __future__ import annotations

import functools

import numpy as np

from .corpus import load_sample, sample_names

__all__ = ["HELDOUT_SEED", "split_names", "patch_set", "heldout_pairs", "to_channels", "square_image"]

#: The seed of the held-out pairs, shared by every notebook.
HELDOUT_SEED = 2017


def split_names(kind: str, split: str, modality: str | None = None) -> list[str]:
    """Names of the corpus images of one kind (``"natural"`` / ``"medical"``) in one split."""
    return list(sample_names(kind=kind, split=split, modality=modality))


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """Grey (H, W) or colour (H, W, 3) to (H, W, channels): grey is replicated, colour becomes luma (BT.601)."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels!r}")
    if image.ndim == 2:
        grey = image[..., None]
        return grey if channels == 1 else np.repeat(grey, 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {image.shape}")
    if channels == 3:
        return image
    luma = image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return luma[..., None].astype(np.float32)


@functools.lru_cache(maxsize=64)
def _resized(name: str, shorter_side: int | None, min_side: int) -> np.ndarray:
    from skimage.transform import resize

    image, _ = load_sample(name)
    h, w = image.shape[:2]
    target = shorter_side if shorter_side is not None else min(h, w)
    target = max(target, min_side)
    if target != min(h, w):
        scale = target / min(h, w)
        shape = (max(min_side, round(h * scale)), max(min_side, round(w * scale))) + image.shape[2:]
        image = resize(image, shape, order=1, anti_aliasing=scale < 1, preserve_range=True).astype(np.float32)
    image = np.clip(image, 0, 1)
    image.setflags(write=False)
    return image


def patch_set(names, size: int, n: int, seed: int, channels: int = 3,
              shorter_side: int | None = 256) -> np.ndarray:
    """``n`` square patches of side ``size`` cut from the named corpus images.

    Args:
        names: corpus image names (see :func:`utils.data.sample_names`); each patch picks one uniformly.
        size: patch side in pixels.
        n: how many patches.
        seed: seed of the generator that picks images and positions.
        channels: 3 for RGB (grey replicated) or 1 for grey (colour converted to luma).
        shorter_side: each image is resized to this shorter side first; None keeps native resolution.

    Returns:
        float32 array (n, size, size, channels) in [0, 1].
    """
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("patch_set needs at least one image name")
    if int(size) < 1 or int(n) < 0:
        raise ValueError(f"size must be >= 1 and n >= 0, got size={size!r}, n={n!r}")
    if shorter_side is not None and shorter_side < size:
        raise ValueError(f"shorter_side={shorter_side} is smaller than the patch size {size}")
    rng = np.random.default_rng(seed)
    images = [_resized(name, shorter_side, size) for name in names]
    out = np.empty((n, size, size, channels), dtype=np.float32)
    for i in range(n):
        out[i] = _cut(images[int(rng.integers(len(images)))], size, channels, rng)
    return out


def _cut(image: np.ndarray, size: int, channels: int, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    y = int(rng.integers(h - size + 1))
    x = int(rng.integers(w - size + 1))
    return to_channels(image[y:y + size, x:x + size], channels)


def heldout_pairs(size: int = 64, n: int = 16, secrets: str = "natural", channels: int = 3,
                  seed: int = HELDOUT_SEED, modality: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The fixed held-out (secret, cover) pairs: patches of held-out images only.

    Covers are always natural photographs; secrets are natural (``secrets="natural"``, as in Baluja and
    the seed) or medical (``secrets="medical"``). The secret and the cover of a pair are always cut from
    two different images. Every notebook calling this with the same arguments gets the same pairs.
    ``modality`` (e.g. ``"ct"``, with ``secrets="medical"``) keeps only that modality's held-out secrets.

    Returns:
        (secrets, covers), each float32 (n, size, size, channels) in [0, 1] (covers always 3 channels).
    """
    if secrets not in ("natural", "medical"):
        raise ValueError(f"secrets must be 'natural' or 'medical', got {secrets!r}")
    cover_names = split_names("natural", "heldout")
    secret_names = split_names(secrets, "heldout", modality)
    if not secret_names:
        raise ValueError(f"no held-out {secrets} images of modality {modality!r}; see utils.data.sample_table()")
    rng = np.random.default_rng(seed)
    secret_out = np.empty((n, size, size, channels), dtype=np.float32)
    cover_out = np.empty((n, size, size, 3), dtype=np.float32)
    for i in range(n):
        cover_name = cover_names[int(rng.integers(len(cover_names)))]
        choices = [name for name in secret_names if name != cover_name]
        secret_name = choices[int(rng.integers(len(choices)))]
        cover_out[i] = _cut(_resized(cover_name, 256, size), size, 3, rng)
        secret_out[i] = _cut(_resized(secret_name, 256, size), size, channels, rng)
    return secret_out, cover_out


def square_image(image_or_name, size: int, channels: int | None = None) -> np.ndarray:
    """A whole image as a ``size`` x ``size`` float32 square: centre crop to a square, then resize.

    Args:
        image_or_name: a corpus name (see :func:`utils.data.sample_names`) or a float image in [0, 1].
        size: side of the result in pixels.
        channels: 1 or 3 to convert (see :func:`to_channels`); None keeps grey as (H, W) and colour as RGB.
    """
    from skimage.transform import resize

    image = load_sample(image_or_name)[0] if isinstance(image_or_name, str) else np.asarray(image_or_name, np.float32)
    if image.ndim not in (2, 3) or int(size) < 1:
        raise ValueError(f"expected an (H, W) or (H, W, 3) image and size >= 1, got shape {image.shape}, size={size!r}")
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = resize(image[top:top + side, left:left + side], (size, size) + image.shape[2:],
                    anti_aliasing=side > size, preserve_range=True)
    square = np.clip(square, 0, 1).astype(np.float32)
    return square if channels is None else to_channels(square, channels)
