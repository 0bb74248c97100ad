"""DeepEDN's shipped models: save with a card (checksums, commit), the card's README, load."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ...cards import load_model, record_files
from .cipher import DeepEDNCipher
from .networks import DeepEDN, DeepEDNConfig


def save_pretrained(model: DeepEDN, folder: Path, card: dict) -> None:
    """Write the weights (G, F, roi), ``model_card.json`` (config + provenance + metrics) and ``README.md``."""
    folder = Path(folder)
    model.save(folder)
    card = record_files(folder, {"config": asdict(model.config), **card})
    (folder / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    write_card_markdown(folder)


def _fmt(row: dict, digits: int = 2) -> str:
    return f"{row['mean']:.{digits}f} [{row['low']:.{digits}f}, {row['high']:.{digits}f}]"


def write_card_markdown(folder: Path) -> Path:
    """``README.md`` beside ``model_card.json``: the same facts, for people."""
    folder = Path(folder)
    card = json.loads((folder / "model_card.json").read_text())
    cfg, m = card["config"], card["test_metrics"]
    lines = [f"# Model card: {folder.name}", "",
             "DeepEDN (Ding et al. 2021) rebuilt at CPU scale by the course's own code: a Cycle-GAN between grey "
             "medical images and a keyed cipher domain, its reconstruction network, and an ROI-mining network "
             "that segments cipher images.", "",
             f"- Command: `{card['command']}`", f"- Date: {card['date']}", f"- Machine: {card['machine']}",
             f"- Configuration: {cfg}",
             f"- Key domain: {card['key_domain_text']}",
             f"- Data: {card['data']}",
             f"- Training: {card['steps']} Cycle-GAN steps of {card['batch']} images"
             + (f" (of {card['steps_planned']} planned: stopped by the wall-time budget)"
                if card.get("steps_planned", card["steps"]) > card["steps"] else "")
             + f" (Adam {cfg['learning_rate']}"
             + (", constant for half the steps, then linearly to 0" if cfg.get("lr_decay") else "")
             + (f"; the first {cfg['warmup_steps']} steps without the adversarial terms" if cfg.get("warmup_steps") else "")
             + ", "
             f"beta1 {cfg['beta_1']}; LSGAN; L1 decryption cycle x{cfg['lambda_cycle']}, L1 key-domain cycle "
             f"x{cfg['lambda_cycle_back']}, L1 identity x{cfg['lambda_identity']}; 8-bit rounding of the cipher "
             f"images with a straight-through gradient; generators {'with' if cfg['norm'] else 'without'} instance "
             f"normalisation), then {card['roi_steps']} ROI-mining steps",
             f"- Wall time: {card['wall_time_minutes']} min; CPU time {card['cpu_minutes']} min "
             f"(the CPU was shared with other jobs: CPU time is the fairer measure)",
             f"- Parameters: {card['parameters']}", "",
             f"Test metrics ({m['n']}; 95 % bootstrap intervals over source images):", "",
             "| measure | value | ideal |", "| --- | --- | --- |",
             f"| decryption PSNR (dB, 8-bit cipher images) | {_fmt(m['psnr'])} | high |",
             f"| decryption SSIM | {_fmt(m['ssim'], 3)} | 1 |",
             f"| decryption MSE (0-1 scale) | {_fmt(m['mse'], 5)} | 0 |",
             f"| cipher entropy (bits) | {_fmt(m['entropy'], 3)} | 8 (7.95 for a random 64x64 image) |",
             f"| histogram chi-square (255 dof) | {_fmt(m['chi_square'], 0)} | < 293.25 |",
             f"| adjacent correlation, horizontal | {_fmt(m['correlation_horizontal'], 3)} | 0 |",
             f"| NPCR, one pixel changed (%) | {_fmt(m['npcr'], 3)} | >= {m['npcr_critical']:.4f} |",
             f"| UACI, one pixel changed (%) | {_fmt(m['uaci'], 3)} | {m['uaci_interval'][0]:.4f}-"
             f"{m['uaci_interval'][1]:.4f} |",
             f"| ROI Dice from cipher images | {_fmt(m['roi_dice'], 3)} | 1 |", "",
             f"Quality and its limits: {card['quality_note']}", "",
             "Validation curve (monitoring only; the last weights are kept): `curve` in model_card.json.", ""]
    path = folder / "README.md"
    path.write_text("\n".join(lines))
    return path


def load_pretrained(name: str | Path = "deepedn_64") -> DeepEDN:
    """A trained DeepEDN model: a name under ``utils/pretrained`` or a folder with ``model_card.json``."""
    return load_model(name, lambda card, folder: DeepEDN(DeepEDNConfig(**card["config"])).load(folder),
                      family="DeepEDN model", prefix="deepedn",
                      train="python -m utils.ciphers.deepedn --out utils/pretrained/<name>")


def load(model: str | Path | DeepEDN = "deepedn_64") -> DeepEDNCipher:
    """The course's DeepEDN cipher with its shipped weights (or another trained model, by name or folder)."""
    return DeepEDNCipher(model if isinstance(model, DeepEDN) else load_pretrained(model))
