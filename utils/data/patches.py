"""Deterministic patch sets for training, and the evaluation sets every notebook measures on.

* :func:`patch_set`: training (or any) patches of given sources, every frame eligible.
* :func:`pair_set`: (secret, cover) pairs of one split, balanced over source images, with the source of
  every pair so that intervals can be taken over source images (:func:`utils.metrics.bootstrap_ci`).
* :func:`image_set`: grey images of one split for the ciphers, patches or whole images.

An image is first resized so that its shorter side is ``shorter_side`` pixels (anti-aliased), so that a
64x64 patch of a 1955x1841 radiograph shows anatomy, not a flat stretch of film; then square patches are
cut at positions drawn from a seeded generator. The same arguments give the same patches on any machine.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .content import CONTENT_TRIES, background_level, carries_content
from .corpus import load_sample, sample_names
from .sources import Source, corpus_source, frames_of, resized_frames, sources

__all__ = ["EVAL_SEED", "split_names", "patch_set", "PatchSampler", "PairSet", "pair_set", "ImageSet", "image_set", "to_channels",
           "square_image"]

#: The seed of the evaluation sets' patch positions, shared by every notebook.
EVAL_SEED = 2017


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


def _as_sources(names_or_sources) -> list[Source]:
    items = [names_or_sources] if isinstance(names_or_sources, (str, Source)) else list(names_or_sources)
    return [s if isinstance(s, Source) else corpus_source(s) for s in items]


def patch_set(names, size: int, n: int, seed: int, channels: int = 3,
              shorter_side: int | None = 256, content: bool = False) -> np.ndarray:
    """``n`` square patches of side ``size`` cut from the given sources (corpus names or :class:`Source`).

    Each patch picks a source uniformly, then one of its frames uniformly (every frame of a cine or volume
    can be drawn), then a position. Images are first resized so that their shorter side is
    ``shorter_side`` pixels (anti-aliased), so that a 64x64 patch of a 1955x1841 radiograph shows anatomy,
    not a flat stretch of film. The same arguments give the same patches on any machine.

    Args:
        names: corpus image names (see :func:`utils.data.sample_names`) or :class:`Source` objects.
        size: patch side in pixels.
        n: how many patches.
        seed: seed of the generator that picks sources, frames and positions.
        channels: 3 for RGB (grey replicated) or 1 for grey (colour converted to luma).
        shorter_side: each image is resized to this shorter side first; None keeps native resolution.
        content: apply the content rule of :mod:`utils.data.content`: a patch of background is redrawn
            elsewhere in its frame (a generator per patch, as in :func:`image_set`).

    Returns:
        float32 array (n, size, size, channels) in [0, 1].
    """
    items = _as_sources(names)
    if not items:
        raise ValueError("patch_set needs at least one image name")
    if int(size) < 1 or int(n) < 0:
        raise ValueError(f"size must be >= 1 and n >= 0, got size={size!r}, n={n!r}")
    if shorter_side is not None and shorter_side < size:
        raise ValueError(f"shorter_side={shorter_side} is smaller than the patch size {size}")
    rng = np.random.default_rng(seed)
    picks = []
    for i in range(n):
        k = int(rng.integers(len(items)))
        picks.append((k, int(rng.integers(_frame_count(items[k]))), rng.random(), rng.random(), i))
    out = np.empty((n, size, size, channels), dtype=np.float32)
    cutter = _ContentCutter(seed, content)
    for k, f, ry, rx, i in sorted(picks):  # one source at a time
        out[i] = cutter.cut(items[k], resized_frames(items[k], shorter_side, size), shorter_side, f, size, channels,
                            ry, rx, i)
    return out


class PatchSampler:
    """Fresh random patches of a fixed set of sources, batch after batch (for training streams).

    Holds every frame of every source, resized once (shorter side ``shorter_side``), and cuts new patches
    on each call: a source uniformly, one of its frames uniformly, a position uniformly. With
    ``content=True`` a position the content rule (:mod:`utils.data.content`) rejects is drawn again from the
    same generator, up to :data:`~utils.data.content.CONTENT_TRIES` times, so that training sees tissue
    rather than background.
    """

    def __init__(self, names, size: int, channels: int = 3, shorter_side: int | None = 256, content: bool = False):
        self.sources = _as_sources(names)
        if not self.sources:
            raise ValueError("PatchSampler needs at least one source")
        self.size, self.channels = int(size), int(channels)
        self.stacks = [resized_frames(s, shorter_side, self.size) for s in self.sources]
        self.levels = [_background_levels(s, shorter_side, self.size) for s in self.sources] if content else None

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` patches, float32 (n, size, size, channels), drawn with ``rng``."""
        out = np.empty((n, self.size, self.size, self.channels), np.float32)
        for i in range(n):
            k = int(rng.integers(len(self.stacks)))
            f = int(rng.integers(len(self.stacks[k])))
            out[i] = _cut(self.stacks[k][f], self.size, self.channels, rng.random(), rng.random())
            if self.levels is not None and not carries_content(out[i], self.levels[k][f]):
                found = _redraw(self.stacks[k][f], self.size, self.channels, self.levels[k][f], rng)
                if found is not None:
                    out[i] = found
        return out


