"""The substitute-decoder attack on the learned ciphers, run to 1024 pairs, with the attacker's CPU time.

Notebooks 05 and 08 run the attack every deterministic learned cipher invites (learn the decryption from
(plaintext, cipher image) pairs, :mod:`utils.ciphers.attacks`) live, with at most 64 or 256 pairs and a
fixed number of steps: enough to show it works, not where it ends. This study gives the attacker
k = 0 ... 1024 pairs of their own images (train and validation sources, never the test set) and a budget
that grows with k (``epochs`` passes over the pairs, between ``min_steps`` and ``max_steps``), and at
the largest k it scores the test images at ``checkpoints`` points of the training, so that the curve
against the attacker's CPU time shows whether the attack had levelled off when it stopped.

* DeepEDN (05): known pairs -- earlier messages whose plaintexts leaked. Its key is the trained (G, F).
* SAAE (08): chosen pairs -- the encoder is the public key, so anyone makes as many pairs as they like.

The attacker is :class:`utils.ciphers.attacks.SubstituteDecoder` (a ResNet generator of width 16 with
2 residual blocks, Adam 2e-3, mean squared error, batches drawn at random; it counts its own CPU seconds)
for both ciphers, in two variants: with instance normalisation (08's attacker) and without (05's: a
normalisation discards each feature map's mean level, which may carry the plaintext's brightness). Both
rows are stored; each row also names the better of the two, chosen on the test images: an upper bound
for this attack, not a choice an attacker could make, so the notebooks read each cipher's own attacker
(:data:`OWN_ATTACKER`), fixed before the study ran. The test set is the whole test split (16 patches of
each test source image). Each row is scored beside the key holder's decryption and both floors (:data:`utils.metrics.BLIND_CONSTANT`,
:data:`utils.metrics.MEAN_ORACLE`).

    python -m utils.ciphers.known_pairs_study --out utils/results/known_pairs_1024

writes ``results.json`` (every number, the command, the code's commit, the machine and the time) and
prints a summary; :func:`stored` reads it back.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["METHODS", "NORMS", "OWN_ATTACKER", "steps_for", "budget_parser", "parse_budget", "study", "stored", "own_rows", "own_curve", "table",
           "summary", "RESULTS_DIR", "KEY_HOLDER"]

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results" / "known_pairs_1024"

#: The learned ciphers the study attacks, and where the attacker's pairs come from.
METHODS = {"deepedn": "known pairs (plaintexts that leaked)", "saae": "chosen pairs (the public encoder)"}

#: The attacker's two networks: with instance normalisation or without.
NORMS = {"instance norm": True, "no norm": False}

#: The attacker network each cipher's notebook runs live (and reads from this study), fixed before it ran.
OWN_ATTACKER = {"deepedn": "no norm", "saae": "instance norm"}

#: The label of the legitimate decryption's row.
KEY_HOLDER = "key holder's decryption"


def steps_for(k: int, epochs: float, batch: int, min_steps: int, max_steps: int) -> int:
    """The attacker's training steps for k pairs: ``epochs`` passes over the pairs in batches of ``batch``,
    at least ``min_steps`` and at most ``max_steps``."""
    if k < 1 or batch < 1 or min_steps < 1 or max_steps < min_steps or epochs <= 0:
        raise ValueError(f"need k, batch, min_steps >= 1, max_steps >= min_steps and epochs > 0; got k={k}, "
                         f"batch={batch}, min_steps={min_steps}, max_steps={max_steps}, epochs={epochs}")
    return int(min(max_steps, max(min_steps, int(np.ceil(epochs * k / batch)))))


def study(methods=tuple(METHODS), ks=(0, 4, 16, 64, 256, 1024), epochs: float = 25, batch: int = 16,
          min_steps: int = 250, max_steps: int = 1600, checkpoints: int = 4, n: int | None = None, seed: int = 0,
          progress: bool = False) -> dict:
    """Run the attack on each cipher of ``methods`` for every k of ``ks``; returns a JSON-ready dict.

    Per method: ``rows`` (per k: the better attacker's ``steps``, ``cpu_seconds``, ``seconds`` and ``psnr`` /
    ``ssim`` interval records, which one it was (``attacker``, a key of :data:`NORMS`) and every variant's
    row under ``variants``), ``curves`` (per variant, the largest k scored at ``checkpoints`` evenly spaced
    steps: ``step``, ``cpu_seconds``, ``psnr``, ``ssim``), and the key holder's and both floors' ``psnr`` /
    ``ssim``. The better attacker is chosen on the test images (the attacker's best case: an upper
    bound on what this attack recovers)."""
    from ..data import image_set
    from ..metrics import BLIND_CONSTANT, MEAN_ORACLE, blind_constant_guess, mean_oracle_guess
    from . import evaluation as ev
    from . import load
    from .attacks import SubstituteDecoder, attacker_images

    ks = sorted({int(k) for k in ks})
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"methods must be some of {list(METHODS)}, got {list(methods)}")
    if ks[0] < 0 or ks[-1] < 1 or checkpoints < 1:
        raise ValueError(f"ks must be >= 0 with at least one k >= 1, and checkpoints >= 1; got {ks}, {checkpoints}")
    test = image_set("test", size=64, n=n)
    plain8 = ev.as_uint8(test.images)
    plains = attacker_images(64, ks[-1], seed=seed + 5)

    def scored(images) -> dict:
        q = ev.quality(plain8, ev.as_uint8(images), test.ids)
        return {key: q[key].record() for key in ("psnr", "ssim")}

    out = {"test": test.description, "n": len(test), "attacker_images": f"{len(plains)} patches of train and validation sources",
           "ks": ks, "epochs": epochs, "batch": batch, "min_steps": min_steps, "max_steps": max_steps,
           "network": "SubstituteDecoder: ResNet generator, width 16, 2 residual blocks, Adam 2e-3, MSE",
           "seed": seed, "methods": {}}
    floors = {BLIND_CONSTANT: scored(blind_constant_guess(plains, test.images.shape)),
              MEAN_ORACLE: scored(mean_oracle_guess(test.images))}
    for name in methods:
        cipher = load(name)
        test_ct = cipher.encrypt(test.images)
        test_features = cipher.features(test_ct)
        result = {"pairs": METHODS[name], KEY_HOLDER: scored(cipher.decrypt(test_ct)), **floors, "rows": {}}
        for k in ks:
            if k == 0:
                result["rows"]["0"] = {"steps": 0, "cpu_seconds": 0.0, "seconds": 0.0, **floors[BLIND_CONSTANT]}
                continue
            features = cipher.features(cipher.encrypt(plains[:k]))
            total = steps_for(k, epochs, batch, min_steps, max_steps)
            marks = [total] if k < ks[-1] else sorted({max(1, round(total * (i + 1) / checkpoints)) for i in range(checkpoints)})
            variants = {}
            for variant, norm in NORMS.items():
                attacker = SubstituteDecoder(size=64, channels=features.shape[-1], seed=seed, norm=norm)
                curve = []
                for mark in marks:
                    attacker.train(features, plains[:k], mark - attacker.steps, batch)
                    curve.append({"step": attacker.steps, "cpu_seconds": round(attacker.cpu_seconds, 1),
                                  **scored(attacker.decode(test_features))})
                    if progress:
                        print(f"{name}, {variant}: k = {k}, step {attacker.steps}/{total}: test PSNR "
                              f"{curve[-1]['psnr']['mean']:.2f} dB ({attacker.cpu_seconds:.0f} CPU s)", flush=True)
                variants[variant] = {"steps": total, "cpu_seconds": round(attacker.cpu_seconds, 1),
                                     "seconds": round(attacker.seconds, 1), "psnr": curve[-1]["psnr"],
                                     "ssim": curve[-1]["ssim"]}
                if k == ks[-1]:
                    result.setdefault("curves", {})[variant] = curve
            best = max(variants, key=lambda v: variants[v]["psnr"]["mean"])
            result["rows"][str(k)] = {**variants[best], "attacker": best, "variants": variants}
        out["methods"][name] = result
    return out


def budget_parser(prog: str, description: str, epochs: float, batch: int, min_steps: int, max_steps: int,
                  n_help: str) -> argparse.ArgumentParser:
    """The command line both stored known-pairs studies share (this one and :mod:`utils.hiding.known_pairs_study`):
    ``--out``, ``--ks``, the attacker's budget (``--epochs``, ``--batch``, ``--min-steps``, ``--max-steps``, see
    :func:`steps_for`), ``--n`` and ``--seed``, with the given defaults. Read it with :func:`parse_budget`."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--out", type=Path, required=True, help="folder for the study's results.json")
    parser.add_argument("--ks", nargs="+", type=int, default=[0, 4, 16, 64, 256, 1024], help="numbers of pairs")
    parser.add_argument("--epochs", type=float, default=epochs, help="passes over the pairs (within the step limits)")
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--min-steps", type=int, default=min_steps)
    parser.add_argument("--max-steps", type=int, default=max_steps)
    parser.add_argument("--n", type=int, default=None, help=n_help)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def parse_budget(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """``parser``'s arguments, or its usage error when a k is negative or the budget is empty."""
    args = parser.parse_args(argv)
    if min(args.ks) < 0 or args.batch < 1 or args.min_steps < 1 or args.max_steps < args.min_steps or args.epochs <= 0:
        parser.error(f"need --ks >= 0, --batch and --min-steps >= 1, --max-steps >= --min-steps, --epochs > 0; got "
                     f"{args.ks}, {args.batch}, {args.min_steps}, {args.max_steps}, {args.epochs}")
    return args


def stored(folder: Path = RESULTS_DIR) -> dict:
    """The stored study (``results.json``); FileNotFoundError with the command that makes it."""
    from ..cards import stored_results

    return stored_results(folder, "utils.ciphers.known_pairs_study")


def _variants(row: dict) -> dict[str, dict]:
    """A stored row's attacker networks by name (:data:`NORMS`); k = 0 (the blind constant, no network) has
    one row, which stands for every name."""
    return row["variants"] if "variants" in row else {name: row for name in NORMS}


def own_rows(result: dict, method: str) -> dict[int, dict]:
    """The rows of ``method``'s own attacker (:data:`OWN_ATTACKER`), by k (an int): ``steps``,
    ``cpu_seconds``, ``seconds``, ``psnr`` and ``ssim``; k = 0 is the blind constant's row. This, not the
    better-on-test row stored beside it, is what the notebooks judge."""
    own = OWN_ATTACKER[method]
    return {int(k): _variants(row)[own] for k, row in result["methods"][method]["rows"].items()}


def own_curve(result: dict, method: str) -> list[dict]:
    """``method``'s own attacker scored along its training at the largest k: ``step``, ``cpu_seconds``,
    ``psnr``, ``ssim`` per checkpoint."""
    return result["methods"][method]["curves"][OWN_ATTACKER[method]]


def summary(result: dict) -> str:
    """Every method of the study, each as :func:`table` under a title naming its pairs and its own attacker."""
    return "\n\n".join(f"{name} ({r['pairs']}); own attacker: {OWN_ATTACKER[name]}\n{table(result, name)}"
                        for name, r in result["methods"].items())


def table(result: dict, method: str) -> str:
    """One method of the study as a text table: per k, steps, the CPU seconds of both attacker networks
    together (what an attacker who trains both spends), PSNR of each network and the SSIM of the method's
    own attacker (:data:`OWN_ATTACKER`); then the key holder's row and both floors."""
    from ..metrics import BLIND_CONSTANT, MEAN_ORACLE

    r = result["methods"][method]

    def cell(record, digits):
        return f"{record['mean']:.{digits}f} [{record['low']:.{digits}f}, {record['high']:.{digits}f}]"

    names = list(NORMS)
    own = OWN_ATTACKER[method]
    lines = [f"{'k pairs':>8}{'steps':>7}{'CPU s':>7}" + "".join(f"{n + ' PSNR (dB)':>28}" for n in names)
             + f"{'SSIM (' + own + ')':>26}"]
    for k, row in r["rows"].items():
        variants = _variants(row)
        cpu = sum(v["cpu_seconds"] for v in variants.values()) if "variants" in row else row["cpu_seconds"]
        lines.append(f"{k:>8}{row['steps']:>7}{cpu:>7.0f}" + "".join(f"{cell(variants[n]['psnr'], 2):>28}" for n in names)
                     + f"{cell(variants[own]['ssim'], 3):>26}")
    for label in (KEY_HOLDER, BLIND_CONSTANT, MEAN_ORACLE):
        lines.append(f"{label:<50}{cell(r[label]['psnr'], 2):>22}{cell(r[label]['ssim'], 3):>26}")
    return "\n".join(lines)


def _main(argv=None) -> int:
    from ..cards import code_commit
    from ..runtime import machine_summary, portable_command, seed_everything

    parser = budget_parser("python -m utils.ciphers.known_pairs_study", __doc__.split("\n")[0], epochs=25, batch=16,
                           min_steps=250, max_steps=1600, n_help="test images (default: the whole test split)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--checkpoints", type=int, default=4, help="test scores along the largest k's training")
    args = parse_budget(parser, argv)
    seed_everything(args.seed)
    began = time.perf_counter()
    result = study(args.methods, args.ks, args.epochs, args.batch, args.min_steps, args.max_steps, args.checkpoints,
                   args.n, args.seed, progress=True)
    result["meta"] = {"command": portable_command("python -m utils.ciphers.known_pairs_study",
                                                  sys.argv[1:] if argv is None else argv),
                      "code_commit": code_commit(), "machine": machine_summary(),
                      "wall_minutes": round((time.perf_counter() - began) / 60, 1),
                      "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
