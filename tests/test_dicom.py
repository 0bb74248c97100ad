"""utils.data.dicom: transfer syntaxes, the path from stored values to [0, 1], errors, de-identification."""

import io
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from helpers import pydicom_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from utils.data.dicom import DicomError, deidentify, identifying_values, read_dicom

# ---------------------------------------------------------------------------- transfer syntaxes


@pytest.mark.parametrize("variant", [
    "MR_small_bigendian.dcm",          # Explicit VR Big Endian
    "MR_small_implicit.dcm",           # Implicit VR Little Endian
    "MR_small_RLE.dcm",                # RLE Lossless
    "MR_small_jpeg_ls_lossless.dcm",   # JPEG-LS Lossless (pylibjpeg-libjpeg)
    "MR_small_jp2klossless.dcm",       # JPEG 2000 Lossless (pylibjpeg-openjpeg)
])
def test_lossless_syntaxes_decode_to_the_same_image(variant):
    reference = read_dicom(pydicom_file("MR_small.dcm")).image
    decoded = read_dicom(pydicom_file(variant))
    np.testing.assert_array_equal(decoded.image, reference)


@pytest.mark.parametrize("compressed, uncompressed", [
    ("JPEG-LL.dcm", None),                    # JPEG Lossless, process 14
    ("MR2_J2KR.dcm", "MR2_UNCR.dcm"),         # JPEG 2000 lossless, 12-bit
    ("emri_small_RLE.dcm", "emri_small.dcm"),  # RLE multi-frame
    ("image_dfl.dcm", None),                  # Deflated Explicit VR Little Endian
])
def test_compressed_syntaxes_decode(compressed, uncompressed):
    # JPEG-LL and image_dfl are secondary captures that do not say BurnedInAnnotation NO: the default
    # refuses them (tests/test_burned_in.py); decoding is what is tested here, so keep the pixels
    decoded = read_dicom(pydicom_file(compressed), frame="all", burned_in="keep")
    assert decoded.image.dtype == np.float32
    assert 0.0 <= decoded.image.min() and decoded.image.max() <= 1.0
    assert decoded.image.std() > 0.01
    if uncompressed:
        np.testing.assert_array_equal(decoded.image, read_dicom(pydicom_file(uncompressed), frame="all").image)


def test_jpeg_baseline_ybr_cine_becomes_rgb_frames():
    echo = read_dicom(pydicom_file("color3d_jpeg_baseline.dcm"), frame="all")
    assert echo.image.shape == (120, 480, 640, 3)
    assert echo.info["n_frames"] == 120 and echo.info["photometric"] == "YBR_FULL_422"
    middle = read_dicom(pydicom_file("color3d_jpeg_baseline.dcm"))
    np.testing.assert_array_equal(middle.image, echo.image[60])
    # grey-scale ultrasound converted from YBR must have (nearly) equal R, G and B in the grey parts
    grey_part = echo.image[60][200:300, 250:350]
    assert np.abs(grey_part[..., 0] - grey_part[..., 1]).mean() < 0.05


def test_frame_out_of_range_is_refused():
    with pytest.raises(DicomError, match="frame 10 asked for, but the file has 10 frames"):
        read_dicom(pydicom_file("emri_small.dcm"), frame=10)


# ---------------------------------------------------------------------------- values to [0, 1]


def test_ct_rescale_and_window_follow_the_dicom_formula():
    ds = pydicom.dcmread(pydicom_file("693_UNCR.dcm"))
    hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    c, w = 40.0, 80.0
    expected = np.clip((hu - (c - 0.5)) / (w - 1) + 0.5, 0, 1)
    got = read_dicom(pydicom_file("693_UNCR.dcm"), window=(c, w))
    np.testing.assert_allclose(got.image, expected, atol=1e-6)
    assert got.info["window"] == (40.0, 80.0) and got.info["window_source"] == "argument"


def test_file_window_is_used_when_present_and_percentiles_otherwise():
    assert read_dicom(pydicom_file("693_UNCR.dcm")).info["window_source"] == "file"
    assert read_dicom(pydicom_file("JPEG2000_UNC.dcm")).info["window_source"] == "percentile 0.5-99.5"


