"""Source images, split by source: the offline corpus, or a real dataset when it is on disk.

A :class:`Source` is one source file (or one series / volume / subject of a real dataset) with all its
frames or slices. Training, validation and test sets are made of *sources*, never of patches: every patch
of a test set comes from a source that no training patch came from (the evaluation protocol of the course).

* Corpus images carry their split (:data:`utils.data.SAMPLES`).
* Real datasets (``data/README.md``) are split by group: a patient, a volume or a series folder. Groups are
  ordered by a hash of their name, and the first 10 % (at least one) go to ``test``, the next 10 % (at
  least one) to ``val``, the rest to ``train``. The split depends only on the names, so it is the same on
  every machine and does not change when files are added to other groups.

:func:`sources` chooses: ``data="auto"`` takes the real datasets of that kind of image when any is on
disk, else the corpus; ``data="corpus"`` the corpus only; a dataset name (or a list) those datasets only.
It returns the sources and a sentence saying what was used, which the notebooks print.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpus import SPLITS, _get, load_sample, sample_names

__all__ = ["Source", "sources", "corpus_source", "dataset_sources", "frames_of", "resized_frames"]

_REAL_FRACTIONS = {"test": 0.1, "val": 0.1}


@dataclass(frozen=True)
class Source:
    """One source image (all its frames): where it comes from, what it shows, which split it is in.

    Attributes:
        id: unique name: the corpus name (``"chest_xray"``), or ``"<dataset>:<group>"``.
        modality: a key of :data:`utils.data.MODALITIES`.
        kind: ``"medical"`` or ``"natural"``.
        split: ``"train"``, ``"val"`` or ``"test"``.
        origin: ``"corpus"`` or the dataset's name.
        files: for real datasets, the files of the group (paths as strings); empty for the corpus.
    """

    id: str
    modality: str
    kind: str
    split: str
    origin: str = "corpus"
    files: tuple[str, ...] = ()

    def frames(self) -> np.ndarray:
        """All frames as float32 (F, H, W) or (F, H, W, 3) in [0, 1] (a single image has F = 1)."""
        return frames_of(self)


def corpus_source(name: str) -> Source:
    """The :class:`Source` of a corpus image."""
    sample = _get(name)
    return Source(sample.name, sample.modality, sample.kind, sample.split)


def _group_key(dataset: str, path: Path, root: Path) -> str:
    """The unit of splitting of a real dataset's file: its patient, volume or series folder."""
    rel = path.relative_to(root)
    if dataset == "chestxray14":  # <patient>_<follow-up>.png: all follow-ups of a patient together
        return path.stem.split("_")[0]
    if dataset == "ultrasound_nerve" and rel.parts[0] == "train":  # <subject>_<image>.tif
        return "subject-" + path.stem.split("_")[0]
    if dataset == "brats":  # <case>/<case>_flair.nii.gz
        return rel.parts[0]
    if dataset in ("phantom_fda", "cptac_cm"):  # <subject>/<study>/<series>/files
        return rel.parts[0]
    return str(rel.with_suffix(""))


def _hash_order(keys) -> list[str]:
    return sorted(keys, key=lambda k: hashlib.sha256(k.encode()).hexdigest())


def _split_groups(keys: list[str]) -> dict[str, str]:
    """Group -> split: test and val take 10 % each (at least one group each), train the rest."""
    ordered = _hash_order(keys)
    if len(ordered) < 3:
        raise ValueError(f"{len(ordered)} group(s) cannot be split three ways (train, val, test)")
    n_test = max(1, round(len(ordered) * _REAL_FRACTIONS["test"]))
    n_val = max(1, round(len(ordered) * _REAL_FRACTIONS["val"]))
    return {k: ("test" if i < n_test else "val" if i < n_test + n_val else "train") for i, k in enumerate(ordered)}


def dataset_sources(name: str, root=None) -> list[Source]:
    """Every group of a real dataset as a :class:`Source` with its split (raises DatasetNotFoundError)."""
    from .datasets import DATASETS, dataset_files, dataset_root

    spec = DATASETS[name]
    folder = dataset_root(name, root)
    groups: dict[str, list[str]] = {}
    for path in dataset_files(name, root):
        groups.setdefault(_group_key(name, path, folder), []).append(str(path))
    splits = _split_groups(list(groups))
    kind = "natural" if spec.modality == "natural" else "medical"
    return [Source(f"{name}:{key}", spec.modality, kind, splits[key], name, tuple(files))
            for key, files in sorted(groups.items())]


