"""utils.data.burned_in: text in the pixels located from the header, blacked out, and refused when unlocated."""

import copy
import hashlib
import warnings

import numpy as np
import pydicom
import pytest

from utils.data import load_sample, sample_path
from utils.data.burned_in import KNOWN_TEXT, TEXT_FILES, BurnedInTextError, clean, locate, survey, text_survives
from utils.data.corpus import SAMPLES
from utils.data.dicom import deidentify, deidentify_pixels, identifying_values, read_dicom

_BY_FILE = {(s.package, s.file): s.name for s in SAMPLES}
_KNOWN = sorted({(p, f) for p, f, *_ in KNOWN_TEXT})


@pytest.mark.parametrize("package, file", _KNOWN, ids=[_BY_FILE[k] for k in _KNOWN])
def test_every_known_identifying_text_is_blacked_out_and_was_there(package, file):
    name = _BY_FILE[(package, file)]
    raw, raw_info = load_sample(name, burned_in="keep")
    cleaned, info = load_sample(name)
    assert info["burned_in"] == "cleaned" and info["burned_in_cleaned"] and not raw_info["burned_in_cleaned"]
    for *_, what, box in (k for k in KNOWN_TEXT if (k[0], k[1]) == (package, file)):
        assert text_survives(raw, box), f"{name}: the box of the {what} holds no text in the stored pixels"
        assert not text_survives(cleaned, box), f"{name}: the {what} survives cleaning at {box}"