def test_a_voi_lut_sequence_is_applied_by_pydicom_not_replaced_by_percentiles():
    ds = pydicom.dcmread(pydicom_file("vlut_04.dcm"))  # 8-bit stored values, a 16-bit VOI LUT, no window
    got = read_dicom(pydicom_file("vlut_04.dcm"), burned_in="keep")
    lut = np.asarray(ds.VOILUTSequence[0].LUTData, np.float64)
    np.testing.assert_allclose(got.image, lut[ds.pixel_array] / 65535.0, atol=1e-6)  # first mapped value 0
    assert got.info["window_source"].startswith("file VOI LUT") and got.info["window"] is None


@pytest.mark.parametrize("function", ["SIGMOID", "LINEAR_EXACT"])
def test_the_window_functions_follow_the_dicom_formulas(function, tmp_path):
    ds = pydicom.dcmread(pydicom_file("MR_small.dcm"))
    ds.VOILUTFunction = function
    ds.save_as(tmp_path / "mr.dcm")
    x, c, w = ds.pixel_array.astype(np.float64), float(ds.WindowCenter), float(ds.WindowWidth)
    expected = (1 / (1 + np.exp(-4 * (x - c) / w)) if function == "SIGMOID"  # PS3.3 C.11.2.1.3.1
                else np.clip((x - c) / w + 0.5, 0, 1))                           # PS3.3 C.11.2.1.3.2
    got = read_dicom(tmp_path / "mr.dcm", burned_in="keep")
    np.testing.assert_allclose(got.image, expected, atol=1e-5)
    assert got.info["window_source"] == f"file {function} window ({c:g}, {w:g})"
    # the argument still overrides the file, and a LINEAR window keeps the linear formula
    assert read_dicom(tmp_path / "mr.dcm", window=(c, w), burned_in="keep").info["window_source"] == "argument"


def test_monochrome1_is_inverted():
    ds = pydicom.dcmread(pydicom_file("RG3_UNCR.dcm"))
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    raw = ds.pixel_array.astype(float)
    image = read_dicom(pydicom_file("RG3_UNCR.dcm")).image
    # larger stored values must be darker: strongly negative correlation with the stored values
    assert np.corrcoef(raw.ravel()[::97], image.ravel()[::97])[0, 1] < -0.9


def test_palette_colour_becomes_rgb():
    for name in ("OBXXXX1A.dcm", "gdcm-US-ALOKA-16.dcm"):
        image = read_dicom(pydicom_file(name)).image
        assert image.ndim == 3 and image.shape[-1] == 3
        assert image.max() <= 1.0 and image.max() > 0.5


def test_bad_window_width_is_refused():
    with pytest.raises(ValueError, match="window width must be > 1"):
        read_dicom(pydicom_file("CT_small.dcm"), window=(40, 0))


# ---------------------------------------------------------------------------- errors


def test_truncated_file_names_the_file_and_the_reason():
    with pytest.raises(DicomError, match=r"MR_truncated\.dcm: pixel data is truncated"):
        read_dicom(pydicom_file("MR_truncated.dcm"))


def test_file_without_pixels_names_what_it_is():
    with pytest.raises(DicomError, match=r"reportsi\.dcm: has no pixel data .*Basic Text SR"):
        read_dicom(pydicom_file("reportsi.dcm"))


def test_non_dicom_missing_and_folder_are_clear(tmp_path):
    text = tmp_path / "scan.dcm"
    text.write_text("not a dicom file")
    with pytest.raises(DicomError, match=r"scan\.dcm: not a DICOM file"):
        read_dicom(text)
    with pytest.raises(DicomError, match=r"nothere\.dcm: no such file"):
        read_dicom(tmp_path / "nothere.dcm")
    with pytest.raises(DicomError, match="is a folder"):
        read_dicom(tmp_path)


def test_unsupported_transfer_syntax_says_which_decoder(tmp_path):
    ds = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2: nothing here decodes it
    ds.PixelData = pydicom.encaps.encapsulate([b"\x00" * 64])
    path = tmp_path / "mpeg.dcm"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(DicomError, match=r"mpeg\.dcm: pixel data in 'MPEG2.*' cannot be decoded here"):
        read_dicom(path)