def sources(kind: str, split: str, modality: str | None = None, data="auto", root=None) -> tuple[list[Source], str]:
    """The sources of one kind (``"medical"`` / ``"natural"``) in one split, and a sentence saying which.

    Args:
        kind: ``"medical"`` (secrets, plaintexts) or ``"natural"`` (covers).
        split: ``"train"``, ``"val"`` or ``"test"``.
        modality: keep only this modality (a key of :data:`utils.data.MODALITIES`).
        data: ``"auto"`` (real datasets of this kind when present, else the corpus), ``"corpus"``, or a
            dataset name or list of names (``"chestxray14"``, ...) that must be present.
        root: the data folder (default: $MEDSTEGO_DATA or the course's ``data/``).
    """
    from .datasets import DATASETS, DatasetNotFoundError

    if kind not in ("medical", "natural"):
        raise ValueError(f"kind must be 'medical' or 'natural', got {kind!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if data == "corpus":
        names = sample_names(kind=kind, split=split, modality=modality)
        found = [corpus_source(n) for n in names]
        return found, f"offline corpus: {len(found)} {split} source images ({kind})"
    if data == "auto":
        wanted = [n for n, s in DATASETS.items() if (s.modality == "natural") == (kind == "natural")
                  and (modality is None or s.modality == modality)]
        required = False
    else:
        wanted = [data] if isinstance(data, str) else list(data)
        unknown = [n for n in wanted if n not in DATASETS]
        if unknown:
            raise KeyError(f"unknown dataset(s) {unknown}; known: {', '.join(DATASETS)}, or 'corpus' / 'auto'")
        required = True
    found, used, reasons = [], [], []
    for name in wanted:
        try:
            members = [s for s in dataset_sources(name, root) if s.split == split
                       and (modality is None or s.modality == modality)]
        except (DatasetNotFoundError, ValueError) as exc:
            if required:
                raise
            reasons.append(str(exc).split(". ")[0])
            continue
        found += members
        used.append(f"{DATASETS[name].title} ({len(members)} {split} groups)")
    if found:
        return found, "real data: " + ", ".join(used)
    if required:
        raise ValueError(f"no {split} sources of {kind} images in {wanted}")
    corpus, text = sources(kind, split, modality, "corpus")
    return corpus, text + " (no real dataset of this kind on disk; see data/README.md)"


@functools.lru_cache(maxsize=8)
def _frames_cached(source: Source) -> np.ndarray:
    if source.origin == "corpus":
        image, _ = load_sample(source.id, frame="all" if _n_frames(source.id) > 1 else None)
        frames = image if _n_frames(source.id) > 1 else image[None]
    else:
        frames = _dataset_frames(source)
    frames = np.ascontiguousarray(frames, dtype=np.float32)
    frames.setflags(write=False)
    return frames


@functools.lru_cache(maxsize=None)
def _n_frames(name: str) -> int:
    return int(load_sample(name)[1].get("n_frames", 1))


def _dataset_frames(source: Source) -> np.ndarray:
    """Frames of a real-dataset group: one per image file, every non-empty slice of a volume or series."""
    import imageio.v3 as iio

    from .corpus import _to_unit_float
    from .datasets import DATASETS, load_dicom_series, load_nifti

    reader = DATASETS[source.origin].reader
    images = []
    for file in source.files:
        path = Path(file)
        if reader == "nifti":
            volume, _ = load_nifti(path)
            images += [s for s in volume if s.max() > 0]
        elif reader == "dicom_series":
            continue
        else:
            try:
                images.append(_to_unit_float(iio.imread(path)))
            except Exception as exc:
                raise ValueError(f"{path}: cannot read as an image: {exc}") from exc
    if reader == "dicom_series":
        for volume, _ in load_dicom_series(_common_folder(source.files)):
            images += list(volume)
    shapes = {im.shape for im in images}
    if len(shapes) > 1:  # files of one group differ in size: bring them to the first one's size
        from skimage.transform import resize

        first = images[0].shape
        images = [im if im.shape == first else resize(im, first, preserve_range=True).astype(np.float32)
                  for im in images]
    if not images:
        raise ValueError(f"{source.id}: no images in {len(source.files)} file(s)")
    return np.stack(images)


def _common_folder(files) -> str:
    import os

    return os.path.commonpath([str(Path(f).parent) for f in files])


def frames_of(source: Source) -> np.ndarray:
    """All frames of a source, float32 (F, H, W[, 3]) in [0, 1] (read-only; cached for a few sources)."""
    return _frames_cached(source)


@functools.lru_cache(maxsize=48)
def resized_frames(source: Source, shorter_side: int | None, min_side: int) -> np.ndarray:
    """All frames resized so that the shorter side is ``shorter_side`` (at least ``min_side``); read-only.

    ``shorter_side=None`` keeps the native size (only enlarging to ``min_side`` when smaller).
    """
    from skimage.transform import resize

    frames = frames_of(source)
    h, w = frames.shape[1:3]
    target = max(shorter_side if shorter_side is not None else min(h, w), min_side)
    if target != min(h, w):
        scale = target / min(h, w)
        shape = (max(min_side, round(h * scale)), max(min_side, round(w * scale))) + frames.shape[3:]
        frames = np.stack([resize(f, shape, order=1, anti_aliasing=scale < 1, preserve_range=True) for f in frames])
    out = np.clip(frames, 0, 1).astype(np.float32)
    out.setflags(write=False)
    return out