def test_cleaning_touches_only_the_located_regions():
    raw, _ = load_sample("kidney_us", burned_in="keep")
    cleaned, info = load_sample("kidney_us")
    outside = np.ones(raw.shape[:2], bool)
    for x0, y0, x1, y1 in info["burned_in_regions"]:
        outside[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(cleaned[outside], raw[outside])
    assert (cleaned[~outside] == 0).all() and 0.02 < (~outside).mean() < 0.3


def test_survey_counts_deid_misses_and_the_course_cleans_every_text_file():
    rows = survey()
    text = [r for r in rows if r["text"]]
    assert len(text) == len(TEXT_FILES) == 8
    assert all(r["course_cleaned"] and r["course_boxes_left"] == 0 for r in text)
    assert not any(r["course_cleaned"] for r in rows if not r["text"])
    missed_by_deid = {r["file"] for r in text if not r["deid_flagged"]}
    # deid 0.4.13 does not know the GE LOGIQ 700, the ALOKA SSD-4000 or the SonoSite Turbo, and ignores
    # BurnedInAnnotation YES on a Philips Affiniti cine: the reasons for the course's own rules
    assert missed_by_deid == {"US1_UNCR.dcm", "gdcm-US-ALOKA-16.dcm", "color3d_jpeg_baseline.dcm",
                              "data/ultrasounds/ultrasound-multiframe.dcm"}
    assert sum(r["deid_boxes_left"] for r in rows) == 5


def _without_regions(tmp_path, burned_in_annotation):
    ds = pydicom.dcmread(sample_path("echo_doppler_cine"))
    del ds.SequenceOfUltrasoundRegions
    if burned_in_annotation is None:
        del ds.BurnedInAnnotation
    else:
        ds.BurnedInAnnotation = burned_in_annotation
    path = tmp_path / "unknown_device_us.dcm"
    ds.save_as(path)
    return path


def test_text_that_nothing_locates_is_refused_with_the_file_named(tmp_path):
    path = _without_regions(tmp_path, "YES")
    with pytest.raises(BurnedInTextError, match=r"unknown_device_us\.dcm: BurnedInAnnotation YES.*deid recipe"):
        read_dicom(path)
    with pytest.warns(UserWarning, match="could not be located"):
        warned = read_dicom(path, burned_in="warn")
    kept = read_dicom(path, burned_in="keep")
    np.testing.assert_array_equal(warned.image, kept.image)
    assert kept.info["burned_in"] == "unlocated"


def test_ultrasound_without_burned_in_annotation_no_is_refused_but_no_is_believed(tmp_path):
    with pytest.raises(BurnedInTextError, match="capture modality US"):
        read_dicom(_without_regions(tmp_path, None))
    assert read_dicom(_without_regions(tmp_path, "NO")).info["burned_in"] == "none expected"


def test_deid_blacklist_without_a_whitelist_warns(tmp_path):
    ds = pydicom.dcmread(sample_path("small_mr"))
    ds.SOPInstanceUID = "1.2.3.4"  # no longer the file the course inspected
    path = tmp_path / "derived_mr.dcm"
    ds.save_as(path)
    with pytest.warns(UserWarning, match=r"derived_mr\.dcm: deid's filters suspect"):
        read_dicom(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_dicom(sample_path("small_mr"))  # the inspected file itself: no warning


def test_a_whitelist_never_clears_burned_in_annotation_yes(tmp_path):
    ds = pydicom.dcmread(sample_path("small_doppler_us"))
    ds.BurnedInAnnotation = "YES"
    path = tmp_path / "whitelisted_but_yes.dcm"
    ds.save_as(path)
    assert locate(path).status == "unlocated"


def test_deidentify_pixels_cleans_header_and_pixels_and_leaves_the_file_alone(tmp_path):
    path = sample_path("chest_wall_us")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    original = pydicom.dcmread(path)
    secrets_in_header = identifying_values(original)
    out = deidentify_pixels(original, pseudonym="CASE-9", uid_salt=b"salt", path=path)
    target = tmp_path / "sent.dcm"
    out.save_as(target)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    data = target.read_bytes()
    assert not [v for v in secrets_in_header if v.encode() in data and v not in ("CASE-9",)]
    back = pydicom.dcmread(target)
    assert back.BurnedInAnnotation == "NO"
    pixels = back.pixel_array
    boxes = [box for p, f, _, box in KNOWN_TEXT if f == "data/ultrasounds/RGB_IMAGE.dcm"]
    assert boxes and not any(text_survives(pixels, box) for box in boxes)
    assert text_survives(original.pixel_array, boxes[0])
    reread = read_dicom(target)  # the receiver: nothing left to clean that would change the image
    np.testing.assert_array_equal(reread.image, load_sample("chest_wall_us")[0])


def test_deidentify_pixels_keeps_untouched_pixels_as_deidentify_does():
    ds = pydicom.dcmread(sample_path("abdomen_mr"))
    a, b = deidentify_pixels(ds, uid_salt=b"s"), deidentify(ds, uid_salt=b"s")
    assert a.PixelData == b.PixelData and a.BurnedInAnnotation == "NO" and "BurnedInAnnotation" not in b
    silent = pydicom.dcmread(sample_path("small_ct"))  # nothing suggests text, nobody looked: no claim
    assert "BurnedInAnnotation" not in deidentify_pixels(silent, uid_salt=b"s")
    with warnings.catch_warnings():  # the receiver reads it without a warning, though the UID changed
        warnings.simplefilter("error")
        assert locate(a).status == "none expected"
    assert locate(b).status == "suspected"


def test_monochrome1_regions_are_filled_with_black_not_white():
    ds = pydicom.dcmread(sample_path("kidney_us"))
    ds.PhotometricInterpretation = "MONOCHROME1"  # as a CR would store it: the largest value is black
    out = deidentify_pixels(ds, uid_salt=b"s")
    x0, y0, x1, y1 = locate(ds).regions[0]
    top = 2 ** int(ds.BitsStored) - 1
    assert (out.pixel_array[y0:y1, x0:x1] == top).all() and (ds.pixel_array[y0:y1, x0:x1] != top).any()
    assert read_dicom(sample_path("kidney_us")).image[y0:y1, x0:x1].max() == 0  # and black once displayed


def _synthetic_us(regions, shape=(40, 60)):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Modality, ds.SOPClassUID, ds.SOPInstanceUID = "US", "1.2.840.10008.5.1.4.1.1.6.1", generate_uid()
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = *shape, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.full(shape, 200, np.uint8).tobytes()
    items = []
    for x0, y0, x1, y1 in regions:
        item = Dataset()
        item.RegionLocationMinX0, item.RegionLocationMinY0 = x0, y0
        item.RegionLocationMaxX1, item.RegionLocationMaxY1 = x1, y1
        items.append(item)
    ds.SequenceOfUltrasoundRegions = items
    return ds


def test_ultrasound_regions_keep_their_inclusive_corners_and_the_space_between():
    ds = _synthetic_us([(10, 5, 29, 30), (35, 8, 49, 20)])  # PS3.3: Max X1/Y1 are inside the region
    found = locate(ds)
    out = clean(ds.pixel_array, found)
    kept = out > 0
    assert kept[5:31, 10:50].all(), "the bounding box of the regions, corners included, is kept"
    assert not kept[:5].any() and not kept[31:].any() and not kept[:, :10].any() and not kept[:, 50:].any()
    assert found.status == "cleaned" and set(found.rules) == {"ultrasound regions"}


def test_secondary_capture_means_the_class_and_its_variants_only():
    ds = _synthetic_us([])
    del ds.SequenceOfUltrasoundRegions
    ds.Modality, ds.ImageType = "XA", ["ORIGINAL", "PRIMARY"]  # not a capture modality: only the SOP class makes it one
    for uid, expected in (("1.2.840.10008.5.1.4.1.1.7", "unlocated"), ("1.2.840.10008.5.1.4.1.1.7.2", "unlocated"),
                          ("1.2.840.10008.5.1.4.1.1.77.1.4", "none expected")):
        ds.SOPClassUID = uid
        assert locate(ds).status == expected, uid


def test_a_deid_graylist_hit_without_rectangles_is_suspected_not_clean():
    ds = pydicom.dcmread(sample_path("neck_ct"))  # deid: "SOMATOM Definition AS+" catch-all, no rectangles
    assert locate(ds, deid_only=True).status == "suspected"
    assert locate(ds).status == "none expected"  # the course looked at this very file (its whitelist)
    ds.SOPInstanceUID = "1.2.3.5"
    assert locate(ds).status == "suspected"


@pytest.mark.parametrize("name", ["kidney_us_2", "obstetric_us", "echo_doppler_cine", "echocardiogram"])
def test_deidentify_pixels_on_compressed_palette_and_cine_files(name):
    """JPEG lossless, PALETTE COLOR, an RGB cine and a JPEG YBR cine: regions black, the rest unchanged."""
    ds = pydicom.dcmread(sample_path(name))
    found = locate(ds)
    out = deidentify_pixels(ds, uid_salt=b"s")
    before = copy.deepcopy(ds)
    if before.file_meta.TransferSyntaxUID.is_compressed:
        before.decompress()
    old, new = before.pixel_array, pydicom.dcmread(_written(out)).pixel_array
    assert new.shape == old.shape and out.BurnedInAnnotation == "NO"
    mask = np.zeros(old.shape[-3:-1] if int(ds.SamplesPerPixel) > 1 else old.shape[-2:], bool)
    for x0, y0, x1, y1 in found.regions:
        mask[y0:y1, x0:x1] = True
    frames_old = old.reshape(-1, *old.shape[-3:]) if old.ndim == (4 if int(ds.SamplesPerPixel) > 1 else 3) else old[None]
    frames_new = new.reshape(frames_old.shape)
    np.testing.assert_array_equal(frames_new[:, ~mask], frames_old[:, ~mask])
    if out.PhotometricInterpretation == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut
        assert apply_color_lut(frames_new[0], out)[mask].max() == 0
    else:
        assert frames_new[:, mask].max() == 0
    assert not str(out.PhotometricInterpretation).startswith("YBR")


def _written(ds):
    import io

    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    buffer.seek(0)
    return buffer


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="burned_in must be"):
        read_dicom(sample_path("kidney_us"), burned_in="remove")
    with pytest.raises(ValueError, match="burned_in must be"):
        load_sample("kidney_us", burned_in="warn")
    with pytest.raises(TypeError, match="pydicom Dataset"):
        deidentify_pixels(str(sample_path("kidney_us")))


def test_deid_header_recipe_removes_nothing_that_deidentify_keeps_unreplaced():
    """deid's default header recipe against the course's allowlist, on every DICOM of the corpus."""
    from deid.config import DeidRecipe
    from deid.dicom import replace_identifiers

    replaced = {"PatientName", "PatientID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID",
                "FrameOfReferenceUID"}
    # deid removes every attribute whose name contains "UID" or ends in "Time"; the course keeps the SOP
    # class (a UID of the standard) and three durations of the acquisition physics, which name no one
    kept_on_purpose = {"SOPClassUID", "EchoTime", "RepetitionTime", "FrameTime"}
    recipe = DeidRecipe()
    for sample in (s for s in SAMPLES if s.is_dicom):
        path = str(sample_path(sample.name))
        original = pydicom.dcmread(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            by_deid = replace_identifiers(dicom_files=[path], deid=recipe, save=False, remove_private=True)[0]
        ours = deidentify(copy.deepcopy(original), uid_salt=b"salt")
        names = lambda d: {e.keyword or str(e.tag) for e in d.iterall()}  # noqa: E731
        kept = (names(original) - names(by_deid)) & names(ours)
        assert kept <= replaced | kept_on_purpose, f"{sample.name}: deid removes {sorted(kept - replaced - kept_on_purpose)}"
        for keyword in replaced & kept - {"PatientName", "PatientID"}:
            assert getattr(ours, keyword) != getattr(original, keyword), f"{sample.name}: {keyword} not remapped"


def test_importing_deid_leaves_matplotlibs_backend_alone():
    """deid's pixel module calls matplotlib.use("pdf") on import; a notebook would stop showing figures."""
    import subprocess
    import sys

    code = ("import matplotlib; matplotlib.use('svg'); import matplotlib.pyplot as plt\n"
            "from utils.data.burned_in import locate; from utils.data import sample_path\n"
            "locate(sample_path('kidney_us')); import deid.dicom.pixels.clean\n"
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "svg"