@functools.lru_cache(maxsize=None)
def _frame_count(source: Source) -> int:
    return len(frames_of(source))


def _cut(image: np.ndarray, size: int, channels: int, ry: float, rx: float) -> np.ndarray:
    h, w = image.shape[:2]
    y = min(int(ry * (h - size + 1)), h - size)
    x = min(int(rx * (w - size + 1)), w - size)
    return to_channels(image[y:y + size, x:x + size], channels)


def _redraw(frame: np.ndarray, size: int, channels: int, level: float | None, rng: np.random.Generator):
    """The first of up to :data:`CONTENT_TRIES` positions drawn from ``rng`` whose patch passes the content
    rule (:mod:`utils.data.content`), or None when none does."""
    for _ in range(CONTENT_TRIES):
        candidate = _cut(frame, size, channels, rng.random(), rng.random())
        if carries_content(candidate, level):
            return candidate
    return None


@functools.lru_cache(maxsize=48)
def _background_levels(source: Source, shorter_side: int | None, size: int) -> tuple[float | None, ...]:
    return tuple(background_level(f) for f in resized_frames(source, shorter_side, size))


class _ContentCutter:
    """Cuts a patch at the position the set's generator drew and, when the content rule
    (:mod:`utils.data.content`) rejects it, redraws the position from a generator of its own for that
    patch (``seed``, patch index), so that every accepted first draw is the patch the random set had."""

    def __init__(self, seed: int, enabled: bool):
        self.seed, self.enabled = int(seed), bool(enabled)
        self.redrawn = 0
        self.without_content = 0

    def cut(self, source: Source, stack: np.ndarray, shorter_side, f: int, size: int, channels: int,
            ry: float, rx: float, index: int) -> np.ndarray:
        patch = _cut(stack[f], size, channels, ry, rx)
        if not self.enabled:
            return patch
        level = _background_levels(source, shorter_side, size)[f]
        if carries_content(patch, level):
            return patch
        self.redrawn += 1
        found = _redraw(stack[f], size, channels, level, np.random.default_rng([self.seed, index]))
        if found is None:
            self.without_content += 1
            return patch
        return found

    def sentence(self, n: int) -> str:
        """What the rule did, for a set's description ("" when the rule is off: random patches)."""
        if not self.enabled:
            return ""
        text = f"; content rule: {self.redrawn} of {n} first positions rejected and redrawn"
        if self.without_content:
            text += f", {self.without_content} frames without content after {CONTENT_TRIES} tries kept as drawn"
        return text


