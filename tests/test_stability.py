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



def test_the_edge_rule_keeps_as_many_decimals_as_the_course_sanitizer_file():
    # near_edge (utils.metrics) cannot read the notebooks' file; this ties its constant to the file instead
    from utils.metrics.intervals import SANITIZED_DIGITS

    for digits in range(1, 7):
        text = f"{0.123456789:.{digits}f}"
        for pattern, replacement in sanitizers():
            text = pattern.sub(replacement, text)
        assert len(text.split(".")[1]) == min(digits, SANITIZED_DIGITS), (digits, text)


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


def test_near_edge_judges_the_printed_digit_after_the_sanitizers_cut():
    from utils.runner.edges import near_edge

    assert near_edge(21.4501, ".1f") and near_edge(21.4499, "5.1f")  # a hair from 21.4 / 21.5
    assert not near_edge(21.43, ".1f") and not near_edge(21.47, ">8.1f")
    assert near_edge(0.4650, ".0%") and not near_edge(0.4620, ".0%")  # 46.5 %: the edge of 46 % / 47 %
    # three digits are cut to two: 0.7795 prints 0.780 or 0.779 (compared as 0.78 or 0.77); 0.7845 prints 0.785 or
    # 0.784, both compared as 0.78; an exact 1.0 prints 1.000 whichever way it moves by a hair
    assert near_edge(0.77950001, ".3f") and near_edge(0.7794999, ">8.3f")
    assert not near_edge(0.7845001, ".3f") and not near_edge(1.0, ".3f") and not near_edge(0.78, ".4f")
    assert near_edge(0.779950001, ".4f") and near_edge(0.804501, ".1%")
    assert not near_edge(2, ".1f") and not near_edge(True, ".0f") and not near_edge(float("inf"), ".1f")
    assert not near_edge(21.45, "g") and not near_edge(21.45, "") and not near_edge("21.45", ".1f")


def test_the_fstring_rewrite_logs_near_edge_fields_and_leaves_the_output_as_it_was(tmp_path):
    import ast
    import json
    import types

    from utils.runner.edges import EdgeFormatter, cell_key, install

    hooks = {}
    shell = types.SimpleNamespace(ast_transformers=[], events=types.SimpleNamespace(register=hooks.__setitem__))
    log = tmp_path / "edges.jsonl"
    install(log, shell)
    source = ("digits = 1\nvalues = [21.4501, 21.43, 0.465]\n"
              "text = f'{values[0]:.1f} {values[1]:.{digits}f} {values[2]:>6.0%} {values[0]!r:>10} {len(values)}'")
    hooks["pre_run_cell"](types.SimpleNamespace(raw_cell=source))  # what IPython calls before it runs a cell
    tree = shell.ast_transformers[0].visit(ast.parse(source))
    assert isinstance(shell.ast_transformers[0], EdgeFormatter)
    scope = {}
    exec(compile(tree, "<cell>", "exec"), scope)
    plain = {}
    exec(source, plain)
    assert scope["text"] == plain["text"] == "21.5 21.4    46%    21.4501 3"
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    key = cell_key(source)
    assert [(e["text"], e["spec"], e["cell_key"]) for e in logged] == [("21.5", ".1f", key), ("46%", ">6.0%", key)]


def test_fstring_edges_are_matched_to_the_checked_cell_that_printed_them():
    from utils.runner.edges import cell_key
    from utils.runner.stability import edge_cells

    printing = ["# NBVAL_CHECK_OUTPUT\nprint(f'{x:.1f}')", "print(f'{x:.1f}')"]
    notebook = _nb((printing[0], "21.5\n"), (printing[1], "21.5\n"), ("# NBVAL_CHECK_OUTPUT\nprint(y)", "21.5 again\n"))
    logged = [{"text": "21.5", "values": [21.4501], "spec": ".1f", "cell_key": cell_key(s)} for s in printing]
    assert [e["cell"] for e in edge_cells(notebook, logged)] == [1]  # not cell 2 (unchecked), not cell 3 (another count)


@pytest.mark.slow
def test_a_kernel_started_with_the_startup_folder_logs_its_fstring_edges(tmp_path, monkeypatch):
    """End to end: papermill runs a two-cell notebook in a kernel that reads the startup file."""
    import json

    import nbformat
    import papermill

    from utils.runner.edges import startup_folder
    from utils.runner.stability import edge_cells

    log = tmp_path / "edges.jsonl"
    monkeypatch.setenv("IPYTHONDIR", str(startup_folder(tmp_path, log)))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 21.4501"),
                nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(f'PSNR {x:.1f} dB, {x:.3f}')")]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    source, target = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, source)
    papermill.execute_notebook(str(source), str(target), kernel_name="python3", progress_bar=False)
    executed = json.loads(target.read_text())
    assert "PSNR 21.5 dB, 21.450" in "".join(executed["cells"][1]["outputs"][0]["text"])  # 21.450: no edge after the cut
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["cell"], e["text"]) for e in edge_cells(executed, logged)] == [(1, "21.5")]
