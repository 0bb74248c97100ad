"""The offline sample corpus: real medical and natural images that ship inside PyPI packages.

Nothing here touches the network. The DICOM files come from ``pydicom`` and ``pydicom-data``; fundus,
histology, microscopy and phantom images from ``scikit-image``; fluorescence nuclei and two photographs
from ``mahotas``; natural colour photographs (the covers) from ``scikit-image``, ``scikit-learn`` and
``matplotlib``.

Every image has a fixed split: ``train`` images may be cut into training patches, ``heldout`` images
never are, so every notebook evaluates on images that training never saw. Each medical modality has at
least one held-out image; modalities with a single image (nuclear medicine, phantom, histology) are
held out entirely, which makes them a test of generalisation to an unseen modality.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Sample", "SAMPLES", "MODALITIES", "sample_names", "sample_table", "sample_path", "load_sample"]


@dataclass(frozen=True)
class Sample:
    """One image of the corpus: where it ships, what it shows, and which split it belongs to."""

    name: str
    modality: str
    package: str
    file: str
    split: str
    description: str

    @property
    def kind(self) -> str:
        """``"natural"`` for cover photographs, ``"medical"`` for everything else."""
        return "natural" if self.modality == "natural" else "medical"

    @property
    def is_dicom(self) -> bool:
        return self.file.lower().endswith(".dcm")


#: Display names of the modalities, in the order figures and tables use.
MODALITIES = {
    "xray": "X-ray (computed radiography)",
    "ct": "CT",
    "mr": "MR",
    "ultrasound": "ultrasound",
    "nuclear": "nuclear medicine",
    "retina": "fundus retina",
    "histology": "histology (IHC)",
    "microscopy": "microscopy",
    "phantom": "phantom",
    "natural": "natural photograph (cover)",
}

_S = Sample
SAMPLES: tuple[Sample, ...] = (
    _S("chest_xray", "xray", "pydicom-data", "RG1_UNCR.dcm", "train",
       "chest radiograph, CR, MONOCHROME1, 15-bit, 1955x1841"),
    _S("extremity_xray", "xray", "pydicom-data", "RG3_UNCR.dcm", "heldout",
       "lower-leg radiograph (non-ossifying fibroma), CR, MONOCHROME1, 10-bit"),
    _S("head_ct", "ct", "pydicom-data", "693_UNCR.dcm", "train", "head CT, 512x512, rescale to HU"),
    _S("small_ct", "ct", "pydicom", "CT_small.dcm", "heldout", "CT slice, 128x128, rescale to HU"),
    _S("shoulder_mr", "mr", "pydicom-data", "MR2_UNCR.dcm", "train", "shoulder MR, 1024x1024, 12-bit"),
    _S("abdomen_mr", "mr", "pydicom-data", "MR-SIEMENS-DICOM-WithOverlays.dcm", "heldout",
       "abdominal (liver) MR, 484x484, with overlays"),
    _S("head_mr_cine", "mr", "pydicom-data", "emri_small.dcm", "train", "head MR, 10 frames of 64x64"),
    _S("small_mr", "mr", "pydicom", "MR_small.dcm", "train", "MR slice, 64x64, signed 16-bit"),
    _S("obstetric_us", "ultrasound", "pydicom-data", "OBXXXX1A.dcm", "train",
       "obstetric ultrasound, PALETTE COLOR, 800x600"),
    _S("doppler_us", "ultrasound", "pydicom-data", "US1_UNCR.dcm", "heldout", "colour Doppler ultrasound, RGB, 640x480"),
    _S("aloka_us", "ultrasound", "pydicom-data", "gdcm-US-ALOKA-16.dcm", "train",
       "ultrasound, 16-bit PALETTE COLOR, 640x480"),
    _S("echocardiogram", "ultrasound", "pydicom-data", "color3d_jpeg_baseline.dcm", "train",
       "echocardiogram cine, 120 frames, JPEG baseline YBR"),
    _S("bone_scan", "nuclear", "pydicom-data", "JPEG2000_UNC.dcm", "heldout",
       "whole-body bone scintigraphy, 1024x256, 16-bit"),
    _S("retina", "retina", "scikit-image", "retina.jpg", "train", "colour fundus photograph, 1411x1411"),
    _S("microaneurysms", "retina", "scikit-image", "microaneurysms.png", "heldout",
       "fundus detail with microaneurysms, grey, 102x102"),
    _S("ihc", "histology", "scikit-image", "ihc.png", "heldout",
       "immunohistochemistry (DAB + haematoxylin) colon tissue, 512x512"),
    _S("nuclei", "microscopy", "mahotas", "demos/data/nuclear.png", "train",
       "fluorescence microscopy, DNA-stained nuclei, 1024x1344"),
    _S("cell", "microscopy", "scikit-image", "cell.png", "heldout", "phase-contrast cell, grey, 660x550"),
    _S("phantom", "phantom", "scikit-image", "phantom.png", "heldout", "Shepp-Logan head phantom, 400x400"),
    _S("astronaut", "natural", "scikit-image", "astronaut.png", "train", "astronaut Eileen Collins, 512x512"),
    _S("chelsea", "natural", "scikit-image", "chelsea.png", "train", "a cat, 451x300"),
    _S("rocket", "natural", "scikit-image", "rocket.jpg", "train", "rocket launch, 640x427"),
    _S("motorcycle_left", "natural", "scikit-image", "motorcycle_left.png", "train", "motorcycle, left view, 741x500"),
    _S("motorcycle_right", "natural", "scikit-image", "motorcycle_right.png", "train",
       "motorcycle, right view of the same scene (same split as the left view), 741x500"),
    _S("hubble", "natural", "scikit-image", "hubble_deep_field.jpg", "train", "Hubble deep field, 1000x872"),
    _S("china", "natural", "scikit-learn", "datasets/images/china.jpg", "train", "a Chinese temple, 640x427"),
    _S("department_store", "natural", "mahotas", "demos/data/DepartmentStore.jpg", "train",
       "a department store interior, 1024x768"),
    _S("portrait", "natural", "mahotas", "demos/data/luispedro.jpg", "train", "portrait photograph, 300x400"),
    _S("coffee", "natural", "scikit-image", "coffee.png", "heldout", "a cup of coffee, 600x400"),
    _S("flower", "natural", "scikit-learn", "datasets/images/flower.jpg", "heldout", "a flower, 640x427"),
    _S("grace_hopper", "natural", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "heldout",
       "portrait of Grace Hopper, 512x600"),
)

_BY_NAME = {s.name: s for s in SAMPLES}

_PACKAGE_MODULE = {
    "scikit-image": ("skimage", "data"),
    "scikit-learn": ("sklearn", ""),
    "matplotlib": ("matplotlib", ""),
    "mahotas": ("mahotas", ""),
}


def sample_names(kind: str | None = None, split: str | None = None, modality: str | None = None) -> dict[str, str]:
    """The corpus as ``{name: modality}``, optionally filtered.

    Args:
        kind: ``"medical"`` or ``"natural"``.
        split: ``"train"`` or ``"heldout"``.
        modality: a key of :data:`MODALITIES` (``"xray"``, ``"ct"``, ...).
    """
    for arg, value, allowed in (("kind", kind, {"medical", "natural"}), ("split", split, {"train", "heldout"}),
                                ("modality", modality, set(MODALITIES))):
        if value is not None and value not in allowed:
            raise ValueError(f"{arg}={value!r} is not one of {sorted(allowed)}")
    return {s.name: s.modality for s in SAMPLES
            if (kind is None or s.kind == kind) and (split is None or s.split == split)
            and (modality is None or s.modality == modality)}


def _get(name: str) -> Sample:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no sample named {name!r}; the corpus has: {', '.join(_BY_NAME)}") from None


def sample_path(name: str) -> Path:
    """Where the sample's file lies on this machine (inside an installed package)."""
    sample = _get(name)
    if sample.package in ("pydicom", "pydicom-data"):
        from pydicom.data import get_testdata_file

        found = get_testdata_file(sample.file, download=False)
        if found is None:
            raise FileNotFoundError(
                f"sample {name!r}: {sample.file} not found; it ships in the '{sample.package}' package: "
                f"pip install {sample.package} (or pip install -r requirements.txt)")
        return Path(found)
    module, sub = _PACKAGE_MODULE[sample.package]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"sample {name!r} ships in the '{sample.package}' package, which is not installed: "
                                f"pip install {sample.package} (or pip install -r requirements.txt)")
    path = Path(spec.submodule_search_locations[0], sub, sample.file)
    if not path.exists():
        raise FileNotFoundError(f"sample {name!r}: {path} is missing from the installed '{sample.package}'; "
                                f"reinstall it: pip install --force-reinstall {sample.package}")
    return path


