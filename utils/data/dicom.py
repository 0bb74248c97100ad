"""Reading DICOM files into [0, 1] float images, with clear errors, and de-identification.

What :func:`read_dicom` reads
-----------------------------
Transfer syntaxes, by the package that decodes them:

* pydicom itself: Implicit VR Little Endian, Explicit VR Little Endian, Explicit VR Big Endian,
  Deflated Explicit VR Little Endian, RLE Lossless;
* ``pylibjpeg-libjpeg``: JPEG Baseline (process 1), JPEG Extended (process 2 and 4), JPEG Lossless
  (process 14, and its first-order prediction variant), JPEG-LS lossless and near-lossless;
* ``pylibjpeg-openjpeg``: JPEG 2000 (lossless only and lossy);
* ``pylibjpeg-rle``: a faster RLE Lossless decoder.

Photometric interpretations: MONOCHROME1 (inverted after windowing, so that bone is bright as in
MONOCHROME2), MONOCHROME2, PALETTE COLOR (looked up into RGB), RGB and YBR_* (converted to RGB).
Single-frame and multi-frame images; 8-, 12- and 16-bit, signed or unsigned.

From stored values to [0, 1]
----------------------------
1. The modality transform: ``value = stored * RescaleSlope + RescaleIntercept`` (or the Modality LUT),
   so CT values become Hounsfield units.
2. The VOI transform (grey images only). With centre ``c`` and width ``w`` the DICOM linear window (PS3.3
   C.11.2.1.2) maps ``x`` to ``((x - (c - 0.5)) / (w - 1) + 0.5)`` clipped to [0, 1]. The transform is, in
   order: the ``window=(c, w)`` argument; the file's first VOI LUT (VOI LUT Sequence) or a window whose
   VOILUTFunction is LINEAR_EXACT or SIGMOID, both applied by ``pydicom.pixels.apply_voi_lut`` and scaled
   by its output range; the file's first WindowCenter/WindowWidth pair (LINEAR); or, when the file has
   none, the 0.5th to 99.5th percentile of the modality values (documented fallback).
3. MONOCHROME1 is inverted (``1 - x``).
4. Colour images are divided by the largest value their bit depth can hold.

De-identification
-----------------
:func:`deidentify` keeps an allowlist of the attributes needed to display and interpret the image
(pixel description, geometry, rescale, window, modality) and drops everything else: names, IDs, dates,
times, addresses, institutions, device serial numbers, free text, private tags. UIDs are remapped with a
salted hash (``pydicom.uid.generate_uid``), so a series stays a series, yet the original UIDs cannot be recovered by hashing candidates.
The header is not the whole story: text burned into the pixels (common on ultrasound) is found from the
header and blacked out by :func:`read_dicom` through :mod:`utils.data.burned_in`, and
:func:`deidentify_pixels` writes the cleaned pixels into a de-identified dataset.
"""

from __future__ import annotations

import copy
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DicomError",
    "DicomImage",
    "read_dicom",
    "to_unit_range",
    "deidentify",
    "deidentify_pixels",
    "KEPT_ATTRIBUTES",
    "identifying_values",
]


class DicomError(ValueError):
    """A DICOM file that cannot be turned into an image; the message names the file and the reason."""

    def __init__(self, path: str | os.PathLike, reason: str, hint: str = ""):
        self.path = str(path)
        self.reason = reason
        self.hint = hint
        message = f"{self.path}: {reason}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


@dataclass
class DicomImage:
    """A decoded DICOM image.

    Attributes:
        image: float32 in [0, 1]; (H, W) grey or (H, W, 3) colour for one frame, with a leading frame axis
            (F, H, W[, 3]) when all frames were asked for.
        dataset: the pydicom Dataset (header only: pixel data is not duplicated here).
        info: modality, photometric interpretation, original dtype and shape, window used, frame count,
            transfer syntax.
    """

    image: np.ndarray
    dataset: Any
    info: dict


