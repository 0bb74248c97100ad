"""The offline sample corpus: real medical and natural images that ship inside PyPI packages.

Nothing here touches the network. The DICOM files come from ``pydicom``, ``pydicom-data`` and
``deid-data``; fundus, histology, microscopy and phantom images from ``scikit-image``; fluorescence nuclei
and two photographs from ``mahotas``; a brain MR slice and a portrait from ``matplotlib``; natural colour
photographs (the covers) from ``scikit-image``, ``scikit-learn``, ``matplotlib``, ``mahotas`` and
``deid-data``.

Every image has a fixed split, decided by source file (never by patch or frame), as the evaluation
protocol of the course asks:

* ``train``: may be cut into training patches (every frame of a multi-frame file);
* ``val``: monitors training, chooses settings and checkpoints;
* ``test``: final numbers only, never looked at while training.

Files that show the same patient or series (a cropped copy, another transfer syntax) are left out or kept
in one split. Each medical modality has at least one test image; modalities with a single image (nuclear
medicine, phantom, histology) are test-only, which makes them a test of generalisation to an unseen
modality.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Sample", "SAMPLES", "SPLITS", "MODALITIES", "sample_names", "sample_table", "sample_path", "load_sample"]


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
    # --- X-ray
    _S("chest_xray", "xray", "pydicom-data", "RG1_UNCR.dcm", "train",
       "chest radiograph, CR, MONOCHROME1, 15-bit, 1955x1841"),
    _S("cat_xray", "xray", "deid-data", "data/animals/cat.dcm", "val",
       "veterinary radiograph of a cat (chest and abdomen), DX, 16-bit, 2614x3072"),
    _S("extremity_xray", "xray", "pydicom-data", "RG3_UNCR.dcm", "test",
       "lower-leg radiograph (non-ossifying fibroma), CR, MONOCHROME1, 10-bit"),
    # --- CT
    _S("head_ct", "ct", "pydicom-data", "693_UNCR.dcm", "train", "head CT, 512x512, rescale to HU"),
    _S("abdomen_ct", "ct", "pydicom-data", "explicit_VR-UN.dcm", "train", "abdominal (pancreas) CT, 512x512"),
    _S("neck_ct", "ct", "pydicom-data", "bad_sequence.dcm", "train", "neck CT (cervical spine), 512x512"),
    _S("enhanced_ct", "ct", "pydicom-data", "eCT_Supplemental.dcm", "val", "enhanced multi-frame head CT, 2 frames"),
    _S("small_ct", "ct", "pydicom", "CT_small.dcm", "test", "CT slice, 128x128, rescale to HU"),
    _S("skull_base_ct", "ct", "pydicom", "J2K_pixelrep_mismatch.dcm", "test",
       "head CT at the skull base, 512x512, JPEG 2000 (another patient than head_ct)"),
    # --- MR
    _S("shoulder_mr", "mr", "pydicom-data", "MR2_UNCR.dcm", "train", "shoulder MR, 1024x1024, 12-bit"),
    _S("head_mr_cine", "mr", "pydicom-data", "emri_small.dcm", "train", "head MR, 10 frames of 64x64"),
    _S("small_mr", "mr", "pydicom", "MR_small.dcm", "val", "MR slice, 64x64, signed 16-bit"),
    _S("abdomen_mr", "mr", "pydicom-data", "MR-SIEMENS-DICOM-WithOverlays.dcm", "test",
       "abdominal (liver) MR, 484x484, with overlays"),
    _S("brain_mr", "mr", "matplotlib", "mpl-data/sample_data/s1045.ima.gz", "test",
       "sagittal brain MR, 256x256, 16-bit raw (matplotlib's MRI demo)"),
    # --- ultrasound
    _S("obstetric_us", "ultrasound", "pydicom-data", "OBXXXX1A.dcm", "train",
       "obstetric ultrasound, PALETTE COLOR, 800x600"),
    _S("aloka_us", "ultrasound", "pydicom-data", "gdcm-US-ALOKA-16.dcm", "train",
       "ultrasound, 16-bit PALETTE COLOR, 640x480"),
    _S("echocardiogram", "ultrasound", "pydicom-data", "color3d_jpeg_baseline.dcm", "train",
       "echocardiogram cine, 120 frames, JPEG baseline YBR"),
    _S("small_doppler_us", "ultrasound", "pydicom-data", "color-pl.dcm", "train",
       "colour Doppler ultrasound, RGB, 256x120"),
    _S("kidney_us_2", "ultrasound", "pydicom-data", "JPGLosslessP14SV1_1s_1f_8b.dcm", "val",
       "kidney ultrasound, grey, 1024x768, JPEG lossless"),
    _S("doppler_us", "ultrasound", "pydicom-data", "US1_UNCR.dcm", "test", "colour Doppler ultrasound, RGB, 640x480"),
    _S("kidney_us", "ultrasound", "deid-data", "data/ultrasounds/GREYSCALE_IMAGE.dcm", "test",
       "kidney ultrasound, grey, 1024x768 (another study than kidney_us_2)"),
    _S("chest_wall_us", "ultrasound", "deid-data", "data/ultrasounds/RGB_IMAGE.dcm", "test",
       "chest wall ultrasound, RGB, 1024x768"),
    _S("echo_doppler_cine", "ultrasound", "deid-data", "data/ultrasounds/ultrasound-multiframe.dcm", "test",
       "colour Doppler echocardiogram cine, 30 frames of 800x600 RGB"),
    # --- single-image modalities: test only
    _S("bone_scan", "nuclear", "pydicom-data", "JPEG2000_UNC.dcm", "test",
       "whole-body bone scintigraphy, 1024x256, 16-bit"),
    _S("retina", "retina", "scikit-image", "retina.jpg", "train", "colour fundus photograph, 1411x1411"),
    _S("microaneurysms", "retina", "scikit-image", "microaneurysms.png", "test",
       "fundus detail with microaneurysms, grey, 102x102"),
    _S("ihc", "histology", "scikit-image", "ihc.png", "test",
       "immunohistochemistry (DAB + haematoxylin) colon tissue, 512x512"),
    _S("nuclei", "microscopy", "mahotas", "demos/data/nuclear.png", "train",
       "fluorescence microscopy, DNA-stained nuclei, 1024x1344"),
    _S("cell", "microscopy", "scikit-image", "cell.png", "test", "phase-contrast cell, grey, 660x550"),
    _S("phantom", "phantom", "scikit-image", "phantom.png", "test", "Shepp-Logan head phantom, 400x400"),
    # --- natural photographs (covers)
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
    _S("portrait", "natural", "mahotas", "demos/data/luispedro.jpg", "val", "portrait photograph, 300x400"),
    _S("camera", "natural", "scikit-image", "camera.png", "train", "a cameraman, grey, 512x512"),
    _S("coins", "natural", "scikit-image", "coins.png", "train", "Greek coins, grey, 384x303"),
    _S("moon", "natural", "scikit-image", "moon.png", "train", "surface of the moon, grey, 512x512"),
    _S("brick", "natural", "scikit-image", "brick.png", "train", "brick wall texture, grey, 512x512"),
    _S("grass", "natural", "scikit-image", "grass.png", "train", "grass texture, grey, 512x512"),
    _S("gravel", "natural", "scikit-image", "gravel.png", "train", "gravel texture, grey, 512x512"),
    *(_S(f"cookies_{k}", "natural", "deid-data", f"data/dicom-cookies/image{k}.dcm", "train",
         f"photograph of biscuits on dough, 2048x1536 (one of seven of one scene, all in train), {k}/7")
      for k in range(1, 8)),
    _S("present", "natural", "matplotlib", "mpl-data/sample_data/Minduka_Present_Blue_Pack.png", "val",
       "a wrapped present, rendered, 128x128"),
    _S("coffee", "natural", "scikit-image", "coffee.png", "test", "a cup of coffee, 600x400"),
    _S("flower", "natural", "scikit-learn", "datasets/images/flower.jpg", "test", "a flower, 640x427"),
    _S("grace_hopper", "natural", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "test",
       "portrait of Grace Hopper, 512x600"),
)

#: The splits, in order: training, validation (monitoring and selection), test (final numbers only).
SPLITS = ("train", "val", "test")

_BY_NAME = {s.name: s for s in SAMPLES}

_PACKAGE_MODULE = {
    "scikit-image": ("skimage", "data"),
    "scikit-learn": ("sklearn", ""),
    "matplotlib": ("matplotlib", ""),
    "mahotas": ("mahotas", ""),
    "deid-data": ("deid_data", ""),
}


def sample_names(kind: str | None = None, split: str | None = None, modality: str | None = None) -> dict[str, str]:
    """The corpus as ``{name: modality}``, optionally filtered.

    Args:
        kind: ``"medical"`` or ``"natural"``.
        split: ``"train"``, ``"val"`` or ``"test"``.
        modality: a key of :data:`MODALITIES` (``"xray"``, ``"ct"``, ...).
    """
    for arg, value, allowed in (("kind", kind, {"medical", "natural"}), ("split", split, set(SPLITS)),
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
        import difflib

        close = difflib.get_close_matches(str(name).replace("-", "_").lower(), list(_BY_NAME), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else \
            "utils.data.sample_names() lists every name"
        raise KeyError(f"no sample named {name!r}; {hint}") from None


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


def _read_raw_mr(path: Path) -> np.ndarray:
    """matplotlib's ``s1045.ima.gz``: a gzipped 256x256 array of little-endian uint16, no header."""
    import gzip

    data = gzip.decompress(path.read_bytes())
    if len(data) != 256 * 256 * 2:
        raise ValueError(f"{path}: expected 256x256 16-bit values ({256 * 256 * 2} bytes), got {len(data)} bytes")
    return np.frombuffer(data, dtype="<u2").reshape(256, 256)