def _to_unit_float(array: np.ndarray) -> np.ndarray:
    """uint8/uint16 image file contents to float32 in [0, 1]; drops alpha; identical RGB planes become grey."""
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]
    if np.issubdtype(array.dtype, np.integer):
        out = array.astype(np.float32) / float(np.iinfo(array.dtype).max)
    else:
        out = np.clip(array.astype(np.float32), 0, 1)
    if out.ndim == 3 and out.shape[-1] == 3 and np.array_equal(out[..., 0], out[..., 1]) \
            and np.array_equal(out[..., 0], out[..., 2]):
        out = out[..., 0]
    return np.ascontiguousarray(out)


@functools.lru_cache(maxsize=64)
def _load_cached(name: str, frame) -> tuple[np.ndarray, tuple]:
    sample = _get(name)
    path = sample_path(name)
    info = {"name": name, "modality": sample.modality, "kind": sample.kind, "split": sample.split,
            "package": sample.package, "file": sample.file, "description": sample.description}
    if sample.is_dicom:
        from .dicom import read_dicom

        decoded = read_dicom(path, frame=frame)
        image = decoded.image
        info.update({("dicom_modality" if key == "modality" else key): value for key, value in decoded.info.items()})
    else:
        import imageio.v3 as iio

        raw = iio.imread(path)
        image = _to_unit_float(raw)
        info.update(original_dtype=str(raw.dtype), original_shape=tuple(int(s) for s in raw.shape), n_frames=1)
    image.setflags(write=False)
    return image, tuple(info.items())


def load_sample(name: str, frame: int | str | None = None) -> tuple[np.ndarray, dict]:
    """Load one corpus image as float32 in [0, 1].

    Args:
        name: a key of :func:`sample_names`.
        frame: for multi-frame DICOM (cine), a frame index, ``"all"``, or None for the middle frame.

    Returns:
        ``(image, info)``: image of shape (H, W) for grey or (H, W, 3) for colour ((F, H, W[, 3]) with
        ``frame="all"``), a fresh writable copy; info with name, modality, kind, split, package, file,
        description, original dtype and shape, and for DICOM the header's own Modality (``dicom_modality``,
        e.g. "CR"), the window used, photometric interpretation, transfer syntax and frame count.
    """
    image, info = _load_cached(name, frame)
    return image.copy(), dict(info)


def sample_table() -> list[dict]:
    """One row per sample (name, modality, split, package, file, original size and dtype): for tables."""
    rows = []
    for sample in SAMPLES:
        _, info = load_sample(sample.name, frame=None)
        rows.append({"name": sample.name, "modality": sample.modality, "split": sample.split,
                     "package": sample.package, "file": Path(sample.file).name,
                     "shape": "x".join(str(s) for s in info["original_shape"]),
                     "dtype": info["original_dtype"]})
    return rows