def _open(path: str | os.PathLike):
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    if not path.exists():
        raise DicomError(path, "no such file", "check the path; sample files come from utils.data.sample_names()")
    if path.is_dir():
        raise DicomError(path, "is a folder, not a file", "for a series use utils.data.load_dicom_series(folder)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path)
    except InvalidDicomError as exc:
        raise DicomError(
            path,
            "not a DICOM file: no 'DICM' marker after the 128-byte preamble",
            "if it is a bare dataset written without a file header, read it with pydicom.dcmread(path, force=True)",
        ) from exc
    except (EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise DicomError(path, f"the header cannot be parsed: {exc}", "the file is damaged or truncated") from exc


def _decode(ds, path) -> np.ndarray:
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        sop = getattr(ds, "SOPClassUID", None)
        if sop is None and hasattr(ds, "file_meta"):
            sop = ds.file_meta.get("MediaStorageSOPClassUID", None)  # a file cut short keeps its meta
        image_class = sop is not None and "Image Storage" in str(getattr(sop, "name", ""))
        if image_class or "Rows" in ds or "Columns" in ds or "BitsAllocated" in ds:
            what = f"its SOP class is {sop.name}" if image_class else "it describes an image (group 0028)"
            raise DicomError(path, f"{what}, but the pixel data element (7FE0,0010) is missing",
                             "the file was probably cut short when copied; fetch it again")
        kind = f" (SOP class: {sop.name})" if sop is not None else ""
        raise DicomError(path, f"has no pixel data element (7FE0,0010){kind}",
                         "it is not an image: structured reports, plans and presentation states hold no pixels")
    syntax = ds.file_meta.get("TransferSyntaxUID", None) if hasattr(ds, "file_meta") else None
    syntax_name = syntax.name if syntax is not None else "unknown transfer syntax"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(ds.pixel_array)
    except (NotImplementedError, RuntimeError) as exc:
        raise DicomError(
            path,
            f"pixel data in '{syntax_name}' cannot be decoded here: {exc}",
            "JPEG and JPEG-LS need pylibjpeg-libjpeg, JPEG 2000 needs pylibjpeg-openjpeg: pip install -r requirements.txt",
        ) from exc
    except ValueError as exc:
        text = str(exc)
        if "less than expected" in text or "truncat" in text.lower():
            raise DicomError(path, f"pixel data is truncated: {text.split(' - ')[0]}",
                             "the file was cut short when copied; fetch it again") from exc
        raise DicomError(path, f"pixel data cannot be decoded: {text}") from exc
    except (AttributeError, KeyError, TypeError) as exc:
        raise DicomError(path, f"the image description (group 0028) is incomplete: {exc}") from exc


def _first(value) -> float:
    """The first of a multi-valued DICOM number (files may list several windows), as a float."""
    from pydicom.multival import MultiValue

    return float(value[0]) if isinstance(value, (MultiValue, list, tuple)) else float(value)


def _window_values(ds, values: np.ndarray, window: tuple[float, float] | None) -> tuple[float, float, str]:
    if window is not None:
        c, w = float(window[0]), float(window[1])
        if w <= 1:
            raise ValueError(f"window width must be > 1, got window={window!r}")
        return c, w, "argument"
    if "WindowCenter" in ds and "WindowWidth" in ds:
        c, w = _first(ds.WindowCenter), _first(ds.WindowWidth)
        if w > 1:
            return c, w, "file"
    lo, hi = np.percentile(values, [0.5, 99.5])
    if hi <= lo:
        hi = lo + 2.0
    return float((lo + hi) / 2.0), float(hi - lo + 1.0), "percentile 0.5-99.5"


def _file_voi(ds, values: np.ndarray) -> tuple[np.ndarray, str] | None:
    """The file's VOI transform where it is more than a linear window, in [0, 1], and where it came from.

    A VOI LUT Sequence (its first LUT), or a window whose VOILUTFunction is LINEAR_EXACT or SIGMOID, is
    applied by ``pydicom.pixels.apply_voi_lut`` and scaled by the range of its output: 0 to 2**n - 1 for a
    LUT of n-bit entries (the largest value out where that is larger: some files misstate n), the smallest to
    the largest value the window can give for the two window functions (found by passing the two
    infinities through it). None when the file has neither (the plain LINEAR window is handled by
    :func:`_window_values`)."""
    from pydicom.pixels import apply_voi_lut

    sequence = ds.get("VOILUTSequence", None)
    if sequence and "LUTData" in sequence[0] and "LUTDescriptor" in sequence[0]:
        item = sequence[0]
        out = apply_voi_lut(values, ds, index=0, prefer_lut=True).astype(np.float64)
        top = max(float(2 ** int(item.LUTDescriptor[2]) - 1), float(out.max()))
        explanation = str(item.get("LUTExplanation", "") or "").strip()
        return np.clip(out / top, 0.0, 1.0).astype(np.float32), "file VOI LUT" + (f" ({explanation})" if explanation else "")
    function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
    if function in ("LINEAR_EXACT", "SIGMOID") and "WindowCenter" in ds and "WindowWidth" in ds:
        with np.errstate(over="ignore", invalid="ignore"):
            out = apply_voi_lut(values, ds, index=0, prefer_lut=False).astype(np.float64)
            low, high = apply_voi_lut(np.array([-np.inf, np.inf]), ds, index=0, prefer_lut=False).astype(np.float64)
        if not high > low:
            raise ValueError(f"the {function} window (WindowCenter {ds.WindowCenter}, WindowWidth {ds.WindowWidth}) "
                             f"maps every value to {low}")
        c, w = _first(ds.WindowCenter), _first(ds.WindowWidth)
        return np.clip((out - low) / (high - low), 0.0, 1.0).astype(np.float32), f"file {function} window ({c:g}, {w:g})"
    return None


def to_unit_range(ds, pixels: np.ndarray, window: tuple[float, float] | None = None) -> tuple[np.ndarray, dict]:
    """Map decoded pixel values to float32 in [0, 1] as the module docstring describes.

    Args:
        ds: the pydicom Dataset the pixels came from.
        pixels: ``ds.pixel_array`` (or a slice of its frames).
        window: optional (centre, width) in modality units (HU for CT); overrides the file's window.

    Returns:
        (image, details) where details records the window used and whether the image was inverted.
    """
    from pydicom.pixels import apply_color_lut, apply_modality_lut

    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    details: dict = {"photometric": photometric}
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(pixels, ds)
        scale = 255.0 if rgb.dtype == np.uint8 else float(max(rgb.max(), 1))
        scale = 255.0 if scale <= 255 else 65535.0
        details.update(window=None, inverted=False)
        return np.clip(rgb.astype(np.float32) / scale, 0, 1), details
    if pixels.ndim >= 3 and pixels.shape[-1] == 3 and int(ds.get("SamplesPerPixel", 1)) == 3:
        bits = int(ds.get("BitsStored", 8))
        details.update(window=None, inverted=False)
        return np.clip(pixels.astype(np.float32) / float(2 ** bits - 1), 0, 1), details

    values = apply_modality_lut(pixels, ds).astype(np.float64)
    voi = _file_voi(ds, values) if window is None else None
    if voi is not None:
        out, source = voi
        inverted = photometric == "MONOCHROME1"
        if inverted:
            out = 1.0 - out
        details.update(window=None, window_source=source, inverted=inverted)
        return out, details
    c, w, source = _window_values(ds, values, window)
    out = (values - (c - 0.5)) / (w - 1.0) + 0.5
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    inverted = photometric == "MONOCHROME1"
    if inverted:
        out = 1.0 - out
    details.update(window=(round(c, 3), round(w, 3)), window_source=source, inverted=inverted)
    return out, details


def read_dicom(path: str | os.PathLike, frame: int | str | None = None,
               window: tuple[float, float] | None = None, burned_in: str = "clean") -> DicomImage:
    """Read a DICOM file into a float32 image in [0, 1], with burned-in text blacked out.

    Args:
        path: the file.
        frame: for multi-frame files, an index, ``"all"`` for every frame (leading frame axis), or None for
            the middle frame. Ignored for single-frame files (except ``"all"``, which then gives one frame).
        window: optional (centre, width) that overrides the file's window (grey images only).
        burned_in: what to do with text burned into the pixels (:mod:`utils.data.burned_in`):
            ``"clean"`` (default) blacks out every region the filters and the header locate and refuses a
            file whose header says it has text that nothing locates; ``"warn"`` cleans what it can and
            warns about the rest; ``"keep"`` returns the pixels as stored (to look at them). The verdict
            is in ``info["burned_in"]`` and the rectangles in ``info["burned_in_regions"]`` either way.

    Raises:
        DicomError: the file is missing, not DICOM, truncated, has no pixel data, or uses a transfer
            syntax with no decoder installed. The message names the file and says how to fix it.
        BurnedInTextError: with ``burned_in="clean"``, the header says the pixels carry text (Burned In
            Annotation YES, or ultrasound and other captures that do not say NO) and no rule locates it.
    """
    if window is not None and not float(window[1]) > 1:
        raise ValueError(f"window width must be > 1, got window={window!r}")
    if burned_in not in ("clean", "warn", "keep"):
        raise ValueError(f"burned_in must be 'clean', 'warn' or 'keep', got {burned_in!r}")
    ds = _open(path)
    pixels = _decode(ds, path)
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1))
    has_frame_axis = n_frames > 1
    if has_frame_axis:
        if frame == "all":
            chosen = pixels
        else:
            index = n_frames // 2 if frame is None else int(frame)
            if not -n_frames <= index < n_frames:
                raise DicomError(path, f"frame {frame} asked for, but the file has {n_frames} frames (0..{n_frames - 1})")
            chosen = pixels[index]
    else:
        if frame not in (None, "all") and int(frame) not in (0, -1):
            raise DicomError(path, f"frame {frame} asked for, but the file has a single frame",
                             "use frame=None (or 0) for single-frame files")
        chosen = pixels[None] if frame == "all" else pixels
    try:
        image, details = to_unit_range(ds, chosen, window)
    except (AttributeError, KeyError, ValueError) as exc:
        raise DicomError(path, f"cannot map pixel values to an image: {exc}") from exc
    from .burned_in import clean, locate

    found = locate(ds)
    if burned_in != "keep":
        image = clean(image, found, path, colour=image.ndim == 3 + (frame == "all"),
                      on_unlocated="raise" if burned_in == "clean" else "warn")
    syntax = ds.file_meta.get("TransferSyntaxUID", None)
    info = {
        "modality": str(ds.get("Modality", "")),
        "photometric": details["photometric"],
        "transfer_syntax": syntax.name if syntax is not None else "",
        "original_dtype": str(pixels.dtype),
        "original_shape": tuple(int(s) for s in pixels.shape),
        "bits_stored": int(ds.get("BitsStored", 0) or 0),
        "samples_per_pixel": samples,
        "n_frames": n_frames,
        "window": details.get("window"),
        "window_source": details.get("window_source"),
        "inverted": details.get("inverted", False),
        "burned_in": found.status,
        "burned_in_regions": found.regions,
        "burned_in_cleaned": burned_in != "keep" and bool(found.regions),
    }
    header = copy.copy(ds)
    for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
        if keyword in header:
            del header[keyword]
    return DicomImage(image=image, dataset=header, info=info)


