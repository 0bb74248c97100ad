"""Numbers printed next to a rounding edge, found in f-strings as well as in intervals.

A checked cell fails on another machine when a number it prints sits so close to a rounding edge that the
last bits a different CPU computes flip its last printed digit. :meth:`utils.metrics.Interval.format` logs
its own near-edge values (``MEDSTEGO_EDGE_LOG``); a number printed by a plain f-string (``f"{psnr:.1f}"``,
``f"{rate:.0%}"``) goes through no course code, so this module rewrites the f-strings instead: installed in a
kernel (:func:`install`, run by an IPython startup file that :func:`startup_folder` writes), it passes every
value of a formatted field with a fixed number of digits (types ``f`` and ``%``) through :func:`_check`
first, which logs it when it is near an edge and returns it unchanged, so the output stays the same.

Where the edge is, after nbval's cut to two decimals, is decided by one rule for both logs:
:func:`utils.metrics.intervals.near_edge`.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

from ..metrics.intervals import near_edge

__all__ = ["near_edge", "EdgeFormatter", "cell_key", "install", "startup_folder"]

_HOOK = "__medstego_edge__"


class EdgeFormatter(ast.NodeTransformer):
    """Rewrites ``f"{x:.1f}"`` as ``f"{__medstego_edge__(x, f'.1f'):.1f}"``; other fields stay as written."""

    def visit_FormattedValue(self, node: ast.FormattedValue):
        self.generic_visit(node)
        if node.format_spec is None or node.conversion != -1:
            return node
        spec = ast.JoinedStr(values=list(node.format_spec.values))
        node.value = ast.Call(func=ast.Name(id=_HOOK, ctx=ast.Load()), args=[node.value, spec], keywords=[])
        return node

    def visit_Module(self, node: ast.Module):
        self.generic_visit(node)
        return ast.fix_missing_locations(node)


def cell_key(source: str) -> str:
    """A short fingerprint of a cell's source: how a logged number names the cell that printed it (IPython's
    execution count is not the count a notebook stores, and papermill sends no cell id)."""
    return hashlib.sha1(source.encode()).hexdigest()[:12]


def _check(log: Path, running: dict, value, spec: str):
    if near_edge(value, spec):
        with open(log, "a") as out:
            out.write(json.dumps({"cell_key": running.get("key"), "text": format(value, spec).strip(),
                                  "values": [float(value)], "spec": spec}) + "\n")
    return value


def install(log, shell=None) -> None:
    """Log, to the file ``log``, every near-edge number an f-string of a cell run by ``shell`` (the running
    IPython) prints, with the :func:`cell_key` of that cell's source."""
    import builtins
    import functools

    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    running = {}
    shell.events.register("pre_run_cell", lambda info: running.update(key=cell_key(info.raw_cell)))
    setattr(builtins, _HOOK, functools.partial(_check, Path(log), running))
    shell.ast_transformers.append(EdgeFormatter())


def startup_folder(folder: Path, log: Path) -> Path:
    """Write an IPython directory under ``folder`` whose startup file calls :func:`install` with ``log``;
    point ``IPYTHONDIR`` at the returned path and every kernel started from then on logs its edges."""
    startup = Path(folder) / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    repo = Path(__file__).resolve().parents[2]
    (startup / "00-medstego-edges.py").write_text(
        f"import sys\nsys.path.insert(0, {str(repo)!r})\n"
        f"from utils.runner.edges import install\ninstall({str(log)!r})\n")
    return startup.parents[1]
