"""utils.data.datasets: each real dataset's layout, built as a tiny fixture on disk, loads back; absence is clear."""

import re
from pathlib import Path

import imageio.v3 as iio
import nibabel as nib
import numpy as np
import pydicom
import pytest
from helpers import pydicom_file

from utils.data import (
    DATASETS,
    DatasetNotFoundError,
    dataset_files,
    dataset_root,
    dataset_status,
    images_or_samples,
    iter_dataset,
    load_dicom_series,
    load_nifti,
    load_sample,
)
from utils.plotting import to_uint8

README = Path(__file__).resolve().parents[1] / "data" / "README.md"


def _png(path: Path, image: np.ndarray):
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, to_uint8(image))


def _write_series(folder: Path, n: int = 4, series_uid: str = "1.2.3.4", start: int = 0):
    """n slices of CT_small with positions along z, written in shuffled file order."""
    template = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    folder.mkdir(parents=True, exist_ok=True)
    for i, z in enumerate([3, 0, 2, 1][:n]):
        ds = template.copy()
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = f"{series_uid}.{start + z}"
        ds.ImagePositionPatient = [0.0, 0.0, float(z) * 5.0]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.InstanceNumber = 100 - z  # deliberately disagrees with the geometry
        pixels = ds.pixel_array.copy()
        pixels[:8, :8] = 200 * z  # marks the slice
        ds.PixelData = pixels.tobytes()
        ds.save_as(folder / f"1-{i:03d}.dcm", enforce_file_format=True)


@pytest.fixture
def root(tmp_path):
    retina, _ = load_sample("retina")
    ihc, _ = load_sample("ihc")
    us, _ = load_sample("aloka_us")
    chest, _ = load_sample("chest_xray")
    cover, _ = load_sample("coffee")
    # DRIVE: DRIVE/{training,test}/images/*.tif beside manual annotations and masks (GIF)
    for part, stem in (("training", "21_training"), ("test", "01_test")):
        path = tmp_path / "DRIVE" / part / "images" / f"{stem}.tif"
        path.parent.mkdir(parents=True)
        iio.imwrite(path, to_uint8(retina[::8, ::8]))
    (tmp_path / "DRIVE" / "training" / "1st_manual").mkdir()
    iio.imwrite(tmp_path / "DRIVE" / "training" / "1st_manual" / "21_manual1.gif", to_uint8(retina[::8, ::8, 0]))
    # UCSB: breast_cancer_cells/*.tif (with *_ccd ground truth) and nuclei_2d/*.png
    (tmp_path / "ucsb_bioseg" / "breast_cancer_cells").mkdir(parents=True)
    iio.imwrite(tmp_path / "ucsb_bioseg" / "breast_cancer_cells" / "ytma10_benign1.tif", to_uint8(ihc[:96, :96]))
    iio.imwrite(tmp_path / "ucsb_bioseg" / "breast_cancer_cells" / "ytma10_benign1_ccd.tif", to_uint8(ihc[:96, :96, 0]))
    _png(tmp_path / "ucsb_bioseg" / "nuclei_2d" / "nuclei_01.png", ihc[96:192, 96:192, 2])
    # Kaggle ultrasound nerve: train/<subject>_<image>.tif and *_mask.tif, test/<n>.tif
    (tmp_path / "ultrasound-nerve-segmentation" / "train").mkdir(parents=True)
    (tmp_path / "ultrasound-nerve-segmentation" / "test").mkdir(parents=True)
    grey_us = us.mean(axis=-1)
    iio.imwrite(tmp_path / "ultrasound-nerve-segmentation" / "train" / "1_1.tif", to_uint8(grey_us))
    iio.imwrite(tmp_path / "ultrasound-nerve-segmentation" / "train" / "1_1_mask.tif", to_uint8(grey_us > 0.5))
    iio.imwrite(tmp_path / "ultrasound-nerve-segmentation" / "test" / "1.tif", to_uint8(grey_us[::-1]))
    # ChestX-ray14: images_001/images/<patient>_<follow-up>.png
    _png(tmp_path / "chestxray14" / "images_001" / "images" / "00000001_000.png", chest[::16, ::16])
    # NTU covers: any image below the folder, ground truth skipped
    _png(tmp_path / "ntu_covers" / "set1" / "img_001.png", cover[::4, ::4])
    _png(tmp_path / "ntu_covers" / "set1" / "img_001_gt.png", cover[::4, ::4, 0] > 0.5)
    # TCIA series (NBIA layout): <collection>/<subject>/<study>/<series>/1-NNN.dcm
    _write_series(tmp_path / "phantom_fda" / "FDA-001" / "01-01-2000-study" / "1.000000-chest", series_uid="1.2.3.4")
    _write_series(tmp_path / "cptac_cm" / "C3L-0001" / "study" / "2.000000-brain", n=3, series_uid="1.2.3.5")
    # BraTS: <case>/<case>_{flair,t1,t1ce,t2,seg}.nii.gz
    volume = np.zeros((24, 20, 6), np.float32)
    volume[4:20, 4:16, 1:5] = np.linspace(10, 500, 16 * 12 * 4).reshape(16, 12, 4)
    case = tmp_path / "brats" / "BraTS2021_00000"
    case.mkdir(parents=True)
    for contrast in ("flair", "t1", "seg"):
        nib.save(nib.Nifti1Image(volume, np.eye(4)), str(case / f"BraTS2021_00000_{contrast}.nii.gz"))
    return tmp_path


