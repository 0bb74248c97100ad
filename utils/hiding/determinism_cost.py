"""``python -m utils.hiding.determinism_cost``: what bit-identical TensorFlow costs in hider speed.

The course turns oneDNN off and keeps one inter-op thread (utils/__init__.py) so that training gives the
same weights in every process. This script measures the price: training and inference throughput (pairs
per second of wall time) of the three hider designs at 64 px under three settings,

    library defaults    TF_ENABLE_ONEDNN_OPTS=1, TensorFlow's own inter-op thread count
    oneDNN off          TF_ENABLE_ONEDNN_OPTS=0
    course              TF_ENABLE_ONEDNN_OPTS=0, TF_NUM_INTEROP_THREADS=1

Each measurement runs in a fresh process (the settings only act before TensorFlow is imported), and the
settings take turns, ``--rounds`` times, so that a machine busy with other work slows all three alike; the
median of the rounds is reported and written to ``utils/results/determinism_cost.json`` (or ``--out``).

    python -m utils.hiding.determinism_cost             # 3 rounds, about 10 minutes on 2 cores
    python -m utils.hiding.determinism_cost --rounds 1  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

SETTINGS = {"library defaults": {"TF_ENABLE_ONEDNN_OPTS": "1"},
            "oneDNN off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
            "course": {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_NUM_INTEROP_THREADS": "1"}}
DESIGNS = {"seed": (50, 5), "efficient": (64, 6), "invertible": (32, 8)}

# One process: warm up, then time `steps` fit steps and `steps` inference batches of each design.
_PROBE = r"""
import json, os, sys, time
settings = json.loads(sys.argv[1])
for key in ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTEROP_THREADS"):
    os.environ.pop(key, None)
os.environ.update(settings)
if "TF_NUM_INTEROP_THREADS" not in settings:
    os.environ["TF_NUM_INTEROP_THREADS"] = "0"  # 0: TensorFlow chooses, as without the course package
import numpy as np
import utils  # its setdefault leaves the values above alone
from utils.runtime import seed_everything
from utils.hiding.stego import StegoConfig, make_hider
from utils.hiding.training import PatchStream, compile_hider
size, batch, steps = 64, 8, int(sys.argv[2])
designs = json.loads(sys.argv[3])
rng = np.random.default_rng(0)
secrets = rng.random((batch * (steps + 2), size, size, 1)).astype("float32")
covers = rng.random((batch * (steps + 2), size, size, 3)).astype("float32")
out = {}
for variant, (filters, depth) in designs.items():
    seed_everything(0)
    model = make_hider(StegoConfig(variant, filters, depth, secret_channels=1, seed=0)).build_for(size)
    compile_hider(model, 1e-3, 1.0, jit_compile=False)
    model.fit(PatchStream(secrets[:2 * batch], covers[:2 * batch], batch=batch, steps=2, seed=0), epochs=1, verbose=0)
    began = time.perf_counter()
    model.fit(PatchStream(secrets, covers, batch=batch, steps=steps, seed=1), epochs=1, verbose=0)
    train = steps * batch / (time.perf_counter() - began)
    model.reveal(model.hide(secrets[:batch], covers[:batch]))
    began = time.perf_counter()
    for i in range(steps):
        model.reveal(model.hide(secrets[i * batch:(i + 1) * batch], covers[i * batch:(i + 1) * batch]))
    out[variant] = {"train_pairs_per_s": train, "inference_pairs_per_s": steps * batch / (time.perf_counter() - began)}
print(json.dumps(out))
"""


def measure(settings: dict, steps: int) -> dict:
    """Throughputs of every design in one fresh process under ``settings`` (environment variables)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(settings), str(steps), json.dumps(DESIGNS)],
                          env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise RuntimeError(f"the throughput probe failed under {settings}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.hiding.determinism_cost",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the three settings")
    parser.add_argument("--steps", type=int, default=10, help="timed fit steps (and inference batches) of 8 pairs")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "results"
                        / "determinism_cost.json")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.steps < 1:
        parser.error("--rounds and --steps must be at least 1")
    runs = {name: [] for name in SETTINGS}
    for r in range(args.rounds):
        for name, settings in SETTINGS.items():
            runs[name].append(measure(settings, args.steps))
            print(f"round {r + 1}/{args.rounds}: {name} measured", flush=True)
    medians = {name: {variant: {key: statistics.median(run[variant][key] for run in rows)
                                for key in ("train_pairs_per_s", "inference_pairs_per_s")}
                      for variant in DESIGNS}
               for name, rows in runs.items()}
    print(f"\n{'setting':<18}" + "".join(f"{v + ' train / infer':>30}" for v in DESIGNS) + "   (pairs/s, medians)")
    for name, row in medians.items():
        print(f"{name:<18}" + "".join(f"{row[v]['train_pairs_per_s']:>17.1f} / {row[v]['inference_pairs_per_s']:<10.1f}"
                                      for v in DESIGNS))
    base = medians["library defaults"]
    for v in DESIGNS:
        print(f"course settings, {v}: training at {medians['course'][v]['train_pairs_per_s'] / base[v]['train_pairs_per_s']:.2f}x"
              f", inference at {medians['course'][v]['inference_pairs_per_s'] / base[v]['inference_pairs_per_s']:.2f}x"
              " the library defaults' speed")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"settings": SETTINGS, "designs": DESIGNS, "rounds": args.rounds,
                                    "steps": args.steps, "medians": medians, "runs": runs}, indent=1))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
