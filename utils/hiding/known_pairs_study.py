"""The known-plaintext attack on the shipped grey hiders, run to 1024 pairs, with the attacker's CPU time.

Notebook 04 trains substitute reveal networks (:func:`utils.hiding.attacks.train_substitute_reveal`) on at
most 192 known (secret, container) pairs with a fixed 150 steps: enough to show the attack, not where it
ends. This study gives the attacker k = 0 ... 1024 pairs of their own images (secrets of the train split,
hidden by the shipped hider in covers of the train split: never a test secret or a test cover) and a step
budget that grows with k (``epochs`` passes over the pairs, between ``min_steps`` and ``max_steps``), and
scores each attacker on the test containers of notebook 04 (224 pairs, 14 secret sources), beside the
receiver (the hider's own reveal network) and both floors.

The attackers are notebook 04's: for every hider, the efficient design's reveal network trained from
random weights (``"efficient, fresh"``); for Baluja's hider also Baluja's reveal network started from the
public colour model (``"Baluja, public start"``), the strongest attacker 04 found. For the first, k = 0 is the
blind constant; for the second, the public network's reveal used as it is. The attacker's pairs are shuffled
once (seeded), so that the first k of them come from every training source, not from the first source only;
the attacker makes them by running the shipped hider on its own images, which stands in for secrets that
leaked (it chooses none of them). Each point is one training run (one seed).

    python -m utils.hiding.known_pairs_study --out utils/results/hider_known_pairs_1024

writes ``results.json`` (every number, the command, the code's commit, the machine, the time) and a README;
:func:`stored` reads it back, :func:`table` prints one hider's rows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ..ciphers.known_pairs_study import budget_parser, parse_budget, steps_for

__all__ = ["HIDERS", "ATTACKERS", "RESULTS_DIR", "RECEIVER", "steps_for", "study", "stored", "table", "summary"]

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results" / "hider_known_pairs_1024"

#: The shipped grey hiders the study attacks (notebook 04's labels).
HIDERS = {"Baluja": "hider_seed_grey_64", "efficient": "hider_efficient_grey_64",
          "invertible": "hider_invertible_grey_64"}

#: The attackers: (design, filters, depth, learning rate, public start) -- notebook 04's.
ATTACKERS = {"efficient, fresh": ("efficient", 32, 4, 2e-3, None),
             "Baluja, public start": ("seed", 50, 5, 3e-4, "hider_seed_colour_64")}

#: The label of the legitimate reveal's row.
RECEIVER = "receiver (the hider's own reveal network)"


def _attackers_for(hider: str) -> list[str]:
    return [name for name in ATTACKERS if name == "efficient, fresh" or hider == "Baluja"]


def study(hiders=tuple(HIDERS), ks=(0, 4, 16, 64, 256, 1024), epochs: float = 10, batch: int = 8,
          min_steps: int = 150, max_steps: int = 1200, crop: int = 32, n_test: int | None = None, seed: int = 0,
          progress: bool = True, data="auto") -> dict:
    """Run the attack on each hider of ``hiders`` for every k of ``ks``; returns a JSON-ready dict."""
    from .. import metrics
    from ..data import pair_set
    from ..metrics import BLIND_CONSTANT, MEAN_ORACLE, blind_constant_guess, mean_oracle_guess
    from ..plotting import to_uint8
    from .attacks import reveal_with, train_substitute_reveal
    from .pretrained import load_pretrained
    from .stego import StegoConfig

    ks = sorted(set(int(k) for k in ks))
    test = pair_set("test", "medical", 64, n=n_test, data=data)
    attacker = pair_set("train", "medical", 64, n=max(max(ks), 1), data=data)  # the attacker's own pairs
    # pair_set lists its pairs source by source: shuffled once, so that the first k pairs come from every
    # training source in proportion, not from the first source alone
    order = np.random.default_rng([seed, 0x4B9]).permutation(len(attacker))
    attacker_secrets, attacker_covers = attacker.secrets[order], attacker.covers[order]
    secret8 = to_uint8(test.secrets)

    def scored(guess) -> dict:
        guess8 = to_uint8(guess)
        psnr = np.minimum([metrics.psnr(s, g) for s, g in zip(secret8, guess8)], 100.0)
        return {"psnr": metrics.bootstrap_ci(psnr, test.groups).record(), "ssim": float(metrics.ssim(secret8, guess8))}

    out = {"test": test.description, "n": len(test), "attacker_pairs": attacker.description, "ks": ks,
           "epochs": epochs, "batch": batch, "min_steps": min_steps, "max_steps": max_steps, "crop": crop,
           "seed": seed, "hiders": {}}
    floors = {BLIND_CONSTANT: scored(blind_constant_guess(attacker_secrets, test.secrets.shape)),
              MEAN_ORACLE: scored(mean_oracle_guess(test.secrets))}
    for label in hiders:
        hider = load_pretrained(HIDERS[label])
        containers = to_uint8(hider.hide(test.secrets, test.covers)).astype(np.float32) / 255.0
        own = to_uint8(hider.hide(attacker_secrets, attacker_covers)).astype(np.float32) / 255.0
        result = {"model": HIDERS[label], RECEIVER: scored(hider.reveal(containers)), **floors, "attackers": {}}
        for name in _attackers_for(label):
            design, filters, depth, rate, start = ATTACKERS[name]
            config = StegoConfig(design, filters, depth, secret_channels=1)
            public = load_pretrained(start) if start else None
            rows = {}
            for k in ks:
                if k == 0 and public is None:  # no pairs, no network: the blind constant
                    rows["0"] = {"steps": 0, "cpu_seconds": 0.0, "seconds": 0.0, **floors[BLIND_CONSTANT]}
                    continue
                # with a public start, k = 0 is that public network's reveal, used as it is (no training)
                steps = steps_for(k, epochs, batch, min_steps, max_steps) if k else 0
                cpu = time.process_time()
                net, history = train_substitute_reveal(attacker_secrets[:max(k, 1)], own[:max(k, 1)], steps=steps, batch=batch,
                                                       learning_rate=rate, crop=crop, seed=seed + 1, config=config,
                                                       init_from=public)
                rows[str(k)] = {"steps": steps, "cpu_seconds": round(time.process_time() - cpu, 1),
                                "seconds": round(history["seconds"], 1), **scored(reveal_with(net, containers))}
                if progress:
                    print(f"hider {label}, attacker {name}: k = {k}, {steps} steps, {rows[str(k)]['cpu_seconds']:.0f} CPU s: test PSNR "
                          f"{rows[str(k)]['psnr']['mean']:.2f} dB", flush=True)
            result["attackers"][name] = rows
        out["hiders"][label] = result
    return out


def stored(folder: Path = RESULTS_DIR) -> dict:
    """The stored study (``results.json``); FileNotFoundError with the command that makes it."""
    from ..cards import stored_results

    return stored_results(folder, "utils.hiding.known_pairs_study")


def table(result: dict, hider: str) -> str:
    """One hider's rows as text: per attacker and k, steps, CPU seconds, PSNR with its interval and SSIM;
    then the receiver's row and both floors."""
    from ..metrics import BLIND_CONSTANT, MEAN_ORACLE

    r = result["hiders"][hider]

    def cell(record, digits=2):
        return f"{record['mean']:.{digits}f} [{record['low']:.{digits}f}, {record['high']:.{digits}f}]"

    lines = [f"{'attacker':<22}{'k pairs':>8}{'steps':>7}{'CPU s':>8}{'PSNR (dB)':>24}{'SSIM':>8}"]
    for name, rows in r["attackers"].items():
        for k, row in rows.items():
            lines.append(f"{name:<22}{k:>8}{row['steps']:>7}{row['cpu_seconds']:>8.0f}{cell(row['psnr']):>24}"
                         f"{row['ssim']:>8.3f}")
    for label in (RECEIVER, BLIND_CONSTANT, MEAN_ORACLE):
        lines.append(f"{label:<60}{cell(r[label]['psnr']):>20}{r[label]['ssim']:>8.3f}")
    return "\n".join(lines)


