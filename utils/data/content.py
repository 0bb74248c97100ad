"""Which patches carry content: the rule the evaluation sets use to leave out background.

A 64x64 patch cut at a random place of a medical image is often background: the air around a CT, the black
outside an ultrasound sector (or a banner blacked out by :mod:`utils.data.burned_in`), the glass between
cells, the dark border of a fundus photograph. Such a patch is easy to hide, to reconstruct and to attack,
so it lifts every mean, and it is not what a clinician looks at.

The rule, the same for every method and every modality:

1. **Background level.** Where an image has a background (the air around a CT or MR, the black outside an
   ultrasound sector, the glass of a bright-field slide), it is the image's most frequent grey level and
   it sits at an end of the scale: the mode of a 64-bin histogram of the frame (luma for colour) is taken
   as the background when it lies within :data:`EXTREME` (0.15) of black or of white. A mode in the middle
   of the scale is tissue filling the frame (a fundus crop, a CT slice cut inside the body), and the frame
   has no background.
2. **Nearly flat patches are out.** A patch whose standard deviation is below :data:`FLAT_STD` (0.02 on
   the [0, 1] scale, about 5 grey levels of 255) holds no structure that a reader would look at, whatever
   its level: the empty field between cells, a uniform stretch of film.
3. **Textured patches are in.** A patch whose standard deviation is at least :data:`TEXTURE_STD` (0.05)
   shows edges or texture, whatever its level (an organ's border against air included).
4. **Between the two, the background decides.** A low-contrast patch is kept when at least half of its
   pixels (:data:`MIN_FOREGROUND`) lie farther than :data:`BACKGROUND_TOLERANCE` (0.05) from the background
   level, so rejected when more than half lie within it: smooth tissue is kept, a stretch of background
   with noise is not. A frame without a background keeps every such patch. A pure standard-deviation
   threshold at 0.05 would throw away almost every fundus patch (their contrast is low).

:func:`carries_content` applies the rule to one patch; :func:`rejected_share` measures how much of a source
it rejects (notebook 00 prints it for every test source).
"""

from __future__ import annotations

import numpy as np

__all__ = ["EXTREME", "FLAT_STD", "TEXTURE_STD", "BACKGROUND_TOLERANCE", "MIN_FOREGROUND", "CONTENT_TRIES",
           "background_level", "carries_content", "rejected_share"]

#: A histogram mode this close to black or white is a background; a mode in between is tissue.
EXTREME = 0.15
#: Below this standard deviation (on [0, 1]) a patch is nearly flat, whatever its level.
FLAT_STD = 0.02
#: At or above this standard deviation a patch is textured and kept, whatever its level.
TEXTURE_STD = 0.05
#: A pixel within this distance of the background level counts as background.
BACKGROUND_TOLERANCE = 0.05
#: Share of a low-contrast patch's pixels that must differ from the background.
MIN_FOREGROUND = 0.5
#: Positions tried for one patch before the set gives up on the rule for it (and says so).
CONTENT_TRIES = 64


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, np.float32)
    if image.ndim == 3 and image.shape[-1] == 3:
        return image @ np.array([0.299, 0.587, 0.114], np.float32)
    if image.ndim == 3 and image.shape[-1] == 1:
        return image[..., 0]
    if image.ndim != 2:
        raise ValueError(f"expected an (H, W), (H, W, 1) or (H, W, 3) image, got shape {image.shape}")
    return image


def background_level(frame: np.ndarray) -> float | None:
    """The background grey level of a frame, or None when it has none (see the module's docstring).

    The centre of the fullest bin of a 64-bin histogram on [0, 1], when it lies within :data:`EXTREME` of 0
    or 1.
    """
    counts, edges = np.histogram(np.clip(_grey(frame), 0, 1), bins=64, range=(0.0, 1.0))
    k = int(np.argmax(counts))
    level = float((edges[k] + edges[k + 1]) / 2)
    return level if min(level, 1 - level) <= EXTREME else None


def carries_content(patch: np.ndarray, background: float | None) -> bool:
    """Whether a patch passes the content rule (see the module's docstring) given its frame's background."""
    grey = _grey(patch)
    spread = float(grey.std())
    if spread < FLAT_STD:
        return False
    if spread >= TEXTURE_STD or background is None:
        return True
    return float(np.mean(np.abs(grey - background) > BACKGROUND_TOLERANCE)) >= MIN_FOREGROUND


def rejected_share(frames: np.ndarray, size: int, draws: int = 400, seed: int = 0) -> float:
    """Share of patches at uniformly random frames and positions that the rule rejects.

    Args:
        frames: (F, H, W[, C]) float frames in [0, 1], as :func:`utils.data.sources.resized_frames` gives.
        size: patch side.
        draws: how many random patches to test.
        seed: seed of the positions.
    """
    frames = np.asarray(frames)
    if frames.ndim < 3 or min(frames.shape[1:3]) < size:
        raise ValueError(f"frames of shape {frames.shape} cannot hold {size}x{size} patches")
    if int(draws) < 1:
        raise ValueError(f"draws must be at least 1, got {draws!r}")
    rng = np.random.default_rng(seed)
    levels = [background_level(f) for f in frames]
    h, w = frames.shape[1:3]
    rejected = 0
    for _ in range(int(draws)):
        f = int(rng.integers(len(frames)))
        y, x = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
        rejected += not carries_content(frames[f, y:y + size, x:x + size], levels[f])
    return rejected / int(draws)
