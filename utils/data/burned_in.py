"""Burned-in annotation: text written into the pixels, found from the header and blacked out.

A DICOM header can be cleared of every name, date and ID (:func:`utils.data.dicom.deidentify`) while the
pixels still show them: ultrasound machines, secondary captures and scanned documents write the patient's
name, the institution, the date and the time into the image itself. DICOM PS3.15 (annex E) calls this
*burned-in annotation*; its Clean Pixel Data option removes it, and the header attribute Burned In
Annotation (0028,0301) says whether an image carries it.

How the course finds it, in order (:func:`locate`):

1. **deid's filters.** ``deid`` (the pydicom organisation's de-identification library) ships the pixel
   filters of the Radiological Society's CTP anonymizer: for about a hundred devices (manufacturer, model,
   image size) the rectangles where that device writes identifying text (``graylist``); files it
   considers clean (``whitelist``: Burned In Annotation NO); and files it cannot judge (``blacklist``:
   secondary captures without a capture device, derived CT and MR).
2. **The course's filters** (``burned_in.deid``, deid's recipe format): the header bands of two corpus
   devices deid does not know, measured on their images, and corpus files inspected by eye and found
   free of text.
3. **The ultrasound regions of the header.** An ultrasound image's Sequence of Ultrasound Regions
   (0018,6011) declares the rectangles that hold the scan; everything outside them is the display's
   annotation (banners, parameters, logos) and is blacked out as well.

The verdict (:class:`BurnedIn`):

* ``"none expected"``: nothing in the header or the filters suggests text;
* ``"cleaned"``: text is expected and its regions were located (they are blacked out by :func:`clean`);
* ``"suspected"``: deid's blacklist matched, nothing was located, and the header does not say there is
  text: a warning, because the course cannot tell;
* ``"unlocated"``: the header says there is text (Burned In Annotation YES, or a capture modality such as
  ultrasound or secondary capture that does not say NO) and no rule locates it: :func:`clean` refuses with
  :class:`BurnedInTextError` rather than pass the text on silently.

What this does not do: read the text. Regions are found from the device and the header, never by
recognising characters, so text in an unexpected place (an anatomy label typed inside the scan, a
calliper's measurement) stays; it names no one, but look at an image before sending it.
"""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["BurnedIn", "BurnedInTextError", "COURSE_RECIPE", "CAPTURE_MODALITIES", "locate", "clean",
           "KNOWN_TEXT", "text_survives"]

#: The course's own filters, in deid's recipe format (see the file's comments).
COURSE_RECIPE = Path(__file__).with_name("burned_in.deid")

#: Modalities whose images routinely carry burned-in text, so that silence in the header is not enough:
#: ultrasound, intravascular ultrasound, secondary capture, other, external-camera photography,
#: endoscopy, general microscopy, document.
CAPTURE_MODALITIES = frozenset({"US", "IVUS", "SC", "OT", "XC", "ES", "GM", "DOC"})
_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"  # and its multi-frame variants 1.2.840.10008.5.1.4.1.1.7.x

Region = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, right and bottom edges excluded


