"""Will a notebook's checked outputs hold on another machine? ``python -m utils.runner.stability 08 [04 ...]``.

nbval compares the cells marked ``# NBVAL_CHECK_OUTPUT`` with the outputs stored on the machine that made
them. TensorFlow's CPU kernels split their sums by the processor's caches and by the number of threads, so
on another machine a network's outputs move in their last bits; training turns that into tenths of a dB,
and even the 8-bit images of a shipped network can change a few pixels. A check that passes here can then
fail elsewhere.

This command imitates another machine on this one: it executes each named notebook with its defaults in
a scratch folder while TensorFlow uses one intra-op thread (other sum orders), OpenBLAS its own kernel for
the processor (``OPENBLAS_CORETYPE`` unset) and XLA only AVX2 (``--xla_cpu_max_isa=AVX2``), then compares
every code cell's text output with the stored one after the sanitizers of ``notebooks/nbval_sanitize.cfg``.
It prints the lines that moved: in a checked cell they are a check that another machine can fail (print a
computed verdict instead, see :mod:`utils.metrics.verdicts`); in an unchecked cell they show how far a
number moves, which is the margin a verdict about it needs. The exit status is 1 when a checked cell moved.
Nothing is written to ``notebooks/``.

``--edges`` asks the other question: which checked numbers sit so close to a rounding edge that the
smallest move flips their last digit? It executes each notebook unperturbed with ``MEDSTEGO_EDGE_LOG`` set,
so that every interval printed through :meth:`utils.metrics.Interval.format` within 2 % of a unit of its
last digit from an edge is logged, and with an IPython startup file that does the same for every number a
cell prints through an f-string with fixed digits (:mod:`utils.runner.edges`). It prints those that appear in
a checked cell's output (exit status 1 when there are any): each is a check to turn into a computed verdict
before another machine fails it, unless it reads stored results (then it cannot move: say so and keep it).
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from .series import NOTEBOOKS, notebook_paths

__all__ = ["PERTURBED_ENV", "sanitizers", "cell_texts", "moved_lines", "edge_cells", "main"]

#: What differs from the stored run: other sum orders in TensorFlow, OpenBLAS and XLA.
PERTURBED_ENV = {"TF_NUM_INTRAOP_THREADS": "1", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2", "OPENBLAS_CORETYPE": None,
                 "OPENBLAS_L2_SIZE": None}
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def sanitizers(path: Path = NOTEBOOKS / "nbval_sanitize.cfg") -> list[tuple[re.Pattern, str]]:
    """The (regex, replacement) pairs of an nbval sanitizer file, in its order."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(Path(path).read_text())
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def cell_texts(notebook: dict) -> list[tuple[int, bool, str]]:
    """(cell index, checked?, text output) for every code cell of a notebook read as JSON."""
    rows = []
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        text = ""
        for out in cell.get("outputs", []):
            if "text" in out:
                text += "".join(out["text"])
            elif out.get("output_type") == "execute_result":
                text += "".join(out.get("data", {}).get("text/plain", ""))
        rows.append((i, CHECK_MARK in "".join(cell["source"]), text))
    return rows


def moved_lines(stored: dict, fresh: dict, rules=None) -> list[dict]:
    """Cells whose sanitized text output differs between two runs of one notebook.

    Returns one dict per such cell: ``cell`` (index), ``checked``, and ``lines``, pairs (stored, fresh) of
    the lines that differ (a missing line is "").
    """
    rules = sanitizers() if rules is None else rules

    def clean(text):
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        return text

    found = []
    for (i, checked, a), (j, _, b) in zip(cell_texts(stored), cell_texts(fresh)):
        if i != j:
            raise ValueError("the two notebooks do not have the same cells")
        if clean(a) == clean(b):
            continue
        la, lb = a.splitlines(), b.splitlines()
        width = max(len(la), len(lb))
        la, lb = la + [""] * (width - len(la)), lb + [""] * (width - len(lb))
        found.append({"cell": i, "checked": checked, "lines": [(x, y) for x, y in zip(la, lb) if clean(x) != clean(y)]})
    return found


def _set_environment(values: dict) -> dict:
    """Set (a string) or unset (None) each variable; return what they were, in the same form."""
    saved = {k: os.environ.get(k) for k in values}
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    return saved


def _execute_perturbed(path: Path, target: Path) -> None:
    import papermill

    saved = _set_environment(PERTURBED_ENV)  # the kernel papermill starts inherits the environment
    try:
        papermill.execute_notebook(str(path), str(target), parameters={}, kernel_name="python3",
                                   cwd=str(target.parent), progress_bar=False)
    finally:
        _set_environment(saved)


def edge_cells(notebook: dict, logged: list[dict]) -> list[dict]:
    """The logged near-edge numbers that appear in the text output of a checked cell of ``notebook`` (read as
    JSON), each with that cell's index as ``cell``: intervals (``{"text", "values", "digits"}``, logged by
    :meth:`utils.metrics.Interval.format`) wherever their text appears, f-string fields (``{"text",
    "values", "spec", "cell_key"}``, logged by :mod:`utils.runner.edges`) only in the cell that printed them."""
    from .edges import cell_key

    keys = {i: cell_key("".join(c.get("source", ""))) for i, c in enumerate(notebook["cells"])}
    found = []
    for index, checked, text in cell_texts(notebook):
        if checked:
            found.extend({**entry, "cell": index} for entry in logged if entry["text"] in text
                         and entry.get("cell_key", keys[index]) == keys[index])
    return found


def _edges(path: Path) -> list[dict]:
    from utils.metrics.intervals import EDGE_LOG_VARIABLE

    from . import edges

    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "edges.jsonl"
        log.touch()
        ipython = edges.startup_folder(Path(scratch), log)  # f-strings: every kernel started now logs too
        saved = _set_environment({EDGE_LOG_VARIABLE: str(log), "IPYTHONDIR": str(ipython)})
        try:
            import papermill

            target = Path(scratch) / path.name
            papermill.execute_notebook(str(path), str(target), parameters={}, kernel_name="python3",
                                       cwd=str(target.parent), progress_bar=False)
        finally:
            _set_environment(saved)
        logged = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        return edge_cells(json.loads(target.read_text()), logged)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.runner.stability", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", help="notebook numbers (00, 08, ...)")
    parser.add_argument("--edges", action="store_true",
                        help="list checked numbers (intervals and f-string fields) printed within 2 %% of a "
                             "rounding edge instead")
    args = parser.parse_args(argv)
    if args.edges:
        found = {path.name: _edges(path) for path in notebook_paths(args.notebooks)}
        for name, entries in found.items():
            print(f"{name}: {len(entries)} checked numbers next to a rounding edge")
            for e in entries:
                how = f"{e['digits']} digits" if "digits" in e else f"f-string spec {e['spec']!r}"
                print(f"  cell {e['cell']}: {e['text']} (values {e['values']}, {how})")
        return 1 if any(found.values()) else 0
    failing = 0
    for path in notebook_paths(args.notebooks):
        with tempfile.TemporaryDirectory() as scratch:
            target = Path(scratch) / path.name
            _execute_perturbed(path, target)
            moved = moved_lines(json.loads(path.read_text()), json.loads(target.read_text()))
        checked = [m for m in moved if m["checked"]]
        failing += bool(checked)
        print(f"{path.name}: {len(checked)} checked and {len(moved) - len(checked)} unchecked cells moved")
        for m in moved:
            print(f"  cell {m['cell']} ({'CHECKED' if m['checked'] else 'not checked'})")
            for a, b in m["lines"][:12]:
                print(f"    stored: {a[:150]}\n    here:   {b[:150]}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
