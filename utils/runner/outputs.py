"""Store fresh outputs in the notebook sources (for contributors): ``python -m utils.runner.outputs 00 [01 ...]``.

The committed notebooks carry the outputs of their own default run, which nbval checks. This command
executes each named notebook with its own defaults (no parameters injected) in a scratch folder, removes
papermill's bookkeeping, and only then replaces the source. It is the one command that writes into
``notebooks/``; the series runner never does.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from .series import NOTEBOOKS, notebook_paths

__all__ = ["store_outputs"]


def _clean(path: Path) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "tags" in cell.metadata and not cell.metadata["tags"]:
            del cell.metadata["tags"]
    nbformat.write(nb, path)


def store_outputs(keys: list[str]) -> None:
    """Execute the notebooks named by ``keys`` with their defaults and store the outputs in the sources."""
    import papermill

    for path in notebook_paths(keys):
        with tempfile.TemporaryDirectory() as scratch:
            target = Path(scratch) / path.name
            start = time.perf_counter()
            papermill.execute_notebook(str(path), str(target), parameters={}, kernel_name="python3",
                                       cwd=scratch, progress_bar=False)
            _clean(target)
            shutil.copyfile(target, path)
        print(f"{path.relative_to(NOTEBOOKS.parent)}: outputs stored ({(time.perf_counter() - start) / 60:.1f} min)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    store_outputs(sys.argv[1:])