def _quotas(n: int, count: int) -> list[int]:
    return [n // count + (1 if i < n % count else 0) for i in range(count)]


def _spread(quota: int, frames: int) -> list[int]:
    """Frames for ``quota`` patches of a source: evenly spread, every frame once the quota allows."""
    return [(j * frames) // quota if quota <= frames else j % frames for j in range(quota)]


@dataclass
class PairSet:
    """Evaluation pairs (secret, cover) with the source of each, for intervals over source images.

    Attributes:
        secrets: float32 (n, size, size, channels) in [0, 1].
        covers: float32 (n, size, size, 3) in [0, 1].
        secret_ids, cover_ids: the source of each pair's secret and cover (arrays of str).
        secret_frames: the frame of the secret's source.
        modalities: the secret's modality per pair.
        split: the split the sources come from.
        description: what the pairs are made of, in one sentence (the notebooks print it).
        redrawn: how many secret patches the content rule redrew (0 with ``content=False``).
    """

    secrets: np.ndarray
    covers: np.ndarray
    secret_ids: np.ndarray
    cover_ids: np.ndarray
    secret_frames: np.ndarray
    modalities: np.ndarray
    split: str
    description: str
    redrawn: int = 0

    def __len__(self) -> int:
        return len(self.secrets)

    def __iter__(self):  # secrets, covers = pair_set(...) works as with a tuple
        return iter((self.secrets, self.covers))

    @property
    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """(secret source, cover source) per pair: the two factors of :func:`utils.metrics.bootstrap_ci`."""
        return self.secret_ids, self.cover_ids

    def subset(self, mask) -> "PairSet":
        """The pairs where ``mask`` (boolean array, or indices) holds."""
        index = np.arange(len(self))[mask]
        return PairSet(self.secrets[index], self.covers[index], self.secret_ids[index], self.cover_ids[index],
                       self.secret_frames[index], self.modalities[index], self.split,
                       f"{len(index)} of: {self.description}")


def _check_size(size, n) -> None:
    if int(size) < 1 or (n is not None and int(n) < 1):
        raise ValueError(f"size and n must be at least 1 (an evaluation set of {n} images of {size} pixels "
                         f"would be empty), got size={size!r}, n={n!r}")


def pair_set(split: str = "test", secrets: str = "medical", size: int = 64, n: int | None = None,
             channels: int | None = None, modality: str | None = None, seed: int = EVAL_SEED,
             data="auto", shorter_side: int = 256, content: bool = False, mode: str = "patch") -> PairSet:
    """Evaluation (or validation) pairs, balanced over source images.

    Every secret source of the split gets an equal share of the ``n`` pairs (``n`` defaults to 16 per
    source, at least 64); a multi-frame source spreads its share evenly over its frames, so that every
    frame appears once the share allows. Covers are natural photographs of the same split, taken in turn;
    a pair never uses one image as both secret and cover. Patch positions come from ``seed``, so the same
    arguments give the same pairs on any machine.

    Args:
        split: ``"test"`` (final numbers) or ``"val"`` (monitoring); ``"train"`` is allowed for checks.
        secrets: ``"medical"`` or ``"natural"``.
        size: patch side.
        n: number of pairs.
        channels: secret channels, 1 (grey) or 3 (RGB); default 1 for medical, 3 for natural secrets.
        modality: keep only secrets of this modality.
        seed: seed of the patch positions.
        data: see :func:`utils.data.sources` (``"auto"``: real datasets when present).
        shorter_side: each image is resized to this shorter side first.
        content: apply the content rule of :mod:`utils.data.content` to the secrets: a secret patch of
            background is redrawn elsewhere in its frame (the covers, photographs, are left as drawn).
        mode: ``"patch"`` (secrets are patches) or ``"whole"``: each secret is its whole frame's centre
            square resized to ``size`` (:func:`square_image`), the image a clinician would look at; the
            covers are the same patches as in the patch set of the same arguments.
    """
    _check_size(size, n)
    if mode not in ("patch", "whole"):
        raise ValueError(f"mode must be 'patch' or 'whole', got {mode!r}")
    if secrets not in ("natural", "medical"):
        raise ValueError(f"secrets must be 'natural' or 'medical', got {secrets!r}")
    channels = (1 if secrets == "medical" else 3) if channels is None else channels
    secret_sources, secret_text = sources(secrets, split, modality, data)
    cover_sources, cover_text = sources("natural", split, None, data)
    if not secret_sources:
        raise ValueError(f"no {split} {secrets} images of modality {modality!r}; see utils.data.sample_table()")
    n = max(64, 16 * len(secret_sources)) if n is None else int(n)
    rng = np.random.default_rng(seed)
    secret_out = np.empty((n, size, size, channels), np.float32)
    cover_out = np.empty((n, size, size, 3), np.float32)
    sid, cid, frames, mods = [], [], [], []
    cutter = _ContentCutter(seed, content and mode == "patch")
    i = 0
    for source, quota in zip(secret_sources, _quotas(n, len(secret_sources))):
        stack = resized_frames(source, shorter_side, size) if mode == "patch" else frames_of(source)
        for f in _spread(quota, len(stack)):
            choices = [c for c in cover_sources if c.id != source.id]
            cover = choices[i % len(choices)]
            ry, rx = rng.random(), rng.random()  # drawn in both modes, so that the covers are the same
            secret_out[i] = (cutter.cut(source, stack, shorter_side, f, size, channels, ry, rx, i) if mode == "patch"
                             else square_image(stack[f], size, channels=channels))
            cover_out[i] = _cut(resized_frames(cover, shorter_side, size)[0], size, 3, rng.random(), rng.random())
            sid.append(source.id), cid.append(cover.id), frames.append(f), mods.append(source.modality)
            i += 1
    n_covers = len(set(cid))
    kind = "" if mode == "patch" else "whole-image "
    description = (f"{n} {split} pairs of {size}x{size}: {kind}secrets from {len(secret_sources)} source images "
                   f"({len(set(mods))} modalities), covers from {n_covers} photographs -- secrets: {secret_text}; "
                   f"covers: {cover_text}{cutter.sentence(n)}")
    return PairSet(secret_out, cover_out, np.array(sid), np.array(cid), np.array(frames), np.array(mods), split,
                   description, cutter.redrawn)


@dataclass
class ImageSet:
    """Grey images for the ciphers (notebooks 05-09), with the source of each image.

    Attributes:
        images: float32 (N, size, size) in [0, 1].
        ids, frames, modalities: the source, frame and modality of each image.
        split, description, redrawn: as in :class:`PairSet`.
    """

    images: np.ndarray
    ids: np.ndarray
    frames: np.ndarray
    modalities: np.ndarray
    split: str
    description: str
    redrawn: int = 0

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, mask) -> "ImageSet":
        index = np.arange(len(self))[mask]
        return ImageSet(self.images[index], self.ids[index], self.frames[index], self.modalities[index], self.split,
                        f"{len(index)} of: {self.description}")


def image_set(split: str = "test", size: int = 64, n: int | None = None, kind: str = "medical",
              modality: str | None = None, mode: str = "patch", seed: int = EVAL_SEED, data="auto",
              shorter_side: int = 256, content: bool = False) -> ImageSet:
    """Grey images of one split, balanced over sources (the plaintexts of the ciphers).

    ``mode="patch"``: ``n`` patches (default 16 per source, at least 64), shares and frames as in
    :func:`pair_set`. ``mode="whole"``: each frame's centre square resized to ``size`` (:func:`square_image`),
    frames spread over the shares in the same way; ``n`` defaults to one per frame of every source.
    ``content=True`` applies the content rule of :mod:`utils.data.content` to the patches (a patch of
    background is redrawn elsewhere in its frame); a whole image is always kept.
    """
    _check_size(size, n)
    if mode not in ("patch", "whole"):
        raise ValueError(f"mode must be 'patch' or 'whole', got {mode!r}")
    found, text = sources(kind, split, modality, data)
    if not found:
        raise ValueError(f"no {split} {kind} images of modality {modality!r}; see utils.data.sample_table()")
    if n is None:
        n = max(64, 16 * len(found)) if mode == "patch" else sum(_frame_count(s) for s in found)
    rng = np.random.default_rng(seed)
    out = np.empty((int(n), size, size), np.float32)
    ids, frames, mods = [], [], []
    cutter = _ContentCutter(seed, content and mode == "patch")
    i = 0
    for source, quota in zip(found, _quotas(int(n), len(found))):
        stack = resized_frames(source, shorter_side, size) if mode == "patch" else frames_of(source)
        for f in _spread(quota, len(stack)):
            if mode == "patch":
                out[i] = cutter.cut(source, stack, shorter_side, f, size, 1, rng.random(), rng.random(), i)[..., 0]
            else:
                out[i] = square_image(stack[f], size, channels=1)[..., 0]
            ids.append(source.id), frames.append(f), mods.append(source.modality)
            i += 1
    description = (f"{n} {split} {kind} images of {size}x{size} ({'patches' if mode == 'patch' else 'whole images'}) "
                   f"from {len(found)} source images ({len(set(mods))} modalities) -- {text}"
                   + cutter.sentence(int(n)))
    return ImageSet(out, np.array(ids), np.array(frames), np.array(mods), split, description, cutter.redrawn)


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
