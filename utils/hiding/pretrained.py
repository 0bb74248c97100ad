"""The trained hiders the course ships, with model cards that say how each was made and how good it is.

A pretrained hider is a folder under ``utils/pretrained/``: ``model.weights.h5`` and ``model_card.json``
(configuration, the command that trained it, machine, backend, data, steps, wall time, throughput, the
validation learning curve, and test quality with 95 % intervals over source images), and a ``README.md``
with the same facts for people. :func:`load_pretrained` rebuilds the network from the card and loads the
weights, under any Keras backend.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from .stego import Hider, StegoConfig, make_hider

__all__ = ["PRETRAINED_DIR", "available_pretrained", "save_pretrained", "save_weights_only", "write_card_markdown",
           "load_pretrained", "interval_dict"]

from ..cards import PRETRAINED_DIR, load_model, record_files  # noqa: E402  (one resolver for every model)


def available_pretrained() -> list[str]:
    """Names of the shipped hiders (folders with a card whose configuration is a hider's)."""
    names = []
    for card in sorted(PRETRAINED_DIR.glob("*/model_card.json")):
        if "variant" in json.loads(card.read_text()).get("config", {}):
            names.append(card.parent.name)
    return names


def interval_dict(interval) -> dict:
    """An :class:`utils.metrics.Interval` as plain numbers for JSON."""
    return {"mean": round(interval.mean, 4), "low": round(interval.low, 4), "high": round(interval.high, 4),
            "n": interval.n, "sources": list(interval.sources)}


def save_weights_only(model: Hider, path) -> None:
    """The network's weights, without the optimizer's state that a compiled model would add (3x smaller)."""
    clone = make_hider(model.config_).build_for(16)
    clone.set_weights(model.get_weights())
    clone.save_weights(str(path))


def save_pretrained(model: Hider, folder, card: dict) -> Path:
    """Write ``model.weights.h5``, ``model_card.json`` (configuration + ``card``) and ``README.md``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_weights_only(model, folder / "model.weights.h5")
    card = record_files(folder, {"config": asdict(model.config_), **card})
    (folder / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    return write_card_markdown(folder)


def write_card_markdown(folder) -> Path:
    """Write ``README.md`` beside ``model_card.json``: the same facts, for people."""
    folder = Path(folder)
    card = json.loads((folder / "model_card.json").read_text())
    cfg = card["config"]
    lines = [f"# Model card: {folder.name}", "",
             f"A {cfg['variant']} hider ({'grey' if cfg['secret_channels'] == 1 else 'colour'} secrets in colour "
             f"covers), trained by the course's own code (`utils.hiding`).", "",
             f"- Command: `{card['command']}`", f"- Date: {card['date']}", f"- Machine: {card['machine']}",
             f"- Configuration: {cfg}", f"- Training data: {card['data']}",
             f"- Image size {card['image_size']} px; {card['steps']} steps of {card['batch']} pairs "
             f"(augmented: {card.get('augment')}); Adam {card['learning_rate']} ({card.get('lr_schedule')}); "
             f"beta {card['beta']}" + (f"; started from `{card['init']}`" if card.get("init") else ""),
             f"- Wall time: {card['wall_time_minutes']} min, of which training steps {card['train_minutes']} min "
             f"({card['pairs_per_second']} pairs per second); weights of step {card['best_step']} (best on the "
             "validation pairs)", ""]
    test = card.get("test")
    if test:
        lines += [f"Test quality ({test['description']}; containers stored as 8-bit images; means with 95 % "
                  "bootstrap intervals over source images):", "",
                  "| method | cover PSNR (dB) | cover SSIM | secret PSNR (dB) | secret SSIM |", "| --- | --- | --- | --- | --- |"]
        for label, row in test["rows"].items():
            cells = [f"{row[k]['mean']:.{3 if 'ssim' in k else 2}f} [{row[k]['low']:.{3 if 'ssim' in k else 2}f}, "
                     f"{row[k]['high']:.{3 if 'ssim' in k else 2}f}]" if row[k]["mean"] != float("inf") else "exact"
                     for k in ("cover_psnr", "cover_ssim", "secret_psnr", "secret_ssim")]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    if card.get("limits"):
        lines += ["What limits it: " + card["limits"], ""]
    lines += ["Learning curve on the validation pairs: `curve` in model_card.json.", ""]
    path = folder / "README.md"
    path.write_text("\n".join(lines))
    return path


def load_pretrained(name: str) -> Hider:
    """A trained hider: a shipped model's name or a folder written by :func:`save_pretrained` (card: ``model.card``).

    Raises:
        FileNotFoundError: no such model (the message lists the shipped hiders).
        utils.cards.WeightsMismatchError: the weights are not the file the card describes.
    """
    def build(card, folder):
        model = make_hider(StegoConfig(**card["config"])).build_for(card.get("image_size", 64))
        model.load_weights(str(folder / "model.weights.h5"))
        return model

    return load_model(name, build, family="hider", prefix="hider", train="python -m utils.hiding --out <folder>",
                      needs=("model_card.json", "model.weights.h5"))