def summary(result: dict) -> str:
    """Every hider of the study, each as :func:`table` under its name."""
    return "\n\n".join(f"{name} ({r['model']})\n{table(result, name)}" for name, r in result["hiders"].items())


def _main(argv=None) -> int:
    from ..cards import code_commit
    from ..runtime import machine_summary, portable_command, seed_everything, store_study

    parser = budget_parser("python -m utils.hiding.known_pairs_study", __doc__.split("\n")[0], epochs=10, batch=8,
                           min_steps=150, max_steps=1200, n_help="test pairs (default: 16 per test source image)")
    parser.add_argument("--hiders", nargs="+", default=list(HIDERS), choices=list(HIDERS))
    parser.add_argument("--crop", type=int, default=32, help="the attacker trains on random crops of this size")
    args = parse_budget(parser, argv)
    seed_everything(args.seed)
    began = time.perf_counter()
    result = study(args.hiders, args.ks, args.epochs, args.batch, args.min_steps, args.max_steps, args.crop, args.n,
                   args.seed)
    result.update(command=portable_command("python -m utils.hiding.known_pairs_study",
                                           sys.argv[1:] if argv is None else argv),
                  code_commit=code_commit(), machine=machine_summary(),
                  wall_time_minutes=round((time.perf_counter() - began) / 60, 1),
                  date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    store_study(args.out, "results.json", result, "The known-plaintext attack on the shipped grey hiders, to 1024 pairs",
                "utils/hiding/known_pairs_study.py", summary(result))
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
