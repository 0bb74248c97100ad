"""Seeds, op determinism and a short description of the machine, for the notebooks' setup cells."""

from __future__ import annotations

import os
import platform
import random
import sys

import numpy as np

__all__ = ["seed_everything", "machine_summary", "quiet_tensorflow", "keras_backend", "determinism_warning"]


def keras_backend() -> str:
    """The Keras backend this process uses: $KERAS_BACKEND, else Keras's configured one (tensorflow by default)."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def quiet_tensorflow() -> None:
    """Import TensorFlow without its C++ start-up notes on stderr (oneDNN, "no CUDA driver" on a CPU).

    TensorFlow 2.21 writes them straight to file descriptor 2 before its logger is set up, so the usual
    TF_CPP_MIN_LOG_LEVEL does not stop them; in a notebook they would fill cell outputs with
    time-stamped lines that change on every run. Only the import and the creation of the devices run
    with file descriptor 2 sent to /dev/null; Python exceptions still surface.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or keras_backend() != "tensorflow":
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.zeros(1) + 1  # device creation: the "failed call to cuInit" note appears here on CPU machines
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def seed_everything(seed: int, tensorflow: bool = True) -> np.random.Generator:
    """Seed Python, NumPy and (if asked) Keras, and turn TensorFlow's op determinism on when that is the backend.

    Returns a NumPy Generator seeded with ``seed`` for the notebook's own draws.
    """
    determinism_warning()
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if tensorflow:
        quiet_tensorflow()
        import keras

        keras.utils.set_random_seed(seed)
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
    return np.random.default_rng(seed)


def determinism_warning() -> str | None:
    """Warn (and return the text) when TensorFlow's numbers may move across machines or runs: TensorFlow
    imported before the course package, or oneDNN / inter-op parallelism switched back on (utils/__init__.py)."""
    import utils

    text = None
    if utils.TENSORFLOW_IMPORTED_FIRST:
        text = ("TensorFlow was imported before the course package, so oneDNN could not be switched off: numbers may "
                "differ from the stored ones. Restart the kernel and import utils before tensorflow or keras.")
    elif os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0" or os.environ.get("TF_NUM_INTEROP_THREADS") != "1":
        text = ("TF_ENABLE_ONEDNN_OPTS or TF_NUM_INTEROP_THREADS is set in the environment to other values than 0 and 1: "
                "training is then not bit-identical across runs and machines. Unset them for the stored numbers.")
    if text and keras_backend() == "tensorflow":
        import warnings

        warnings.warn(text, RuntimeWarning, stacklevel=3)
        return text
    return None


def machine_summary() -> str:
    """One line: Python, CPU count, and the versions of the course's main libraries that are installed."""
    from importlib import metadata

    parts = [f"Python {platform.python_version()}", f"{os.cpu_count()} CPU cores"]
    for package in ("numpy", "pydicom", "scikit-image", "tensorflow", "jax", "keras"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(parts) + f", Keras backend {keras_backend()}"


def portable_command(program: str, argv) -> str:
    """``program`` and its arguments as they would be typed in the repository, for a results card: an
    absolute path under the working directory is written relative to it, any other absolute path by its
    last part, so stored results never show a machine's folders."""
    from pathlib import Path

    cwd = Path.cwd().resolve()
    words = []
    for word in map(str, argv):
        if os.path.isabs(word):
            path = Path(word).resolve()
            word = str(path.relative_to(cwd)) if path.is_relative_to(cwd) else path.name
        words.append(word)
    return " ".join([program, *words])


def store_study(folder, filename: str, result: dict, title: str, source: str, report: str) -> None:
    """Write a stored study: ``result`` as JSON in ``folder/filename`` and a README.md with its title, the
    command and commit that made it (``result["command"]``, ``result["code_commit"]``), its time and the
    ``report`` text."""
    import json
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / filename).write_text(json.dumps(result, indent=1) + "\n")
    (folder / "README.md").write_text(f"# {title}\n\nMade by `{result['command']}` at commit {result.get('code_commit')} "
                                      f"({result['wall_time_minutes']} min on a 2-core CPU); see `{source}`.\n\n"
                                      f"```\n{report}\n```\n")


def read_study(folder, filename: str, program: str) -> dict:
    """A stored study's JSON; a missing file is named with the command that makes it."""
    import json
    from pathlib import Path

    path = Path(folder) / filename
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; make it with {program} --out {path.parent}")
    return json.loads(path.read_text())