def test_damaged_header_is_reported(tmp_path):
    data = Path(pydicom_file("CT_small.dcm")).read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[:300])  # cut inside the header
    with pytest.raises(DicomError, match=r"cut\.dcm"):
        read_dicom(path)


# ---------------------------------------------------------------------------- de-identification


def _with_extra_phi(ds):
    ds = ds.copy()
    ds.PatientComments = "Called Margaret Hamilton about her results"
    ds.PatientAddress = "42 Elm Street, Springfield"
    ds.add_new(0x00091010, "LO", "PRIVATE-Jane-Doe-1957")
    item = Dataset()
    item.ReferringPhysicianName = "Strange^Stephen"
    item.StudyDate = "19990101"
    ds.ReferencedStudySequence = Sequence([item])
    return ds


@pytest.mark.parametrize("name", ["RG1_UNCR.dcm", "MR-SIEMENS-DICOM-WithOverlays.dcm", "US1_UNCR.dcm",
                                  "color3d_jpeg_baseline.dcm", "CT_small.dcm", "emri_small.dcm"])
def test_nothing_identifying_survives_deidentification(name):
    original = _with_extra_phi(pydicom.dcmread(pydicom_file(name)))
    before = identifying_values(original)
    assert "Called Margaret Hamilton about her results" in before and "Strange^Stephen" in before
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every value must fit its VR (e.g. LO <= 64 characters)
        clean = deidentify(original, pseudonym="CASE-7", uid_salt=b"salt")
        clean.save_as(buffer, enforce_file_format=True)
    written = buffer.getvalue()
    survivors = [v for v in before if v.encode("latin-1", "ignore") in written]
    assert survivors == []
    reread = pydicom.dcmread(io.BytesIO(written))
    assert not any(element.tag.is_private for element in reread)
    assert all(element.VR not in ("DA", "DT", "TM") for element in reread)
    assert str(reread.PatientName) == "CASE-7" and reread.PatientIdentityRemoved == "YES"
    np.testing.assert_array_equal(reread.pixel_array, original.pixel_array)


def test_deidentify_leaves_the_input_alone_and_remaps_uids_consistently():
    original = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    name, uid = str(original.PatientName), original.SOPInstanceUID
    a = deidentify(original, uid_salt=b"one")
    b = deidentify(original, uid_salt=b"one")
    c = deidentify(original, uid_salt=b"two")
    assert str(original.PatientName) == name and original.SOPInstanceUID == uid
    assert a.SOPInstanceUID == b.SOPInstanceUID != c.SOPInstanceUID != uid
    assert a.file_meta.MediaStorageSOPInstanceUID == a.SOPInstanceUID
    assert a.SOPInstanceUID.startswith(pydicom.uid.PYDICOM_ROOT_UID) and len(a.SOPInstanceUID) <= 64
    assert pydicom.uid.UID(a.SOPInstanceUID).is_valid
    random_salts = {deidentify(original).StudyInstanceUID for _ in range(3)}
    assert len(random_salts) == 3


def test_deidentify_refuses_what_is_not_a_dataset():
    with pytest.raises(TypeError, match="expects a pydicom Dataset"):
        deidentify({"PatientName": "x"})


def test_a_file_cut_before_its_pixels_is_called_truncated_not_a_report(tmp_path):
    path = tmp_path / "cut.dcm"
    path.write_bytes(Path(pydicom_file("CT_small.dcm")).read_bytes()[:400])
    with pytest.raises(DicomError, match=r"cut\.dcm: its SOP class is CT Image Storage.*cut short"):
        read_dicom(path)
    with pytest.raises(DicomError, match="structured reports"):
        read_dicom(pydicom_file("reportsi.dcm"))


def test_a_frame_of_a_single_frame_file_is_refused_not_ignored():
    with pytest.raises(DicomError, match="frame 5 asked for, but the file has a single frame"):
        read_dicom(pydicom_file("CT_small.dcm"), frame=5)
    np.testing.assert_array_equal(read_dicom(pydicom_file("CT_small.dcm"), frame=0).image,
                                  read_dicom(pydicom_file("CT_small.dcm")).image)
