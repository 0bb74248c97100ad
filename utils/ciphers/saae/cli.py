"""``python -m utils.ciphers.saae``: train an SAAE, measure it on the test split, save it with its card."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from .cipher import SAAECipher
from .networks import SAAE, SAAEConfig
from .pretrained import save_pretrained
from .training import train

LIMITS = ("a CPU budget: generators of width {width} with {blocks} residual blocks (the paper's Cycle-GAN "
          "generators have 64 channels and 6-9 blocks at 256x256), {steps} steps of {batch} images, "
          "and a training set of patches from only {sources} medical source images; and the design itself: a "
          "convolutional encoder maps equal neighbourhoods to equal outputs, so flat regions of the plaintext "
          "stay visible as texture in the cipher image, and a one-pixel change stays local (see the avalanche row).")


def build_parser():
    """The command line, its model options made from the configuration dataclass (:mod:`utils.configs`)."""
    import argparse

    from ...configs import add_config_arguments

    parser = argparse.ArgumentParser(prog="python -m utils.ciphers.saae",
                                     description="Train a scrambling adversarial autoencoder and write weights + model card.")
    parser.add_argument("--out", type=Path, required=True, help="folder for the weights and the model card")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--constant-lr", action="store_true", help="no cosine decay of the learning rate")
    parser.add_argument("--pool", type=int, default=2048, help="training patches (train split)")
    parser.add_argument("--eval-every", type=int, default=0, help="validation every N steps (default steps/20)")
    parser.add_argument("--n-val", type=int, default=64)
    parser.add_argument("--n-test", type=int, default=224)
    parser.add_argument("--keep", default="best", choices=["best", "last"],
                        help="keep the weights with the best validation PSNR, or the last ones")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_arguments(parser, SAAEConfig, flags={"image_size": "--size"})  # the seed also draws the data
    return parser


def _main(argv=None) -> None:
    import platform

    from ...configs import training_start
    from ...runtime import machine_summary
    from .. import evaluation as ev

    args, config, pool, val, test = training_start(build_parser(), SAAEConfig, argv)
    model = SAAE(config)
    eval_every = args.eval_every or max(1, args.steps // 20)
    history = train(model, pool.images, args.steps, args.batch, args.lr, val=val.images, eval_every=eval_every,
                    keep=args.keep, decay=not args.constant_lr, progress=not args.quiet)
    cipher = SAAECipher(model)
    ct = cipher.encrypt(test.images)
    measured = {**ev.reconstruction(cipher, test, ct), **ev.cipher_statistics(cipher, test, ct),
                **{k: v for k, v in ev.avalanche(cipher, test).items() if k in ("npcr", "uaci")}}
    metrics_text = {k: v.format(4 if k in ("npcr", "uaci") else 3) for k, v in measured.items()
                    if k in ("psnr", "ssim", "entropy", "chi_square", "correlation_horizontal", "npcr", "uaci")}
    argv_text = " ".join(argv if argv is not None else sys.argv[1:])
    card = {"command": f"python -m utils.ciphers.saae {argv_text}",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_summary(),
            "platform": platform.platform(), "networks": model.describe(),
            "data": f"training: {pool.description}; flips and quarter turns at random. Validation (monitoring, "
                    f"choice of the kept weights): {val.description}. Test: {test.description}",
            "steps": args.steps, "batch": args.batch, "learning_rate": args.lr,
            "lr_schedule": "constant" if args.constant_lr else "cosine decay to 10 %", "pool": args.pool,
            "kept": f"step {history['kept_step']} ({args.keep} validation PSNR)" if args.keep == "best" else "last step",
            "wall_time_minutes": round(history["seconds"] / 60, 1),
            "cpu_minutes": round(history["cpu_seconds"] / 60, 1),
            "images_per_second": round(history["images_per_second"], 1),
            "test_description": f"{len(test)} test images from {len(set(test.ids))} source images",
            "test_metrics": metrics_text,
            "test_metrics_values": {k: [round(v.mean, 4), round(v.low, 4), round(v.high, 4), v.n] for k, v in measured.items()},
            "limits": LIMITS.format(width=config.width, blocks=config.blocks, steps=args.steps, batch=args.batch,
                                    sources=len(set(pool.ids))),
            "curve": [{k: round(v, 4) if isinstance(v, float) else v for k, v in e.items()} for e in history["evals"]],
            "losses_every_10_steps": {k: [round(float(np.mean(history[k][i:i + 10])), 5)
                                          for i in range(0, len(history[k]), 10)]
                                      for k in ("reconstruction", "adversarial", "critic")}}
    save_pretrained(model, args.out, card)
    print(json.dumps({k: card[k] for k in ("wall_time_minutes", "cpu_minutes", "kept", "test_metrics")}, indent=2))
