"""Loaders for the real datasets of the seeds, read from disk when present.

None of these datasets ships with the course (licences and sizes forbid it). ``data/README.md`` says where
each one lives, its licence and the folder layout the loader expects. The data root is, in order: the
``root`` argument, the ``MEDSTEGO_DATA`` environment variable, or the course's ``data/`` folder.

When a dataset is absent, :class:`DatasetNotFoundError` names the folder it looked in and the README
section; :func:`images_or_samples` turns that into a fallback on the offline sample corpus.
"""

from __future__ import annotations

import os
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .corpus import _to_unit_float, load_sample

__all__ = [
    "DatasetSpec", "DATASETS", "DatasetNotFoundError", "data_root", "dataset_names", "dataset_root",
    "dataset_files", "dataset_status", "iter_dataset", "load_dicom_series", "load_nifti", "images_or_samples",
]


class DatasetNotFoundError(FileNotFoundError):
    """A real dataset is not on disk (or not in the expected layout)."""


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset lives under the data root and how to read it.

    Attributes:
        name: the key used in code.
        title: the name in data/README.md (also the section heading there).
        modality: as in :data:`utils.data.MODALITIES`.
        folder: sub-folder of the data root.
        patterns: glob patterns relative to the folder, for the image files (or the NIfTI volumes).
        exclude: file-name fragments that mark non-images (masks, ground truth).
        reader: ``"image"`` (PNG/TIFF/JPEG/GIF via imageio), ``"dicom_series"`` or ``"nifti"``.
    """

    name: str
    title: str
    modality: str
    folder: str
    patterns: tuple[str, ...]
    exclude: tuple[str, ...]
    reader: str


DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DatasetSpec("ucsb_bioseg", "UCSB Bio-Segmentation Benchmark", "histology", "ucsb_bioseg",
                ("breast_cancer_cells/*.tif", "breast_cancer_cells/*.png", "nuclei_2d/*.tif", "nuclei_2d/*.png",
                 "nuclei_2d/*.jpg"), ("_ccd", "_mask", "_gt", "label"), "image"),
    DatasetSpec("drive", "DRIVE", "retina", "DRIVE", ("training/images/*.tif", "test/images/*.tif"), (), "image"),
    DatasetSpec("ultrasound_nerve", "Kaggle Ultrasound Nerve Segmentation", "ultrasound",
                "ultrasound-nerve-segmentation", ("train/*.tif", "test/*.tif"), ("_mask",), "image"),
    DatasetSpec("phantom_fda", "TCIA Phantom FDA", "ct", "phantom_fda", ("**/*.dcm",), (), "dicom_series"),
    DatasetSpec("cptac_cm", "TCIA CPTAC-CM", "mr", "cptac_cm", ("**/*.dcm",), (), "dicom_series"),
    DatasetSpec("chestxray14", "NIH ChestX-ray14", "xray", "chestxray14", ("images*/**/*.png",),
                (), "image"),
    DatasetSpec("brats", "BraTS", "mr", "brats", ("*/*_flair.nii.gz", "*/*_flair.nii"), (), "nifti"),
    DatasetSpec("ntu_covers", "NTU semantic segmentation benchmark (covers)", "natural", "ntu_covers",
                ("**/*.jpg", "**/*.jpeg", "**/*.png", "**/*.bmp"), ("_gt", "_mask", "label"), "image"),
)}


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding the real datasets: ``root``, else $MEDSTEGO_DATA, else the course's data/."""
    if root is not None:
        return Path(root)
    if os.environ.get("MEDSTEGO_DATA"):
        return Path(os.environ["MEDSTEGO_DATA"])
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").exists():  # a clone of the course (editable install)
        return checkout / "data"
    return Path.cwd() / "data"  # an installed copy (Colab): data/ beside the notebook


