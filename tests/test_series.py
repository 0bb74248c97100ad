"""utils.runner.series: profiles reach the notebooks, bad settings are refused, failures give a non-zero exit."""

import hashlib
import json
from pathlib import Path

import nbformat
import pytest

from utils.runner import series


def test_every_profile_plans_for_every_notebook():
    paths = series.notebook_paths()
    for profile in series.PROFILE_NAMES:
        planned = series.plan(paths, profile, {})
        assert all(values["profile"] == profile for values in planned.values())


def test_unknown_override_is_an_error_not_a_warning():
    with pytest.raises(SystemExit, match="-p n_epochz: no selected notebook has such a parameter"):
        series.plan(series.notebook_paths(["00"]), "default", {"n_epochz": 3})


def test_profile_naming_an_undefined_parameter_is_an_error(tmp_path, monkeypatch):
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[smoke]\n"00" = { no_such_parameter = 1 }\n')
    monkeypatch.setattr(series, "PROFILES_FILE", profiles)
    with pytest.raises(SystemExit, match="no_such_parameter"):
        series.plan(series.notebook_paths(["00"]), "smoke", {})


def test_out_folder_inside_the_sources_is_refused():
    with pytest.raises(SystemExit, match="inside the notebook sources"):
        series.run_series("smoke", ["00"], out=series.NOTEBOOKS / "runs")


def test_only_with_an_unknown_notebook_is_refused():
    with pytest.raises(SystemExit, match="--only 99: no notebook matches"):
        series.notebook_paths(["99"])


def test_values_are_parsed_as_python_literals():
    assert series._parse_value("3") == 3 and series._parse_value("0.5") == 0.5
    assert series._parse_value("true") is True and series._parse_value("text") == "text"


def _digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.glob("*.ipynb")))).hexdigest()


@pytest.mark.slow  # over 10 s: left out of the quick lane (make quick)
def test_smoke_profile_reaches_the_notebook_and_sources_stay_untouched(tmp_path):
    before = _digest(series.NOTEBOOKS)
    status = series.main(["--profile", "smoke", "--only", "00", "-p", "seed", "3", "--out", str(tmp_path),
                          "--no-progress"])
    assert status == 0
    executed = nbformat.read(tmp_path / "00_medical_images_and_dicom.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells])
    assert "profile=smoke, seed=3, patch_size=64, n_patches=4, cine_frames=6" in text
    assert "training patches: (4, 64, 64, 3)" in text
    assert (tmp_path / "00_medical_images_and_dicom.html").exists()
    assert "00_medical_images_and_dicom" in (tmp_path / "index.html").read_text()
    assert (tmp_path / "outputs" / "00" / "echocardiogram.gif").exists(), "notebooks write into --out"
    assert _digest(series.NOTEBOOKS) == before


def test_a_failing_notebook_gives_a_non_zero_exit_and_is_reported(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('profile = "default"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell('raise ValueError("boom in " + profile)')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "00_broken.ipynb")
    monkeypatch.setattr(series, "NOTEBOOKS", folder)
    monkeypatch.setattr(series, "PROFILES_FILE", folder / "profiles.toml")
    status = series.main(["--profile", "smoke", "--out", str(tmp_path / "run"), "--no-progress"])
    assert status == 1
    index = (tmp_path / "run" / "index.html").read_text()
    assert "failed" in index and "boom in smoke" in index
