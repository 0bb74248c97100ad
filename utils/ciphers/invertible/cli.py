"""``python -m utils.ciphers.invertible``: train the invertible network, measure it on the test split, save it with its card."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from .cipher import InvertibleCipher
from .networks import InvertibleConfig, InvertibleNet
from .pretrained import save_pretrained
from .training import train


def _row(interval) -> dict:
    return {"mean": round(float(interval.mean), 5), "low": round(float(interval.low), 5),
            "high": round(float(interval.high), 5)}


def measure_on_test(net: InvertibleNet, test_set) -> dict:
    """The card's test metrics: exactness, cipher statistics and avalanche, with intervals.

    The test images are quantised to 8 bits first: the plaintexts a sender holds.
    """
    import dataclasses

    from .. import evaluation as ev

    test_set = dataclasses.replace(test_set, images=ev.as_uint8(test_set.images).astype(np.float32) / 255.0)
    cipher = InvertibleCipher(net)
    ct = cipher.encrypt(test_set.images)
    rec = ev.reconstruction(cipher, test_set, ct)
    stats = ev.cipher_statistics(cipher, test_set, ct)
    aval = ev.avalanche(cipher, test_set)
    raw = np.asarray(net.decode(cipher.features(ct)))
    out = {k: _row(v) for k, v in {**rec, **stats}.items() if np.isfinite(v.mean)}
    out.update(max_abs_error=float(np.abs(raw - test_set.images).max()), npcr=_row(aval["npcr"]),
               uaci=_row(aval["uaci"]), npcr_pass=_row(aval["npcr_pass"]), uaci_pass=_row(aval["uaci_pass"]),
               npcr_critical=round(aval["npcr_critical"], 4),
               uaci_interval=[round(v, 4) for v in aval["uaci_interval"]], n=rec["exact"].describe())
    return out


def build_parser():
    """The command line, its model options made from the configuration dataclass (:mod:`utils.configs`)."""
    import argparse

    from ...configs import add_config_arguments

    parser = argparse.ArgumentParser(prog="python -m utils.ciphers.invertible",
                                     description="Train the invertible encryption network, measure it on the test "
                                                 "split, save it.")
    parser.add_argument("--out", type=Path, required=True, help="folder for weights and model card")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--pool", type=int, default=2048, help="train-split patches to draw batches from")
    parser.add_argument("--eval-every", type=int, default=0, help="validation every N steps (default steps/20)")
    parser.add_argument("--n-test", type=int, default=None, help="test images (default: the full test set)")
    parser.add_argument("--progress", action="store_true")
    add_config_arguments(parser, InvertibleConfig, flags={"image_size": "--size", "learning_rate": "--lr"})
    return parser


def _main(argv=None) -> None:
    import platform

    from ...configs import training_start
    from ...runtime import machine_summary

    args, config, train_set, val, test = training_start(build_parser(), InvertibleConfig, argv)
    net = InvertibleNet(config)
    eval_every = args.eval_every or max(1, args.steps // 20)
    history = train(net, train_set.images, args.steps, args.batch, val.images, eval_every, progress=args.progress,
                    log=lambda line: print(line, flush=True))
    metrics = measure_on_test(net, test)
    card = {"command": "python -m utils.ciphers.invertible " + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_summary(),
            "platform": platform.platform(), "image_size": config.image_size, "steps": args.steps,
            "batch": args.batch, "pool": args.pool,
            "data": f"train: {train_set.description}; validation (monitoring): {val.description}; "
                    f"test: {test.description}",
            "wall_time_minutes": round(history["seconds"] / 60, 1),
            "cpu_minutes": round(history["cpu_seconds"] / 60, 1),
            "images_per_second": round(history["images_per_second"], 2), "parameters": net.count_params(),
            "test_metrics": metrics, "curve": history["evals"],
            "losses_every_10": {k: [round(v, 6) for v in history[k][9::10]]
                                for k in ("total", "gauss", "correlation", "white", "energy")}}
    save_pretrained(net, args.out, card)
    print(json.dumps({k: card[k] for k in ("wall_time_minutes", "cpu_minutes", "images_per_second")}, indent=2))
    print(json.dumps({k: metrics[k] for k in ("max_abs_error", "entropy", "chi_square", "npcr", "n")}, indent=2))
