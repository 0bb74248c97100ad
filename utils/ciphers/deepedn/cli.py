"""``python -m utils.ciphers.deepedn``: train a DeepEDN model, measure it on the test split, save it with its card."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from .cipher import DeepEDNCipher
from .key_domain import KEY_DOMAINS
from .networks import DeepEDN, DeepEDNConfig
from .pretrained import save_pretrained
from .roi import dice, predict_roi, roi_masks, train_roi
from .training import train_cyclegan


def _row(interval) -> dict:
    return {"mean": round(float(interval.mean), 5), "low": round(float(interval.low), 5),
            "high": round(float(interval.high), 5)}


def measure_on_test(model: DeepEDN, test_set) -> dict:
    """The card's test metrics: reconstruction, cipher statistics, avalanche and ROI Dice, with intervals."""
    from ...metrics import bootstrap_ci
    from .. import evaluation as ev

    cipher = DeepEDNCipher(model)
    ct = cipher.encrypt(test_set.images)
    rec = ev.reconstruction(cipher, test_set, ct)
    stats = ev.cipher_statistics(cipher, test_set, ct)
    aval = ev.avalanche(cipher, test_set)
    roi = bootstrap_ci(dice(predict_roi(model.roi, ct.astype(np.float32) / 255.0), roi_masks(test_set.images)),
                       test_set.ids)
    out = {k: _row(v) for k, v in {**rec, **stats}.items()}
    out.update(npcr=_row(aval["npcr"]), uaci=_row(aval["uaci"]), npcr_pass=_row(aval["npcr_pass"]),
               uaci_pass=_row(aval["uaci_pass"]), npcr_critical=round(aval["npcr_critical"], 4),
               uaci_interval=[round(v, 4) for v in aval["uaci_interval"]], roi_dice=_row(roi),
               n=rec["psnr"].describe())
    return out


def quality_note(metrics: dict, steps: int, config: DeepEDNConfig, extra: str = "") -> str:
    """A plain sentence on what the measured numbers mean, written from the numbers themselves."""
    psnr, entropy, npcr = metrics["psnr"]["mean"], metrics["entropy"]["mean"], metrics["npcr"]["mean"]
    passes = metrics["npcr_pass"]["mean"]
    text = (f"after {steps} steps at width {config.width} with {config.blocks} residual blocks, the reconstruction "
            f"network decrypts test images at {psnr:.1f} dB; the cipher images have {entropy:.2f} bits of entropy; "
            f"one changed plaintext pixel changes {npcr:.2f} % of the cipher pixels (Wu et al. ask >= "
            f"{metrics['npcr_critical']:.2f} %; {passes:.0%} of images pass)"
            + (": the avalanche test fails. The generator's receptive field spans the patch, but it is a smooth "
               "map: a one-level change moves most cipher values by a small fraction of a grey level, which the "
               "8-bit rounding swallows (notebook 05, exercise 4, measures it); nothing in the Cycle-GAN loss asks "
               "for diffusion. "
               if passes < 0.5 else ". ")
            + "Reconstruction quality is limited by the CPU budget (small networks, short training).")
    return text + (" " + extra if extra else "")


def build_parser():
    """The command line, its model options made from the configuration dataclass (:mod:`utils.configs`)."""
    import argparse

    from ...configs import add_config_arguments

    parser = argparse.ArgumentParser(prog="python -m utils.ciphers.deepedn",
                                     description="Train a DeepEDN model, measure it on the test split, save it.")
    parser.add_argument("--out", type=Path, required=True, help="folder for weights and model card")
    parser.add_argument("--steps", type=int, default=4000, help="Cycle-GAN steps")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--pool", type=int, default=2048, help="train-split patches to draw batches from")
    parser.add_argument("--roi-steps", type=int, default=400)
    parser.add_argument("--eval-every", type=int, default=0, help="validation every N steps (default steps/20)")
    parser.add_argument("--n-test", type=int, default=None, help="test images (default: the full test set)")
    parser.add_argument("--quality-note", default="", help="a sentence added to the card's note on quality")
    parser.add_argument("--minutes", type=float, default=None, help="stop the Cycle-GAN training after this wall time")
    parser.add_argument("--progress", action="store_true")
    add_config_arguments(parser, DeepEDNConfig, choices={"key_domain": KEY_DOMAINS},
                         flags={"image_size": "--size", "learning_rate": "--lr", "warmup_steps": "--warmup"})
    return parser


def _main(argv=None) -> None:
    import platform

    from ...configs import training_start
    from ...runtime import machine_summary

    args, config, train, val, test = training_start(build_parser(), DeepEDNConfig, argv)
    model = DeepEDN(config)
    eval_every = args.eval_every or max(1, args.steps // 20)
    wall, cpu = time.perf_counter(), time.process_time()
    history = train_cyclegan(model, train.images, args.steps, args.batch, val.images, eval_every,
                             progress=args.progress, log=lambda line: print(line, flush=True),
                             max_minutes=args.minutes)
    cipher8 = DeepEDNCipher(model).encrypt(train.images)
    roi_history = train_roi(model.roi, cipher8.astype(np.float32) / 255.0, roi_masks(train.images),
                            steps=args.roi_steps, seed=args.seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    metrics = measure_on_test(model, test)
    key_text = (f"keyed sparse-tap texture, key {config.key} (utils.ciphers.deepedn.key_domain_images)"
                if config.key_domain == "texture" else "i.i.d. uniform noise (keyless)")
    card = {"command": "python -m utils.ciphers.deepedn " + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_summary(),
            "platform": platform.platform(), "image_size": config.image_size, "steps": history["steps_done"],
            "steps_planned": args.steps,
            "batch": args.batch, "pool": args.pool, "roi_steps": args.roi_steps, "key_domain_text": key_text,
            "data": f"train: {train.description}; validation (monitoring): {val.description}; test: {test.description}",
            "wall_time_minutes": round(wall / 60, 1), "cpu_minutes": round(cpu / 60, 1),
            "images_per_second": round(history["images_per_second"], 2), "parameters": model.count_params(),
            "test_metrics": metrics,
            "quality_note": quality_note(metrics, history["steps_done"], config, args.quality_note),
            "curve": history["evals"],
            "losses_every_10": {k: [round(float(v), 5) for v in history[k][9::10]]
                                for k in ("gen", "adv_G", "adv_F", "cycle_x", "cycle_y", "identity", "D_cipher", "D_plain")},
            "roi_loss_every_10": [round(v, 5) for v in roi_history["loss"][9::10]]}
    save_pretrained(model, args.out, card)
    print(json.dumps({k: card[k] for k in ("wall_time_minutes", "cpu_minutes", "images_per_second")}, indent=2))
    print(json.dumps({k: metrics[k] for k in ("psnr", "ssim", "entropy", "npcr", "roi_dice", "n")}, indent=2))