# --------------------------------------------------------------------------------------------------
# De-identification
# --------------------------------------------------------------------------------------------------

#: Attributes kept by :func:`deidentify`: what it takes to show and interpret the pixels, nothing about
#: the person, the place or the time. UIDs among them are remapped; everything else is dropped.
KEPT_ATTRIBUTES = frozenset({
    # SOP common and modality (UIDs remapped)
    "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID",
    "Modality", "BodyPartExamined", "ImageType", "SeriesNumber", "InstanceNumber", "AcquisitionNumber",
    "PatientOrientation", "Laterality", "ImageLaterality", "ViewPosition",
    # image pixel module
    "SamplesPerPixel", "PhotometricInterpretation", "PlanarConfiguration", "Rows", "Columns",
    "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "PixelData", "NumberOfFrames",
    "FrameIncrementPointer", "FrameTime", "FrameTimeVector", "SmallestImagePixelValue", "LargestImagePixelValue",
    "PixelPaddingValue", "LossyImageCompression", "LossyImageCompressionRatio", "LossyImageCompressionMethod",
    "RedPaletteColorLookupTableDescriptor", "GreenPaletteColorLookupTableDescriptor",
    "BluePaletteColorLookupTableDescriptor", "RedPaletteColorLookupTableData",
    "GreenPaletteColorLookupTableData", "BluePaletteColorLookupTableData",
    "SegmentedRedPaletteColorLookupTableData", "SegmentedGreenPaletteColorLookupTableData",
    "SegmentedBluePaletteColorLookupTableData",
    # modality and VOI transforms
    "RescaleSlope", "RescaleIntercept", "RescaleType", "ModalityLUTSequence", "WindowCenter", "WindowWidth",
    "VOILUTFunction", "VOILUTSequence", "PresentationLUTShape",
    # geometry
    "PixelSpacing", "ImagerPixelSpacing", "SliceThickness", "SpacingBetweenSlices", "ImagePositionPatient",
    "ImageOrientationPatient", "SliceLocation", "PixelAspectRatio",
    # acquisition physics that identifies nobody
    "KVP", "MagneticFieldStrength", "EchoTime", "RepetitionTime", "FlipAngle", "ScanningSequence",
    "SequenceVariant", "ConvolutionKernel",
})

