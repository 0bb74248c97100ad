"""Conventions every notebook keeps: name, Colab badge, setup, one parameters cell, checked outputs, exercises."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
BADGE = "https://colab.research.google.com/github/medstego-course/medstego-course/blob/main/notebooks/{}"


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"])


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_name_badge_and_order_of_cells(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)
    cells = _cells(path)
    assert cells[0]["cell_type"] == "markdown" and BADGE.format(path.name) in _source(cells[0])
    assert "Objectives" in _source(cells[0])
    first_code = next(c for c in cells if c["cell_type"] == "code")
    assert "google.colab" in _source(first_code), "the first code cell must be the Colab-aware setup"
    assert any(c["cell_type"] == "markdown" and "## Exercises" in _source(c) for c in cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exactly_one_parameters_cell_defining_profile(path):
    tagged = [c for c in _cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    assert re.search(r"^profile\s*=\s*\"default\"", _source(tagged[0]), re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_are_complete_and_clean(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    assert all(c["execution_count"] is not None for c in code), "commit the outputs of a full default run"
    counts = [c["execution_count"] for c in code]
    assert counts == sorted(counts), "cells must have run top to bottom"
    checked = [c for c in code if "# NBVAL_CHECK_OUTPUT" in _source(c)]
    assert checked and all(c["outputs"] for c in checked), "nbval needs checked cells with outputs"
    for c in code:
        text = json.dumps(c["outputs"])
        assert '"output_type": "error"' not in text
        assert not re.search(r"/(root|tmp|home|work)/", text), "outputs must not show machine paths"
    assert path.stat().st_size < 3_000_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_has_a_worked_solution_right_after_it(path):
    """Exercises are markdown cells '### Exercise N'; each is followed by its solution, a code cell tagged
    'solution' whose first line is the Colab form title '#@title Solution to exercise N', hidden in JupyterLab."""
    cells = _cells(path)
    start = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "## Exercises" in _source(c))
    exercises = [i for i, c in enumerate(cells) if i > start and c["cell_type"] == "markdown"
                 and re.match(r"### Exercise \d+", _source(c))]
    assert exercises, "the Exercises section has no '### Exercise N' cells"
    for number, i in enumerate(exercises, 1):
        assert _source(cells[i]).startswith(f"### Exercise {number} "), f"exercise {number} is numbered out of order"
        solution = cells[i + 1]
        assert solution["cell_type"] == "code", f"exercise {number}: no solution cell after it"
        assert _source(solution).startswith(f"#@title Solution to exercise {number}"), f"exercise {number}"
        meta = solution["metadata"]
        assert "solution" in meta.get("tags", []) and meta.get("jupyter", {}).get("source_hidden") is True
        assert solution["outputs"], f"exercise {number}: the solution's outputs are not stored (it must run)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_cell_not_checked_raw_is_followed_by_checked_verdicts(path):
    """Numbers of networks trained in a notebook move across machines: their cell is not checked, and the
    next code cell prints computed verdicts (utils.metrics.verdicts) that nbval checks."""
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    for i, c in enumerate(code):
        if _source(c).startswith("# (not checked raw by nbval"):
            assert "NBVAL_CHECK_OUTPUT" not in _source(c)
            after = _source(code[i + 1])
            assert after.startswith("# NBVAL_CHECK_OUTPUT") and "say(" in after, _source(c)[:200]
            assert re.search(r": (yes|no)\b", json.dumps(code[i + 1]["outputs"])), "verdicts print yes or no"


COMMON_MODULES = {"utils.runtime", "utils.plotting", "utils.metrics", "utils.data"}  # named once in utils/README.md


def _utils_imports(path):
    """The utils modules a notebook imports (``from utils.x import y`` counts utils.x.y when y is a module)."""
    import ast

    root = Path(__file__).resolve().parents[1]
    found = set()
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(line for line in _source(cell).splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "utils":
                for alias in node.names:
                    child = root / (node.module + "." + alias.name).replace(".", "/")
                    found.add(f"{node.module}.{alias.name}" if child.is_dir() or child.with_suffix(".py").exists()
                              else node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.split(".")[0] == "utils")
    return found - COMMON_MODULES - {"utils"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_package_readme_lists_every_module_a_notebook_imports(path):
    readme = (Path(__file__).resolve().parents[1] / "utils" / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith(f"| {path.stem[:2]} ")]
    assert len(rows) == 1, f"utils/README.md needs one table row for notebook {path.stem[:2]}"
    missing = sorted(m for m in _utils_imports(path) if f"`{m}`" not in rows[0])
    assert not missing, f"{path.name} imports {missing}: add them to its row of utils/README.md"