EXPECTED_FILES = {"drive": 2, "ucsb_bioseg": 2, "ultrasound_nerve": 2, "chestxray14": 1, "ntu_covers": 1,
                  "phantom_fda": 4, "cptac_cm": 3, "brats": 1}


def test_fixtures_cover_every_dataset():
    assert set(EXPECTED_FILES) == set(DATASETS)


@pytest.mark.parametrize("name", list(EXPECTED_FILES))
def test_each_layout_loads_back(root, name):
    files = dataset_files(name, root)
    assert len(files) == EXPECTED_FILES[name]
    assert not any(re.search(r"_(mask|ccd|gt)\b|manual", f.stem) for f in files)
    images = list(iter_dataset(name, root))
    assert images, name
    for image, info in images:
        assert image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
        assert image.ndim in (2, 3) and info["dataset"] == name
        assert info["modality"] == DATASETS[name].modality


def test_dicom_series_is_ordered_by_geometry_not_instance_number(root):
    [(volume, info)] = load_dicom_series(dataset_root("phantom_fda", root))
    assert volume.shape == (4, 128, 128) and info["order"] == "position" and info["files"] == 4
    marks = volume[:, :8, :8].mean(axis=(1, 2))
    assert np.all(np.diff(marks) > 0), "slices must go from z=0 to z=3"


def test_two_series_in_one_folder_stay_apart(tmp_path):
    _write_series(tmp_path / "a", n=2, series_uid="1.9.1")
    _write_series(tmp_path / "b", n=3, series_uid="1.9.2", start=10)
    volumes = load_dicom_series(tmp_path)
    assert sorted(v.shape[0] for v, _ in volumes) == [2, 3]


def test_a_screen_capture_in_a_series_folder_is_skipped_with_its_name(tmp_path):
    _write_series(tmp_path, n=2, series_uid="1.9.1")
    report = pydicom.dcmread(pydicom_file("CT_small.dcm"))
    report.SeriesInstanceUID, report.SOPInstanceUID = "1.9.9", "1.9.9.1"
    report.BurnedInAnnotation = "YES"  # a dose report: text, and no filter knows where
    report.save_as(tmp_path / "dose_report.dcm", enforce_file_format=True)
    with pytest.warns(UserWarning, match=r"dose_report\.dcm: skipped, BurnedInAnnotation YES"):
        volumes = load_dicom_series(tmp_path)
    assert [v.shape[0] for v, _ in volumes] == [2]


def test_nifti_volume_and_empty_slices(root):
    volume, info = load_nifti(root / "brats" / "BraTS2021_00000" / "BraTS2021_00000_flair.nii.gz")
    assert volume.shape == (6, 20, 24)
    slices = list(iter_dataset("brats", root))
    assert len(slices) == 4, "the empty first and last slices are skipped"


def test_limit(root):
    assert len(list(iter_dataset("phantom_fda", root, limit=2))) == 2


def test_absent_dataset_names_the_folder_and_the_readme_section(tmp_path):
    with pytest.raises(DatasetNotFoundError) as caught:
        dataset_files("drive", tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "DRIVE") in message and "data/README.md, section 'DRIVE'" in message


