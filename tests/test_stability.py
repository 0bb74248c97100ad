"""utils.runner.stability: which outputs of a re-run moved, after nbval's sanitizers."""

import pytest

from utils.runner.stability import cell_texts, moved_lines, sanitizers


def _nb(*cells):
    return {"cells": [{"cell_type": "markdown", "source": ["# title"]}] + [
        {"cell_type": "code", "source": [source], "outputs": [{"output_type": "stream", "name": "stdout", "text": [text]}]}
        for source, text in cells]}


def test_sanitizers_are_read_from_the_course_file_and_cut_floats_to_two_decimals():
    rules = sanitizers()
    text = "PSNR 27.2169 dB, error 3.2e-12"
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    assert text == "PSNR 27.21 dB, error TINY"


def test_moved_lines_ignore_digits_the_sanitizers_cut_and_report_the_rest():
    stored = _nb(("# NBVAL_CHECK_OUTPUT\nprint(x)", "PSNR 27.2169\n"), ("print(y)", "chi 342.1\nsame\n"),
                 ("# NBVAL_CHECK_OUTPUT\nprint(z)", "yes\n"))
    fresh = _nb(("# NBVAL_CHECK_OUTPUT\nprint(x)", "PSNR 27.2141\n"), ("print(y)", "chi 342.2\nsame\n"),
                ("# NBVAL_CHECK_OUTPUT\nprint(z)", "no\nextra\n"))
    assert [c[1] for c in cell_texts(stored)] == [True, False, True]
    moved = moved_lines(stored, fresh)
    assert [(m["cell"], m["checked"]) for m in moved] == [(2, False), (3, True)]
    assert moved[0]["lines"] == [("chi 342.1", "chi 342.2")]
    assert moved[1]["lines"] == [("yes", "no"), ("", "extra")]
    assert moved_lines(stored, stored) == []


def test_notebooks_with_other_cells_are_refused():
    with pytest.raises(ValueError, match="same cells"):
        moved_lines(_nb(("a", "1\n")), {"cells": [{"cell_type": "code", "source": ["a"], "outputs": []}]})


def test_the_perturbed_environment_is_set_and_then_restored(monkeypatch):
    import os

    from utils.runner.stability import PERTURBED_ENV, _set_environment

    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    saved = _set_environment(PERTURBED_ENV)
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "1" and "OPENBLAS_CORETYPE" not in os.environ
    _set_environment(saved)
    assert os.environ["OPENBLAS_CORETYPE"] == "Haswell" and "TF_NUM_INTRAOP_THREADS" not in os.environ


def test_intervals_next_to_a_rounding_edge_are_logged_and_found_in_checked_cells(tmp_path, monkeypatch):
    import json

    from utils.metrics import Interval
    from utils.metrics.intervals import EDGE_LOG_VARIABLE
    from utils.runner.stability import edge_cells

    log = tmp_path / "edges.jsonl"
    monkeypatch.setenv(EDGE_LOG_VARIABLE, str(log))
    near = Interval(1926.9, 1309.4873, 2709.1, 224).format(0)  # 1309.487: 0.013 of a unit from the edge
    far = Interval(24.41, 21.3, 28.0, 224).format(1)
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["text"] for e in logged] == [near] and logged[0]["values"] == [1309.4873]
    notebook = _nb(("# NBVAL_CHECK_OUTPUT\nshow()", f"chi {near}\n"), ("show()", f"chi {near}\n"),
                   ("# NBVAL_CHECK_OUTPUT\nshow()", f"psnr {far}\n"))
    assert [e["cell"] for e in edge_cells(notebook, logged)] == [1]  # the checked cell only
    monkeypatch.delenv(EDGE_LOG_VARIABLE)
    Interval(1.0, 0.05, 2.0, 3).format(1)  # without the variable nothing is written
    assert len(log.read_text().splitlines()) == 1