_STANDARD_UID_ROOT = "1.2.840.10008."
_UID_KEYWORDS = ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID")


def _remap_uid(uid: str, salt: bytes) -> str:
    """A new UID made by pydicom from the salt and the old UID (``generate_uid`` with entropy sources: a
    SHA-512 hash of both under pydicom's UID root): the same pair always gives the same UID. (Without a
    prefix ``generate_uid`` ignores its entropy sources and draws a random ``2.25.`` UUID.)"""
    from pydicom.uid import PYDICOM_ROOT_UID, generate_uid

    return str(generate_uid(prefix=PYDICOM_ROOT_UID, entropy_srcs=[salt.hex(), str(uid)]))


def deidentify(ds, *, pseudonym: str = "ANONYMOUS", uid_salt: bytes | str | None = None):
    """Return a de-identified copy of a pydicom Dataset; the input is not changed.

    Keeps only :data:`KEPT_ATTRIBUTES` (the pixels and what it takes to interpret them), drops every other
    attribute, including all private tags, sequences of other attributes, dates, times, names, IDs and free
    text, sets PatientName and PatientID to ``pseudonym`` and PatientIdentityRemoved to YES, and remaps the
    instance, series, study and frame-of-reference UIDs (also in the file meta) with a salted SHA-512 (``pydicom.uid.generate_uid``).

    Args:
        ds: the dataset (for example ``pydicom.dcmread(path)``).
        pseudonym: what PatientName and PatientID become.
        uid_salt: secret bytes for the UID mapping. Use the same salt for every file of a study to keep
            series together; None draws a fresh random salt, so the mapping cannot be repeated.

    Burned-in text in the pixels is not touched: look at the image (ultrasound often has it).
    """
    from pydicom.dataset import Dataset, FileMetaDataset

    if not isinstance(ds, Dataset):
        raise TypeError(f"deidentify expects a pydicom Dataset, got {type(ds).__name__}; read the file with pydicom.dcmread")
    salt = secrets.token_bytes(16) if uid_salt is None else (
        uid_salt.encode() if isinstance(uid_salt, str) else bytes(uid_salt))

    out = Dataset()
    for element in ds:
        keyword = element.keyword
        if element.tag.is_private or keyword not in KEPT_ATTRIBUTES:
            continue
        out.add(copy.deepcopy(element))
    for keyword in _UID_KEYWORDS:
        if keyword in out:
            setattr(out, keyword, _remap_uid(getattr(out, keyword), salt))
    out.PatientName = pseudonym
    out.PatientID = pseudonym
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = "utils.data.dicom.deidentify: attribute allowlist, UIDs remapped"  # LO: <= 64

    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        new_meta = FileMetaDataset()
        for keyword in ("FileMetaInformationVersion", "MediaStorageSOPClassUID", "TransferSyntaxUID",
                        "ImplementationClassUID", "ImplementationVersionName"):
            if keyword in meta:
                setattr(new_meta, keyword, getattr(meta, keyword))
        if "SOPInstanceUID" in out:
            new_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
        out.file_meta = new_meta
    out.preamble = b"\x00" * 128
    return out


