"""SAAE's shipped models: save with a card (checksums, commit), load."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ... import cards
from ...cards import record_files
from .cipher import SAAECipher
from .networks import DEFAULT_MODEL, SAAE, SAAEConfig


def save_pretrained(model: SAAE, folder, card: dict) -> None:
    """Write ``model.weights.h5`` (encoder and decoder), ``critic.weights.h5``, ``model_card.json`` and ``README.md``."""
    folder = Path(folder)
    model.save_weights(folder)
    card = record_files(folder, {"config": asdict(model.config), **card})
    (folder / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    _write_card_markdown(folder, card)


def _write_card_markdown(folder: Path, card: dict) -> None:
    m = card["test_metrics"]
    rows = [f"| {label} | {m[key]} |" for key, label in (
        ("psnr", "PSNR of the decryption (dB)"), ("ssim", "SSIM of the decryption"),
        ("entropy", "cipher entropy (bits, ideal 8)"), ("chi_square", "cipher histogram chi-square (pass < 293.25)"),
        ("correlation_horizontal", "cipher adjacent-pixel correlation, horizontal (ideal 0)"),
        ("npcr", "NPCR, one pixel changed (%, pass >= 99.4491)"), ("uaci", "UACI (%, pass 32.7389-34.1882)"))
        if key in m]
    lines = [f"# Model card: {folder.name}", "",
             "The scrambling adversarial autoencoder (Bao, Xue and Jin, MTAP 2021) as the course rebuilds it at "
             "CPU scale (`utils.ciphers.saae`): encoder and decoder are Cycle-GAN ResNet generators, a PatchGAN "
             "critic tells cipher images from uniform noise; loss = L1 reconstruction + lambda x LSGAN adversarial. "
             "The decoder reads the cipher image rounded to 8 bits.", "",
             f"- Command: `{card['command']}`", f"- Date: {card['date']}", f"- Machine: {card['machine']}",
             f"- Configuration: {card['config']}", f"- Networks: {card['networks']}",
             f"- Data: {card['data']}",
             f"- Training: {card['steps']} steps of {card['batch']} images, Adam {card['learning_rate']} "
             f"(beta1 0.5; {card['lr_schedule']}) for encoder+decoder and for the critic; weights kept: {card['kept']}",
             f"- Wall time: {card['wall_time_minutes']} min of training ({card['cpu_minutes']} CPU-minutes; "
             f"{card['images_per_second']} images per second; the CPU was shared with other jobs)", "",
             f"Test metrics ({card['test_description']}; mean [95 % bootstrap interval over source images]):", "",
             "| measure | value |", "| --- | --- |", *rows, "",
             f"What limits the quality: {card['limits']}", "",
             "Validation curve: `curve` in model_card.json.", ""]
    (folder / "README.md").write_text("\n".join(lines))


def load_model(name_or_path=DEFAULT_MODEL) -> SAAE:
    """A trained :class:`SAAE`: a pretrained model's name (``"saae_64"``, ``"saae_64_seed1"``) or a folder
    written by :func:`save_pretrained`; its card is in ``.card``."""
    def build(card, folder):
        model = SAAE(SAAEConfig(**card["config"]))
        model.load_weights(folder)
        return model

    return cards.load_model(name_or_path, build, family="SAAE model", prefix="saae",
                            train="python -m utils.ciphers.saae --out utils/pretrained/<name>",
                            needs=("model_card.json", "model.weights.h5"))


def load(model=DEFAULT_MODEL) -> SAAECipher:
    """The ``saae`` cipher with the shipped weights (``model``: another pretrained name, folder or :class:`SAAE`)."""
    return SAAECipher(model if isinstance(model, SAAE) else load_model(model))
