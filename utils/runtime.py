"""Seeds, op determinism and a short description of the machine, for the notebooks' setup cells."""

from __future__ import annotations

import os
import platform
import random

import numpy as np

__all__ = ["seed_everything", "machine_summary", "quiet_tensorflow"]


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ start-up logs (they go to stderr, which nbval would compare).

    Call before TensorFlow is imported.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def seed_everything(seed: int, tensorflow: bool = True) -> np.random.Generator:
    """Seed Python, NumPy and (if asked and installed) Keras/TensorFlow, and turn op determinism on.

    Returns a NumPy Generator seeded with ``seed`` for the notebook's own draws.
    """
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if tensorflow:
        quiet_tensorflow()
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
    return np.random.default_rng(seed)


def machine_summary() -> str:
    """One line: Python, CPU count, and the versions of the course's main libraries that are installed."""
    from importlib import metadata

    parts = [f"Python {platform.python_version()}", f"{os.cpu_count()} CPU cores"]
    for package in ("numpy", "pydicom", "scikit-image", "tensorflow", "keras"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(parts)