def _window_raw(values: np.ndarray) -> np.ndarray:
    """A raw scan without a stored window: the 0.5-99.5 percentiles of its non-zero values to [0, 1]."""
    v = values.astype(np.float32)
    lo, hi = np.percentile(v[v > 0], [0.5, 99.5]) if (v > 0).any() else (0.0, 1.0)
    return np.clip((v - lo) / max(hi - lo, 1.0), 0, 1).astype(np.float32)


@functools.lru_cache(maxsize=64)
def _load_cached(name: str, frame, burned_in: str = "clean") -> tuple[np.ndarray, tuple]:
    sample = _get(name)
    path = sample_path(name)
    info = {"name": name, "modality": sample.modality, "kind": sample.kind, "split": sample.split,
            "package": sample.package, "file": sample.file, "description": sample.description}
    if sample.is_dicom:
        from .dicom import read_dicom

        decoded = read_dicom(path, frame=frame, burned_in=burned_in)
        image = decoded.image
        info.update({("dicom_modality" if key == "modality" else key): value for key, value in decoded.info.items()})
    elif sample.file.endswith(".ima.gz"):
        raw = _read_raw_mr(path)
        image = _window_raw(raw)
        info.update(original_dtype=str(raw.dtype), original_shape=tuple(int(s) for s in raw.shape), n_frames=1)
    else:
        import imageio.v3 as iio

        raw = iio.imread(path)
        image = _to_unit_float(raw)
        info.update(original_dtype=str(raw.dtype), original_shape=tuple(int(s) for s in raw.shape), n_frames=1)
    image.setflags(write=False)
    return image, tuple(info.items())