class BurnedInTextError(ValueError):
    """An image whose header says it carries burned-in text that no rule can locate."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(
            f"{self.path}: {reason}; its pixels may show names, dates or IDs and cannot be cleaned "
            "(look at it with burned_in='keep', then add the device's text rectangles to a deid recipe, "
            f"as {COURSE_RECIPE.name} does, or crop the text away yourself)")


@dataclass(frozen=True)
class BurnedIn:
    """What the header and the filters say about text in one file's pixels.

    Attributes:
        status: ``"none expected"``, ``"cleaned"``, ``"suspected"`` or ``"unlocated"`` (module docstring).
        regions: rectangles (x0, y0, x1, y1) to black out, in the image's own pixels.
        rules: which rule gave each region, or why the status was chosen (``"deid: <label>"``,
            ``"course: <label>"``, ``"ultrasound regions"``, ``"BurnedInAnnotation YES"``, ...).
        header_says: the value of Burned In Annotation (0028,0301), or ``""`` when the file has none.
    """

    status: str
    regions: tuple[Region, ...]
    rules: tuple[str, ...]
    header_says: str

    @property
    def text_expected(self) -> bool:
        return self.status in ("cleaned", "unlocated")

    @property
    def vouched_clean(self) -> bool:
        """Whether the pixels may be called free of text afterwards: text was located and removed, the
        header already said NO, or a whitelist names the file (never just silence in the header)."""
        return self.status == "cleaned" or self.header_says == "NO" or any("whitelist" in r for r in self.rules)


def _import_deid() -> None:
    """Import deid's pixel code without letting it change matplotlib's backend.

    ``deid.dicom.pixels.clean`` calls ``matplotlib.use("pdf")`` when imported, which would stop a notebook
    from showing its figures; the backend in force before the import is put back.
    """
    import sys

    import matplotlib

    before = dict.__getitem__(matplotlib.rcParams, "backend")
    import deid.dicom.pixels.detect  # noqa: F401

    if dict.__getitem__(matplotlib.rcParams, "backend") != before:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].switch_backend(before)
        else:
            dict.__setitem__(matplotlib.rcParams, "backend", before)


@functools.lru_cache(maxsize=2)
def _recipe(which: str):
    logging.getLogger("deid").setLevel(logging.ERROR)
    _import_deid()
    from deid.config import DeidRecipe
    from deid.logger import bot

    bot.level = 0  # deid's own logger prints every filter it evaluates otherwise
    if which == "course":
        if not COURSE_RECIPE.exists():  # deid would call sys.exit on a missing recipe
            raise FileNotFoundError(f"{COURSE_RECIPE} is missing from the installed course package; reinstall it")
        return DeidRecipe(deid=str(COURSE_RECIPE), base=False)
    return DeidRecipe()  # deid's default recipe (deid/data/deid.dicom)


def _filter_hits(ds, which: str) -> list[dict]:
    import copy

    recipe = copy.deepcopy(_recipe(which))  # deid writes "from:" coordinates into the recipe it is given
    from deid.dicom.pixels.detect import has_burned_pixels
    from pydicom.dataset import FileDataset

    if not isinstance(ds, FileDataset):  # deid reads anything else as a path
        ds = FileDataset("", ds, file_meta=getattr(ds, "file_meta", None), preamble=b"\0" * 128)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return has_burned_pixels(ds, deid=recipe)["results"]


def _as_region(text: str, width: int, height: int) -> Region:
    if str(text).strip().lower() == "all":
        return (0, 0, width, height)
    x0, y0, x1, y1 = (int(float(v)) for v in str(text).split(","))
    return (max(x0, 0), max(y0, 0), min(x1, width), min(y1, height))


def _ultrasound_outside(ds, width: int, height: int) -> list[Region]:
    """The parts of the frame outside the union of the declared ultrasound regions' bounding box.

    The union is taken as the smallest rectangle around every region, so nothing between two regions
    (a colour bar, a second view) is lost; the rest (banner, margins) becomes up to four rectangles.
    """
    regions = ds.get("SequenceOfUltrasoundRegions")
    if not regions or str(ds.get("Modality", "")).upper() not in ("US", "IVUS"):
        return []
    boxes = [(int(r.RegionLocationMinX0), int(r.RegionLocationMinY0), int(r.RegionLocationMaxX1) + 1,
              int(r.RegionLocationMaxY1) + 1) for r in regions
             if all(k in r for k in ("RegionLocationMinX0", "RegionLocationMinY0", "RegionLocationMaxX1",
                                     "RegionLocationMaxY1"))]
    if not boxes:
        return []
    x0, y0 = max(min(b[0] for b in boxes), 0), max(min(b[1] for b in boxes), 0)
    x1, y1 = min(max(b[2] for b in boxes), width), min(max(b[3] for b in boxes), height)
    out = [(0, 0, width, y0), (0, y1, width, height), (0, y0, x0, y1), (x1, y0, width, y1)]
    return [r for r in out if r[2] > r[0] and r[3] > r[1]]


def locate(ds, *, deid_only: bool = False) -> BurnedIn:
    """Where the burned-in text of one DICOM file lies, from its header (module docstring).

    Args:
        ds: a pydicom Dataset (``pydicom.dcmread(path)``; pixels are not needed) or a path.
        deid_only: use deid's default filters alone (no course filters, no ultrasound regions, no rule on
            Burned In Annotation YES): what the library does by itself, for comparison.
    """
    import pydicom

    if not isinstance(ds, pydicom.Dataset):
        ds = pydicom.dcmread(ds, stop_before_pixels=True)
    width, height = int(ds.get("Columns", 0) or 0), int(ds.get("Rows", 0) or 0)
    says = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    regions: list[Region] = []
    rules: list[str] = []
    suspected: list[str] = []
    whitelisted: list[str] = []
    for which in (("deid",) if deid_only else ("deid", "course")):
        for hit in _filter_hits(ds, which):
            label = (hit.get("name") or hit.get("reason") or "").replace("LABEL", "", 1).strip()
            label = " ".join((label[4:] if label.startswith("and ") else label).split())
            group = str(hit.get("group", ""))
            coordinates = hit.get("coordinates") or []
            if group == "whitelist":
                whitelisted.append(f"{which} whitelist: {label}")
            elif group == "blacklist" or (group == "graylist" and not coordinates):
                suspected.append(f"{which} {group} without rectangles: {label}")
            for value, coordinate in coordinates:
                if int(value) != 0 or not isinstance(coordinate, str):
                    raise ValueError(f"{which} recipe: only 'coordinates x0,y0,x1,y1' rectangles are supported "
                                     f"(got {'keep ' if int(value) else ''}{coordinate!r} for {label!r})")
                regions.append(_as_region(coordinate, width, height))
                rules.append(f"{which}: {label}")
    if deid_only:
        if regions:
            return BurnedIn("cleaned", tuple(regions), tuple(rules), says)
        if suspected and not whitelisted:
            return BurnedIn("suspected", (), tuple(suspected), says)
        return BurnedIn("none expected", (), tuple(whitelisted), says)
    outside = _ultrasound_outside(ds, width, height)
    regions += outside
    rules += ["ultrasound regions"] * len(outside)
    if regions:
        return BurnedIn("cleaned", tuple(regions), tuple(rules), says)
    modality = str(ds.get("Modality", "") or "").upper()
    sop = str(ds.get("SOPClassUID", ""))
    capture = modality in CAPTURE_MODALITIES or sop == _SECONDARY_CAPTURE or sop.startswith(_SECONDARY_CAPTURE + ".")
    if says == "YES":
        return BurnedIn("unlocated", (), ("BurnedInAnnotation YES",), says)
    if capture and says != "NO" and not whitelisted:
        what = f"capture modality {modality}" if modality in CAPTURE_MODALITIES else \
            f"secondary capture{f' (modality {modality})' if modality else ''}"
        return BurnedIn("unlocated", (), (f"{what} without BurnedInAnnotation NO",), says)
    if suspected and not whitelisted:
        return BurnedIn("suspected", (), tuple(suspected), says)
    return BurnedIn("none expected", (), tuple(whitelisted), says)


def clean(image: np.ndarray, found: BurnedIn, path="<dataset>", *, colour: bool | None = None,
          on_unlocated: str = "raise", fill=0) -> np.ndarray:
    """A copy of ``image`` with the located regions set to ``fill`` (black); the input is not changed.

    Args:
        image: pixels as stored or decoded: (H, W) or (H, W, C), with a leading frame axis for a cine; the
            regions apply to every frame.
        found: :func:`locate`'s verdict for the file.
        path: the file's name, for messages.
        colour: whether the last axis holds colour samples; None guesses from its length (3 or 4).
        on_unlocated: ``"raise"`` (default: :class:`BurnedInTextError`) or ``"warn"`` when the header says
            there is text that no rule locates. A ``"suspected"`` file always gets a warning.
        fill: the value written (0; the largest stored value for MONOCHROME1 pixels, where 0 is white).
    """
    if on_unlocated not in ("raise", "warn"):
        raise ValueError(f"on_unlocated must be 'raise' or 'warn', got {on_unlocated!r}")
    if found.status == "unlocated":
        if on_unlocated == "raise":
            raise BurnedInTextError(path, f"{'; '.join(found.rules)}, and no filter locates the text")
        warnings.warn(f"{path}: {'; '.join(found.rules)}; the burned-in text could not be located and "
                      "stays in the pixels", stacklevel=2)
    elif found.status == "suspected":
        warnings.warn(f"{path}: deid's filters suspect burned-in text ({', '.join(found.rules)}) but none is "
                      "located; look at the image before using or sending it", stacklevel=2)
    out = np.array(image, copy=True)
    if colour is None:
        colour = out.ndim >= 3 and out.shape[-1] in (3, 4)
    view = out
    for x0, y0, x1, y1 in found.regions:
        if colour:
            out[..., y0:y1, x0:x1, :] = fill
        else:
            view[..., y0:y1, x0:x1] = fill
    return out


#: Identifying text seen in the corpus's pixels (by eye, on the full-resolution images): package, file,
#: what the text says, and its rectangle (x0, y0, x1, y1). Used to measure the cleaner and to test it.
KNOWN_TEXT = (
    ("pydicom-data", "OBXXXX1A.dcm", "study date", (650, 5, 790, 26)),
    ("pydicom-data", "OBXXXX1A.dcm", "study ID", (110, 34, 290, 56)),
    ("pydicom-data", "OBXXXX1A.dcm", "study time", (650, 34, 790, 56)),
    ("pydicom-data", "gdcm-US-ALOKA-16.dcm", "institution", (80, 0, 275, 12)),
    ("pydicom-data", "gdcm-US-ALOKA-16.dcm", "date", (560, 0, 640, 12)),
    ("pydicom-data", "gdcm-US-ALOKA-16.dcm", "time", (565, 13, 640, 26)),
    ("pydicom-data", "US1_UNCR.dcm", "institution", (18, 22, 180, 36)),
    ("pydicom-data", "US1_UNCR.dcm", "time", (285, 35, 385, 49)),
    ("deid-data", "data/ultrasounds/GREYSCALE_IMAGE.dcm", "patient name and ID", (0, 2, 250, 18)),
    ("deid-data", "data/ultrasounds/GREYSCALE_IMAGE.dcm", "birth date, sex, institution", (400, 2, 700, 18)),
    ("deid-data", "data/ultrasounds/GREYSCALE_IMAGE.dcm", "study date and time", (830, 2, 1020, 18)),
    ("deid-data", "data/ultrasounds/RGB_IMAGE.dcm", "patient name", (0, 5, 250, 25)),
    ("deid-data", "data/ultrasounds/RGB_IMAGE.dcm", "patient ID", (0, 30, 150, 50)),
    ("deid-data", "data/ultrasounds/RGB_IMAGE.dcm", "study time and date", (520, 5, 760, 25)),
    ("deid-data", "data/ultrasounds/RGB_IMAGE.dcm", "accession number", (785, 5, 900, 25)),
    ("deid-data", "data/ultrasounds/RGB_IMAGE.dcm", "institution", (520, 30, 790, 50)),
)


def text_survives(image: np.ndarray, box: Region) -> bool:
    """Whether any pixel of ``box`` (x0, y0, x1, y1) is not black in an (H, W) or (H, W, C) image."""
    x0, y0, x1, y1 = box
    return bool(np.any(np.asarray(image)[y0:y1, x0:x1] != 0))


#: Corpus files whose pixels carry burned-in text of any kind (identifying or technical), by eye.
TEXT_FILES = frozenset({("pydicom-data", f) for f in ("OBXXXX1A.dcm", "gdcm-US-ALOKA-16.dcm",
                                                      "color3d_jpeg_baseline.dcm", "JPGLosslessP14SV1_1s_1f_8b.dcm",
                                                      "US1_UNCR.dcm")}
                       | {("deid-data", f"data/ultrasounds/{f}") for f in ("GREYSCALE_IMAGE.dcm", "RGB_IMAGE.dcm",
                                                                            "ultrasound-multiframe.dcm")})


def survey_files() -> list[tuple[str, str, Path]]:
    """Every DICOM of the corpus and every DICOM image that ``deid-data`` ships: (package, file, path)."""
    import importlib.util

    from .corpus import SAMPLES, sample_path

    found = {(s.package, s.file): sample_path(s.name) for s in SAMPLES if s.is_dicom}
    spec = importlib.util.find_spec("deid_data")
    if spec is not None and spec.submodule_search_locations:
        root = Path(spec.submodule_search_locations[0])
        for path in sorted(root.rglob("*.dcm")):
            found.setdefault(("deid-data", path.relative_to(root).as_posix()), path)
    return [(package, file, path) for (package, file), path in sorted(found.items())]


def survey() -> list[dict]:
    """deid's default filters and the course's cleaner on :func:`survey_files`, against the known text.

    One row per file: whether it carries text (:data:`TEXT_FILES`), how many identifying boxes
    (:data:`KNOWN_TEXT`) it has, and for ``deid`` (its default filters alone) and ``course`` (this
    module): the status, whether it was flagged (any status but "none expected") and cleaned (regions
    located), and how many identifying boxes still show a pixel after cleaning.
    """
    import pydicom

    rows = []
    for package, file, path in survey_files():
        ds = pydicom.dcmread(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pixels = ds.pixel_array
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        frame = pixels[frames // 2] if frames > 1 else pixels
        boxes = [k for k in KNOWN_TEXT if (k[0], k[1]) == (package, file)]
        row = {"package": package, "file": file, "modality": str(ds.get("Modality", "")),
               "device": f"{ds.get('Manufacturer', '') or ''} {ds.get('ManufacturerModelName', '') or ''}".strip(),
               "header_says": str(ds.get("BurnedInAnnotation", "") or ""),
               "text": (package, file) in TEXT_FILES, "identifying_boxes": len(boxes)}
        for who in ("deid", "course"):
            found = locate(ds, deid_only=who == "deid")
            cleaned = clean(frame, found, path, colour=int(ds.get("SamplesPerPixel", 1)) > 1, on_unlocated="warn") \
                if found.regions else frame
            row[f"{who}_status"] = found.status
            row[f"{who}_flagged"] = found.status != "none expected"
            row[f"{who}_cleaned"] = bool(found.regions)
            row[f"{who}_boxes_left"] = sum(text_survives(cleaned, box) for *_, box in boxes)
        rows.append(row)
    return rows
