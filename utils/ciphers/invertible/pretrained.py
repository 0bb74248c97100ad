"""The invertible cipher's shipped models: save with a card (checksums, commit), load."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ...cards import load_model, record_files
from .cipher import InvertibleCipher
from .networks import InvertibleConfig, InvertibleNet


def _fmt(row: dict, digits: int = 2) -> str:
    return f"{row['mean']:.{digits}f} [{row['low']:.{digits}f}, {row['high']:.{digits}f}]"


def save_pretrained(net: InvertibleNet, folder, card: dict) -> Path:
    """Write ``model.weights.h5``, ``model_card.json`` (``card`` plus the configuration) and ``README.md``."""
    folder = net.save(folder)
    card = record_files(folder, {"config": asdict(net.config), **card})
    (folder / "model_card.json").write_text(json.dumps(card, indent=2))
    net.card = card
    m = card.get("test_metrics", {})
    cfg = card["config"]
    lines = ["# Model card: invertible encryption network (notebook 07)", "",
             "The course's reading of an invertible encryption network for an optical cryptosystem (Wang et al., "
             "Optics and Lasers in Engineering 2022, whose text was not available): Haar + affine coupling blocks "
             "before DRPE (whitening), DRPE with the key's two phase masks, Haar + coupling blocks after it "
             "(trained towards standard Gaussian white noise). Decryption is the exact inverse. See "
             "`utils/ciphers/invertible/`.", "",
             f"- Command: `{card.get('command', '')}`",
             f"- Date: {card.get('date', '')}",
             f"- Machine: {card.get('machine', '')}",
             f"- Data: {card.get('data', '')}",
             f"- Configuration: {cfg}",
             f"- Training: {card.get('steps')} steps of {card.get('batch')} images, Adam {cfg['learning_rate']}",
             f"- Wall time: {card.get('wall_time_minutes')} min; CPU time {card.get('cpu_minutes')} min "
             "(the CPU was shared with other jobs: CPU time is the fairer measure)",
             f"- Parameters: {card.get('parameters')}", ""]
    if m:
        lines += [f"Test metrics ({m['n']}; 95 % bootstrap intervals over source images):", "",
                  "| measure | value | ideal |", "| --- | --- | --- |",
                  f"| decryption, largest absolute error (0-1 scale) | {m['max_abs_error']:.2e} | 0 |",
                  f"| decryption, share of images exact as 8-bit | {_fmt(m['exact'], 3)} | 1 |",
                  f"| cipher entropy (bits, 64x128 cipher image) | {_fmt(m['entropy'], 3)} | 8 |",
                  f"| histogram chi-square (255 dof) | {_fmt(m['chi_square'], 0)} | < 293.25 |",
                  f"| histogram chi-square test passed (share of images) | {_fmt(m['chi_square_pass'], 3)} "
                  "| 0.95 (a random picture passes 95 % of the time) |",
                  f"| adjacent correlation, horizontal | {_fmt(m['correlation_horizontal'], 3)} | 0 |",
                  f"| adjacent correlation, vertical | {_fmt(m['correlation_vertical'], 3)} | 0 |",
                  f"| adjacent correlation, diagonal | {_fmt(m['correlation_diagonal'], 3)} | 0 |",
                  f"| NPCR, one pixel changed (%) | {_fmt(m['npcr'], 3)} | >= {m['npcr_critical']:.4f} |",
                  f"| UACI, one pixel changed (%) | {_fmt(m['uaci'], 3)} | {m['uaci_interval'][0]:.4f}-"
                  f"{m['uaci_interval'][1]:.4f} |", ""]
    lines += ["Validation curve (monitoring only; the last weights are kept): `curve` in model_card.json.", ""]
    (folder / "README.md").write_text("\n".join(lines))
    return folder


def load_pretrained(name: str | Path = "invertible_64") -> InvertibleNet:
    """A trained model: a name under ``utils/pretrained`` or a folder with ``model_card.json``."""
    return load_model(name, lambda card, folder: InvertibleNet(InvertibleConfig(**card["config"])).load(folder),
                      family="invertible model", prefix="invertible",
                      train="python -m utils.ciphers.invertible --out utils/pretrained/<name>")


def load(model: str | Path | InvertibleNet = "invertible_64", key: int | None = None) -> InvertibleCipher:
    """The course's invertible cipher with its shipped weights (or another model), optionally another DRPE key."""
    net = model if isinstance(model, InvertibleNet) else load_pretrained(model)
    return InvertibleCipher(net if key is None else net.with_key(key))