def deidentify_pixels(ds, *, pseudonym: str = "ANONYMOUS", uid_salt: bytes | str | None = None,
                      burned_in: str = "clean", path: str | os.PathLike = "<dataset>"):
    """Header and pixels: :func:`deidentify`, with burned-in text blacked out in the stored pixels.

    The regions come from :func:`utils.data.burned_in.locate` (deid's filters, the course's filters, the
    ultrasound regions of the header). Compressed pixel data is decoded first, so the result is stored
    uncompressed (Explicit VR Little Endian); a file with nothing to clean keeps its pixel data as it is.
    Burned In Annotation becomes NO once located text was removed, or when nothing suggested text (the
    course's whitelist names files by their UIDs, which :func:`deidentify` remaps, so the receiver could
    not check again); a "suspected" file keeps no such claim. The input is not changed.

    Args:
        ds: a pydicom Dataset with its pixel data (``pydicom.dcmread(path)``).
        pseudonym, uid_salt: as for :func:`deidentify`.
        burned_in: ``"clean"`` refuses a file whose header says it has text that nothing locates
            (:class:`utils.data.burned_in.BurnedInTextError`); ``"warn"`` cleans what it can and warns.
        path: the file's name, for messages.
    """
    from pydicom.dataset import Dataset
    from pydicom.uid import ExplicitVRLittleEndian

    from .burned_in import clean, locate

    if not isinstance(ds, Dataset):
        raise TypeError(f"deidentify_pixels expects a pydicom Dataset, got {type(ds).__name__}; "
                        "read the file with pydicom.dcmread")
    if burned_in not in ("clean", "warn"):
        raise ValueError(f"burned_in must be 'clean' or 'warn', got {burned_in!r}")
    if "PixelData" not in ds:
        raise DicomError(path, "has no pixel data element (7FE0,0010) to clean", "use deidentify for a header")
    found = locate(ds)
    on_unlocated = "raise" if burned_in == "clean" else "warn"
    if not found.regions:
        clean(np.zeros((1, 1)), found, path, on_unlocated=on_unlocated)  # raises or warns as needed
        out = deidentify(ds, pseudonym=pseudonym, uid_salt=uid_salt)
        if found.vouched_clean:  # a whitelist names the original UID, which the receiver no longer sees
            out.BurnedInAnnotation = "NO"
        return out
    work = copy.deepcopy(ds)
    syntax = work.file_meta.get("TransferSyntaxUID") if hasattr(work, "file_meta") else None
    if syntax is not None and syntax.is_compressed:
        work.decompress()  # pydicom: decode, and colour JPEG becomes RGB
    pixels = work.pixel_array  # pydicom converts YBR to RGB
    samples = int(work.get("SamplesPerPixel", 1))
    cleaned = clean(pixels, found, path, colour=samples > 1, on_unlocated=on_unlocated, fill=_black(work, pixels))
    if samples > 1:
        work.PlanarConfiguration = 0  # pixel_array is colour-by-pixel
        if str(work.get("PhotometricInterpretation", "")).startswith("YBR"):
            work.PhotometricInterpretation = "RGB"
    for keyword in ("SmallestImagePixelValue", "LargestImagePixelValue"):  # no longer true after the fill
        if keyword in work:
            del work[keyword]
    work.PixelData = np.ascontiguousarray(cleaned.astype(pixels.dtype)).tobytes()
    work.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out = deidentify(work, pseudonym=pseudonym, uid_salt=uid_salt)
    out.BurnedInAnnotation = "NO"
    out.DeidentificationMethod = [str(out.DeidentificationMethod), "burned-in text blacked out: utils.data.burned_in"]
    code = Dataset()  # PS3.16 CID 7050: the Clean Pixel Data option of the PS3.15 profile
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "113101", "DCM", "Clean Pixel Data Option"
    out.DeidentificationMethodCodeSequence = [code]
    return out


