"""Where the trained models live and what their cards promise: one folder resolver, one card reader.

Every trained model of the course (hiders and learned ciphers) is a folder under ``utils/pretrained``
(:data:`PRETRAINED_DIR`) holding its weights (``*.weights.h5``), ``model_card.json`` (configuration,
command, data, steps, time, machine, test metrics) and ``README.md`` (the same facts, for people).

* :func:`model_folder` turns a name or a path into that folder, or says which models exist and how to
  train one;
* :func:`record_files` adds to a card what makes it checkable: the SHA-256 of every weights file and the
  code's commit (when the code runs from a git checkout);
* :func:`read_card` reads a card and refuses a folder whose weights are not the files the card describes;
* :func:`load_model` is every ``load_pretrained``: folder, checked card, model rebuilt from its card.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

__all__ = ["PRETRAINED_DIR", "WeightsMismatchError", "model_folder", "weights_files", "file_sha256",
           "record_files", "read_card", "code_commit", "load_model", "stored_results"]

#: The shipped models: one folder each.
PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"


class WeightsMismatchError(ValueError):
    """A weights file that is not the one its model card describes (changed, damaged or half-copied)."""


def model_folder(name_or_path, *, family: str, prefix: str, train: str, needs=("model_card.json",)) -> Path:
    """The folder of a trained model: an existing folder holding ``needs``, or a name under :data:`PRETRAINED_DIR`.

    Args:
        name_or_path: a shipped model's name (``"saae_64"``) or a folder written by a ``save_pretrained``.
        family: how the error message names the kind of model (``"SAAE model"``).
        prefix: the folder names of that family (``"saae"``), to list what exists.
        train: the command that trains one, for the error message.
        needs: the files the folder must hold.

    Raises:
        FileNotFoundError: neither a folder with those files nor a shipped model; names the ones shipped.
    """
    path = Path(name_or_path)
    if path.is_dir() and all((path / f).exists() for f in needs):
        return path
    folder = PRETRAINED_DIR / str(name_or_path)
    if not all((folder / f).exists() for f in needs):
        names = sorted(p.parent.name for p in PRETRAINED_DIR.glob(f"{prefix}*/model_card.json"))
        raise FileNotFoundError(f"no pretrained {family} {str(name_or_path)!r}: not a folder with "
                                f"{', '.join(needs)}, and not among the shipped ones ({', '.join(names) or 'none'}); "
                                f"train one: {train}")
    return folder


def weights_files(folder) -> list[Path]:
    """The weights files of a model folder (``*.weights.h5`` and ``*.npz``), sorted."""
    folder = Path(folder)
    return sorted([*folder.glob("*.weights.h5"), *folder.glob("*.npz")])


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_commit() -> str | None:
    """The git commit of the code that runs (with ``+dirty`` when the tree has changes), or None outside git."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


def record_files(folder, card: dict) -> dict:
    """``card`` with ``files`` (name -> SHA-256 of each weights file now in ``folder``) and ``code_commit``."""
    out = dict(card)
    out["files"] = {p.name: file_sha256(p) for p in weights_files(folder)}
    out.setdefault("code_commit", code_commit())
    return out


def read_card(folder) -> dict:
    """A model folder's card, after checking each weights file it lists against its SHA-256.

    Raises:
        WeightsMismatchError: a listed file is missing or differs from the card (names the file).
    """
    folder = Path(folder)
    card = json.loads((folder / "model_card.json").read_text())
    for name, expected in (card.get("files") or {}).items():
        path = folder / name
        if not path.exists():
            raise WeightsMismatchError(f"{path}: listed in its model card but missing; copy the whole folder again")
        found = file_sha256(path)
        if found != expected:
            raise WeightsMismatchError(f"{path}: SHA-256 {found[:12]}... is not the card's {expected[:12]}...: the "
                                       "weights were changed or damaged after the card was written; restore the "
                                       "file (git checkout, or reinstall the course) or retrain")
    return card


def load_model(name_or_path, build, *, family: str, prefix: str, train: str, needs=("model_card.json",)):
    """A trained model from its folder: :func:`model_folder`, then :func:`read_card` (the checksums), then
    ``build(card, folder)``, which rebuilds the model from ``card["config"]`` and loads its weights from
    ``folder``; the card is attached as ``model.card``. The keyword arguments are :func:`model_folder`'s."""
    folder = model_folder(name_or_path, family=family, prefix=prefix, train=train, needs=needs)
    card = read_card(folder)
    model = build(card, folder)
    model.card = card
    return model


def stored_results(folder, module: str) -> dict:
    """The ``results.json`` a stored study wrote into ``folder``; FileNotFoundError naming the command
    (``python -m <module> --out <folder>``) that makes it."""
    path = Path(folder) / "results.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: make it with python -m {module} --out {folder}")
    return json.loads(path.read_text())