def dataset_names() -> list[str]:
    """The keys of the real datasets the loaders know."""
    return list(DATASETS)


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def dataset_root(name: str, root: str | os.PathLike | None = None) -> Path:
    """The dataset's folder, or DatasetNotFoundError naming the folder and the data/README.md section."""
    spec = _spec(name)
    folder = data_root(root) / spec.folder
    if not folder.is_dir():
        raise DatasetNotFoundError(
            f"dataset {name!r} ({spec.title}) not found: no folder {folder}. Download it and lay it out as "
            f"data/README.md, section '{spec.title}', describes (or set MEDSTEGO_DATA to the folder that holds "
            f"'{spec.folder}'). Notebooks fall back to the offline sample corpus.")
    return folder


def dataset_files(name: str, root: str | os.PathLike | None = None) -> list[Path]:
    """The dataset's image (or volume) files in sorted order, masks and ground truth left out."""
    spec = _spec(name)
    folder = dataset_root(name, root)
    files = set()
    for pattern in spec.patterns:
        for path in folder.glob(pattern):
            if path.is_file() and not any(token in path.stem.lower() for token in spec.exclude):
                files.add(path)
    if not files:
        raise DatasetNotFoundError(
            f"dataset {name!r} ({spec.title}): folder {folder} exists but holds no files matching "
            f"{', '.join(spec.patterns)}; see data/README.md, section '{spec.title}', for the layout.")
    return sorted(files)


def dataset_status(root: str | os.PathLike | None = None) -> list[dict]:
    """One row per dataset: name, title, folder, and whether (and how many files) it is on disk."""
    rows = []
    for name, spec in DATASETS.items():
        try:
            count = len(dataset_files(name, root))
        except DatasetNotFoundError:
            count = 0
        rows.append({"name": name, "title": spec.title, "folder": spec.folder, "present": count > 0, "files": count})
    return rows


