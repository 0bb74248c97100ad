"""``python -m utils.hiding.benchmark``: training throughput of every hider design, and an ablation at equal CPU time.

Two measurements, written to ``utils/results/hider_benchmark.json`` (or ``--out``) and printed:

1. **Throughput**: warm ``fit`` steps of each design (Baluja's seed network, the three-branch rebuild,
   the efficient hider, the invertible hider) on the same stream of 64x64 training pairs; pairs per
   second of wall time and of CPU time (the latter stays comparable on a machine shared with other work).
2. **Ablation at equal CPU time**: each design trained from random weights on grey medical secrets, with
   the same data, learning-rate schedule and validation pairs, until it has used ``--minutes`` of CPU
   time; then measured on the test pairs with 95 % intervals over source images.

    python -m utils.hiding.benchmark                  # 10 CPU-minutes per design (about 40 min on 2 cores)
    python -m utils.hiding.benchmark --quick          # a minute per design: checks that it all runs
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

DESIGNS = {"Baluja (seed network)": ("seed", 50, 5), "three-branch rebuild": ("branched", 50, 5),
           "efficient (64 x 6)": ("efficient", 64, 6), "invertible (32 x 8)": ("invertible", 32, 8)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.hiding.benchmark", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="CPU minutes of training per design")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--throughput-steps", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="1 CPU-minute per design, 3 timed steps")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.throughput_steps = 1.0, 3

    import numpy as np

    from ..data import pair_set
    from ..runtime import machine_summary, seed_everything
    from .pretrained import PRETRAINED_DIR, interval_dict
    from .stego import StegoConfig, make_hider
    from .training import evaluate, fit_hider, training_stream

    out = args.out or PRETRAINED_DIR.parent / "results" / "hider_benchmark.json"
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    report = {"command": "python -m utils.hiding.benchmark " + " ".join(argv if argv is not None else sys.argv[1:]),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_summary(),
              "throughput": {}, "ablation": {}}

    def config(variant, filters, depth, channels):
        baluja = variant in ("seed", "branched")
        return StegoConfig(variant, filters, depth, channels, 0.01 if baluja else 0.0, not baluja)

    # 1 -- throughput: warm fit steps on colour secrets
    stream, _ = training_stream(args.size, "natural", 3, batch=args.batch, steps=args.throughput_steps + 1, seed=0)
    val = pair_set("val", "natural", args.size, n=8)
    for label, (variant, filters, depth) in DESIGNS.items():
        seed_everything(0)
        model = make_hider(config(variant, filters, depth, 3)).build_for(args.size)
        h = fit_hider(model, stream, args.throughput_steps + 1, val, eval_every=10 ** 6, verbose=False)
        steps = h["steps"] - 1
        report["throughput"][label] = {
            "parameters": int(sum(int(np.prod(v.shape)) for v in model.trainable_variables)),
            "pairs_per_second": round(steps * args.batch / h["train_seconds"], 2),
            "pairs_per_cpu_second": round(steps * args.batch / h["cpu_seconds"], 2) if h["cpu_seconds"] else None}
        print(f"throughput {label}: {report['throughput'][label]}", flush=True)

    # 2 -- ablation at equal CPU time on grey medical secrets
    test = pair_set("test", "medical", args.size)
    val = pair_set("val", "medical", args.size, n=64)
    for label, (variant, filters, depth) in DESIGNS.items():
        if variant == "branched":
            continue
        seed_everything(0)
        model = make_hider(config(variant, filters, depth, 1)).build_for(args.size)
        stream, data_text = training_stream(args.size, "medical", 1, batch=args.batch, steps=1000, seed=0)
        # the schedule is planned for the steps the CPU budget affords at the measured rate
        rate = report["throughput"][label]["pairs_per_cpu_second"] or 1.0
        steps = max(10, int(rate * args.minutes * 60 / args.batch))
        h = fit_hider(model, stream, steps, val, 1e-3 if variant != "invertible" else 5e-4,
                      eval_every=max(1, steps // 10), time_limit=args.minutes * 60, clock="cpu", verbose=False)
        result = evaluate(model, test)
        report["ablation"][label] = {"steps": h["steps"], "cpu_minutes": round(h["cpu_seconds"] / 60, 2),
                                     "wall_minutes": round(h["seconds"] / 60, 2),
                                     "test": {k: interval_dict(result["intervals"][k])
                                              for k in ("cover_psnr", "secret_psnr", "cover_ssim", "secret_ssim")},
                                     "curve": h["curve"]}
        print(f"ablation {label}: {h['steps']} steps, test cover {result['intervals']['cover_psnr'].format()} dB, "
              f"secret {result['intervals']['secret_psnr'].format()} dB", flush=True)
    report["data"] = data_text
    report["test"] = test.description
    lines = [f"Hider benchmark ({report['date']}; {report['machine'].split(', ')[1]})",
             f"{'design':<24}{'parameters':>12}{'pairs/s':>9}{'pairs/CPU-s':>13}"]
    for label, r in report["throughput"].items():
        lines.append(f"{label:<24}{r['parameters']:>12,}{r['pairs_per_second']:>9.1f}{r['pairs_per_cpu_second'] or 0:>13.1f}")
    lines.append(f"Ablation, {args.minutes:g} CPU-minutes each from random weights, grey medical secrets, "
                 f"{args.size} px test pairs ({test.description.split(' -- ')[0]}):")
    for label, r in report["ablation"].items():
        t = r["test"]
        lines.append(f"  {label:<24} {r['steps']:>6} steps: cover {t['cover_psnr']['mean']:.1f} "
                     f"[{t['cover_psnr']['low']:.1f}, {t['cover_psnr']['high']:.1f}] dB, secret "
                     f"{t['secret_psnr']['mean']:.1f} [{t['secret_psnr']['low']:.1f}, {t['secret_psnr']['high']:.1f}] dB")
    report["summary"] = "\n".join(lines)
    Path(out).write_text(json.dumps(report, indent=1) + "\n")
    print(report["summary"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