def load_sample(name: str, frame: int | str | None = None, burned_in: str = "clean") -> tuple[np.ndarray, dict]:
    """Load one corpus image as float32 in [0, 1], DICOM pixels cleaned of burned-in text.

    Args:
        name: a key of :func:`sample_names`.
        frame: for multi-frame DICOM (cine), a frame index, ``"all"``, or None for the middle frame.
        burned_in: for DICOM, ``"clean"`` (default: identifying text located from the header is blacked
            out, see :mod:`utils.data.burned_in`) or ``"keep"`` (the pixels as stored, to look at them);
            ``info["burned_in"]`` gives the verdict.

    Returns:
        ``(image, info)``: image of shape (H, W) for grey or (H, W, 3) for colour ((F, H, W[, 3]) with
        ``frame="all"``), a fresh writable copy; info with name, modality, kind, split, package, file,
        description, original dtype and shape, and for DICOM the header's own Modality (``dicom_modality``,
        e.g. "CR"), the window used, photometric interpretation, transfer syntax and frame count.
    """
    if burned_in not in ("clean", "keep"):
        raise ValueError(f"burned_in must be 'clean' or 'keep', got {burned_in!r}")
    image, info = _load_cached(name, frame, burned_in)
    return image.copy(), dict(info)


def sample_table() -> list[dict]:
    """One row per sample (name, modality, split, package, file, original size and dtype, and for DICOM
    what :mod:`utils.data.burned_in` found: ``burned_in`` is "cleaned" where text was blacked out): for
    tables."""
    rows = []
    for sample in SAMPLES:
        _, info = load_sample(sample.name, frame=None)
        rows.append({"name": sample.name, "modality": sample.modality, "split": sample.split,
                     "package": sample.package, "file": Path(sample.file).name,
                     "shape": "x".join(str(s) for s in info["original_shape"]),
                     "dtype": info["original_dtype"], "burned_in": info.get("burned_in", "not DICOM")})
    return rows