def _black(ds, pixels: np.ndarray) -> int:
    """The stored value that displays as black: 0, the largest value for MONOCHROME1, the darkest palette entry."""
    photometric = str(ds.get("PhotometricInterpretation", ""))
    if photometric == "MONOCHROME1":
        bits = int(ds.get("BitsStored", pixels.dtype.itemsize * 8))
        return (1 << (bits - 1)) - 1 if int(ds.get("PixelRepresentation", 0)) == 1 else (1 << bits) - 1
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        entries = int(ds.RedPaletteColorLookupTableDescriptor[0]) or 65536
        first = int(ds.RedPaletteColorLookupTableDescriptor[1])
        lut = apply_color_lut(np.arange(first, first + entries, dtype=pixels.dtype), ds).astype(np.float64)
        return int(first + np.argmin(lut.sum(axis=-1)))
    return 0


def identifying_values(ds, min_length: int = 4) -> set[str]:
    """The text values in ``ds`` that could identify a person, place or time (used to test deidentify).

    Collects, recursively through sequences, the values of person names, dates, times, UIDs, IDs and
    free-text elements, and every private element's text, that are at least ``min_length`` characters.
    UIDs defined by the DICOM standard itself (root 1.2.840.10008, e.g. SOP classes) are not collected.
    """
    from pydicom.multival import MultiValue

    found: set[str] = set()
    text_vrs = {"PN", "DA", "DT", "TM", "UI", "LO", "SH", "LT", "ST", "UT", "AE", "AS"}
    technical = {"Modality", "PhotometricInterpretation", "BodyPartExamined", "ImageType", "SOPClassUID",
                 "ConvolutionKernel", "ScanningSequence", "SequenceVariant", "RescaleType",
                 "PresentationLUTShape", "VOILUTFunction", "LossyImageCompressionMethod", "SpecificCharacterSet"}

    def walk(dataset):
        for element in dataset:
            if element.VR == "SQ":
                for item in element.value or []:
                    walk(item)
                continue
            if element.keyword in technical or element.VR not in text_vrs:
                continue
            values = element.value if isinstance(element.value, MultiValue) else [element.value]
            for value in values:
                text = str(value).strip()
                if element.VR == "UI" and text.startswith(_STANDARD_UID_ROOT):
                    continue  # a UID the DICOM standard defines (SOP class, transfer syntax): names no one
                if len(text) >= min_length:
                    found.add(text)

    walk(ds)
    return found