def test_folder_with_the_wrong_layout_says_what_it_expected(tmp_path):
    (tmp_path / "DRIVE" / "images").mkdir(parents=True)
    iio.imwrite(tmp_path / "DRIVE" / "images" / "01.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetNotFoundError, match=r"holds no files matching training/images/\*\.tif"):
        dataset_files("drive", tmp_path)


def test_every_dataset_has_its_readme_section():
    text = README.read_text(encoding="utf-8")
    for spec in DATASETS.values():
        assert f"## {spec.title}" in text, spec.title
        assert spec.folder in text, spec.folder


def test_fallback_to_the_sample_corpus(tmp_path, root):
    images, source = images_or_samples("drive", ["retina", "microaneurysms"], root=tmp_path / "nothing")
    assert len(images) == 2 and source.startswith("offline sample corpus")
    images, source = images_or_samples("drive", ["retina"], root=root)
    assert len(images) == 2 and source.startswith("real dataset DRIVE")
    status = {row["name"]: row for row in dataset_status(root)}
    assert status["drive"]["present"] and status["drive"]["files"] == 2


def test_environment_variable_sets_the_root(monkeypatch, root):
    monkeypatch.setenv("MEDSTEGO_DATA", str(root))
    assert len(dataset_files("chestxray14")) == 1


def test_broken_file_in_a_dataset_is_named(root):
    bad = root / "DRIVE" / "test" / "images" / "02_test.tif"
    bad.write_bytes(b"not a tiff")
    with pytest.raises(ValueError, match=r"02_test\.tif: cannot read as an image"):
        list(iter_dataset("drive", root))


# ----------------------------------------------------------------------------------------------
# real datasets in the evaluation sets: split by patient / volume, used when present
# ----------------------------------------------------------------------------------------------

@pytest.fixture
def chest_root(tmp_path, monkeypatch):
    """A ChestX-ray14 layout with 12 patients (two follow-ups for patient 3) and an NTU cover folder."""
    chest, _ = load_sample("chest_xray")
    photo, _ = load_sample("astronaut")
    for k in range(12):
        tile = chest[k * 120:k * 120 + 400, k * 90:k * 90 + 400][::4, ::4]
        _png(tmp_path / "chestxray14" / "images_001" / "images" / f"{k:08d}_000.png", tile)
    _png(tmp_path / "chestxray14" / "images_001" / "images" / "00000003_001.png", chest[:400, :400][::4, ::4])
    for k in range(6):
        _png(tmp_path / "ntu_covers" / "set1" / f"img_{k:03d}.png", photo[k * 40:k * 40 + 200, :200])
    monkeypatch.setenv("MEDSTEGO_DATA", str(tmp_path))
    return tmp_path


def test_real_dataset_is_split_by_patient_and_used_by_the_evaluation_sets(chest_root):
    from utils.data import dataset_sources, image_set, pair_set, sources

    groups = dataset_sources("chestxray14")
    assert len(groups) == 12 and {g.split for g in groups} == {"train", "val", "test"}
    patient3 = [g for g in groups if g.id == "chestxray14:00000003"]
    assert len(patient3) == 1 and len(patient3[0].files) == 2  # both follow-ups in one group, one split
    assert dataset_sources("chestxray14") == groups  # the split depends on the names only

    found, text = sources("medical", "test")
    assert found and all(s.origin == "chestxray14" and s.split == "test" for s in found)
    assert text.startswith("real data: NIH ChestX-ray14")
    pairs = pair_set("test", "medical", size=32, n=8)
    assert set(pairs.secret_ids) <= {s.id for s in found}
    assert all(c.startswith("ntu_covers:") for c in pairs.cover_ids)  # covers from the real cover set too
    assert "real data" in pairs.description
    train = {s.id for s in sources("medical", "train")[0]}
    assert not train & set(pairs.secret_ids)
    images = image_set("val", size=32, n=4)
    assert images.images.shape == (4, 32, 32) and all(i.startswith("chestxray14:") for i in images.ids)
    corpus_pairs = pair_set("test", "medical", size=32, n=8, data="corpus")
    assert "offline corpus" in corpus_pairs.description


def test_too_small_a_real_dataset_falls_back_to_the_corpus_and_says_why(root, monkeypatch):
    from utils.data import sources

    monkeypatch.setenv("MEDSTEGO_DATA", str(root))  # one ChestX-ray14 image: cannot be split three ways
    found, text = sources("medical", "test", modality="xray")
    assert [s.origin for s in found] == ["corpus"] and "offline corpus" in text
    with pytest.raises(ValueError, match="cannot be split three ways"):
        sources("medical", "test", data="chestxray14")