def _window_volume(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Percentile window (0.5-99.5, over ``mask`` when given) of a volume to float32 [0, 1]."""
    sample = values[mask] if mask is not None and mask.any() else values
    lo, hi = np.percentile(sample, [0.5, 99.5])
    hi = hi if hi > lo else lo + 1.0
    return np.clip((values - lo) / (hi - lo), 0, 1).astype(np.float32)


def load_dicom_series(folder: str | os.PathLike) -> list[tuple[np.ndarray, dict]]:
    """Read every DICOM series below ``folder`` as a volume.

    Files are grouped by SeriesInstanceUID and ordered along the slice normal (ImagePositionPatient and
    ImageOrientationPatient), or by InstanceNumber when geometry is missing. A series is windowed as one
    volume, with its first file's window (or the 0.5-99.5 percentile of the whole series).

    Returns:
        a list of ``(volume, info)``: volume float32 (slices, H, W) in [0, 1]; info with the series UID,
        the header's Modality (``dicom_modality``), file count, slice order used and window.

    Burned-in text located from a file's header is blacked out (:mod:`utils.data.burned_in`); a file whose
    header announces text that nothing locates (a dose report, a screen capture) is skipped with a warning
    that names it.

    Raises:
        DicomError: a file in the folder cannot be read (the message names it).
        DatasetNotFoundError: no DICOM file below the folder.
    """
    from .burned_in import clean, locate
    from .dicom import _decode, _open, to_unit_range

    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".dcm", ""))
    series: dict[str, list] = defaultdict(list)
    for path in files:
        if path.suffix == "" and path.name.upper() == "DICOMDIR":
            continue
        ds = _open(path)
        found = locate(ds)
        if found.status == "unlocated":
            warnings.warn(f"{path}: skipped, {'; '.join(found.rules)} and no filter locates the text "
                          "(see utils.data.burned_in)", stacklevel=2)
            continue
        series[str(ds.get("SeriesInstanceUID", "unknown"))].append((path, ds, found))
    if not series:
        raise DatasetNotFoundError(f"no DICOM files below {folder}")
    out = []
    for uid, members in series.items():
        def position(item):
            _, ds, _ = item
            if "ImagePositionPatient" in ds and "ImageOrientationPatient" in ds:
                row, col = np.array(ds.ImageOrientationPatient[:3], float), np.array(ds.ImageOrientationPatient[3:], float)
                return float(np.dot(np.cross(row, col), np.array(ds.ImagePositionPatient, float)))
            return float(ds.get("InstanceNumber", 0) or 0)

        members.sort(key=position)
        order = "position" if all("ImagePositionPatient" in ds for _, ds, _ in members) else "InstanceNumber"
        slices = [_decode(ds, path) for path, ds, _ in members]
        shapes = {s.shape for s in slices}
        if len(shapes) != 1:
            raise ValueError(f"series {uid} in {folder} mixes slice shapes {sorted(shapes)}; split it before loading")
        volume, details = to_unit_range(members[0][1], np.stack(slices))
        colour = volume.ndim == 4
        volume = np.stack([clean(v, found, path, colour=colour)  # on [0, 1], where 0 is black, as read_dicom does
                           for v, (path, _, found) in zip(volume, members)])
        out.append((volume, {"series_uid": uid, "dicom_modality": str(members[0][1].get("Modality", "")),
                             "files": len(members), "order": order, "window": details.get("window")}))
    return out


def load_nifti(path: str | os.PathLike) -> tuple[np.ndarray, dict]:
    """A NIfTI volume (BraTS) as float32 (slices, H, W) in [0, 1], axial slices first.

    Windowed with the 0.5-99.5 percentiles of the non-zero voxels (the brain, not the background).
    """
    import nibabel as nib

    path = Path(path)
    try:
        image = nib.load(str(path))
        data = np.asarray(image.dataobj, dtype=np.float32)
    except Exception as exc:  # nibabel raises many kinds for broken files
        raise ValueError(f"{path}: cannot read as NIfTI: {exc}") from exc
    if data.ndim != 3:
        raise ValueError(f"{path}: expected a 3-D volume, got shape {data.shape}")
    volume = np.transpose(data, (2, 1, 0))[:, ::-1, :]  # (z, y, x), rows from anterior to posterior
    return np.ascontiguousarray(_window_volume(volume, volume != 0)), {"file": path.name, "shape": data.shape}


def iter_dataset(name: str, root: str | os.PathLike | None = None, limit: int | None = None,
                 slice_step: int = 1) -> Iterator[tuple[np.ndarray, dict]]:
    """Yield ``(image, info)`` pairs of a real dataset: float32 [0, 1], (H, W) or (H, W, 3).

    Image datasets give one image per file; DICOM series and NIfTI volumes give their slices (every
    ``slice_step``-th; for NIfTI only slices that are not empty). ``limit`` caps how many are yielded.
    """
    import imageio.v3 as iio

    spec = _spec(name)
    files = dataset_files(name, root)
    produced = 0

    def emit(image, info):
        nonlocal produced
        produced += 1
        return image, {"dataset": name, "modality": spec.modality, **info}

    if spec.reader == "dicom_series":
        for volume, info in load_dicom_series(dataset_root(name, root)):
            for z in range(0, len(volume), slice_step):
                if limit is not None and produced >= limit:
                    return
                yield emit(volume[z], {**info, "slice": z})
        return
    for path in files:
        if limit is not None and produced >= limit:
            return
        if spec.reader == "nifti":
            volume, info = load_nifti(path)
            for z in range(0, len(volume), slice_step):
                if limit is not None and produced >= limit:
                    return
                if volume[z].max() > 0:
                    yield emit(volume[z], {**info, "slice": z})
            continue
        try:
            raw = iio.imread(path)
        except Exception as exc:
            raise ValueError(f"{path}: cannot read as an image: {exc}") from exc
        yield emit(_to_unit_float(raw), {"file": str(path.relative_to(dataset_root(name, root)))})


def images_or_samples(name: str, samples: list[str], limit: int | None = None,
                      root: str | os.PathLike | None = None) -> tuple[list[tuple[np.ndarray, dict]], str]:
    """Images of a real dataset when it is on disk, else of the named corpus samples.

    Returns:
        (images, source): a list of (image, info) and a sentence saying which source was used; for the
        fallback, the reason follows after `` -- ``.
    """
    try:
        images = list(iter_dataset(name, root, limit=limit))
        return images, f"real dataset {DATASETS[name].title}: {len(images)} images"
    except DatasetNotFoundError as exc:
        images = [load_sample(s) for s in samples][:limit]
        return images, f"offline sample corpus ({', '.join(samples)}) -- {exc}"
