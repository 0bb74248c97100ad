"""The SAAE encoder inversion run long, from several starts: does gradient descent find the plaintext?

The scrambling adversarial autoencoder publishes its encoder E. Given a cipher image c, an attacker looks
for x with E(x) = c by gradient descent (:func:`utils.ciphers.saae.invert_encoder`). Notebook 08 runs 50
steps from grey; this study runs ``steps`` (1000 by default) from four starts and records, at checkpoints,

* the **mismatch**: the mean squared difference between the 8-bit encryption of the current x and c,
  beside the true plaintext's (0 for a deterministic encoder: the plaintext is an exact preimage);
* the **recovered quality**: PSNR and SSIM of x against the plaintext, with 95 % intervals over the test
  images' source images.

The starts: ``grey`` (0.5 everywhere), ``noise`` (uniform), ``substitute`` (the output of the substitute
decoder notebook 08 trains on chosen pairs: an attacker combines both), and ``oracle``: the plaintext plus
Gaussian noise of standard deviation 0.1 (an oracle, it needs the plaintext; it asks whether descent from
near the answer comes back to it).

    python -m utils.ciphers.saae_inversion --out utils/results/saae_inversion

writes ``results.json`` (every number, the command, the date, the machine) and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

STARTS = ("grey", "noise", "substitute", "oracle")


def study(n: int = 64, steps: int = 1000, checkpoints=(0, 50, 100, 250, 500, 1000), substitute_pairs: int = 1024,
          substitute_steps: int = 300, learning_rate: float = 0.05, seed: int = 0, starts=STARTS,
          progress=print) -> dict:
    """Run the inversion from each start on ``n`` test cipher images of the shipped SAAE; the module's
    docstring says what is recorded. Returns a JSON-ready dict."""
    from ..data import image_set
    from ..metrics import BLIND_CONSTANT, blind_constant_guess
    from . import saae
    from .attacks import attacker_images
    from .evaluation import _quality, as_uint8

    unknown = sorted(set(starts) - set(STARTS))
    if unknown:
        raise ValueError(f"unknown start(s) {unknown}; choose from {list(STARTS)}")
    cipher = saae.load()
    public = cipher.public()
    test = image_set("test", size=cipher.trained_size, n=n)
    plain8, groups = as_uint8(test.images), test.ids
    c = public.encrypt(test.images)

    def mismatch(images):
        return float(np.mean((public.encrypt(images) / 255.0 - c / 255.0) ** 2))

    def row(images, step):
        q = _quality(plain8, as_uint8(images), groups)
        return {"step": step, "mismatch": mismatch(images), "psnr": asdict(q["psnr"]), "ssim": asdict(q["ssim"])}

    rng = np.random.default_rng(seed)
    begin = {"grey": None, "noise": rng.random(test.images.shape).astype(np.float32),
             "oracle": np.clip(test.images + 0.1 * rng.standard_normal(test.images.shape), 0, 1).astype(np.float32)}
    out = {"n": len(test), "test": test.description, "steps": steps, "learning_rate": learning_rate,
           "true_plaintext_mismatch": mismatch(test.images),
           BLIND_CONSTANT: asdict(_quality(plain8, as_uint8(blind_constant_guess(attacker_images(cipher.trained_size, 64, seed=seed),
                                                                           test.images.shape)), groups)["psnr"]),
           "runs": {}}
    if "substitute" in starts:
        many = saae.chosen_plaintexts("medical", substitute_pairs, seed=seed + 8)
        timed = saae.attack_time_curve(public, many, test, steps=substitute_steps, checkpoints=1, seed=seed)
        decoder = timed[-1]["decoder"]
        begin["substitute"] = decoder.decode(public.features(c)).astype(np.float32)
        out["substitute"] = {"pairs": substitute_pairs, "steps": substitute_steps,
                             "cpu_seconds": timed[-1]["cpu_seconds"]}
    for name in starts:
        cpu = time.process_time()
        inv = saae.invert_encoder(public.encoder, c,
                                  steps=steps, learning_rate=learning_rate, start=begin[name], checkpoints=checkpoints)
        spent = time.process_time() - cpu
        out["runs"][name] = [row(inv["trace"][m], m) for m in sorted(inv["trace"])]
        out["runs"][name][-1]["cpu_seconds"] = spent
        last = out["runs"][name][-1]
        progress(f"{name}: after {last['step']} steps mismatch {last['mismatch']:.5f}, "
                 f"PSNR {last['psnr']['mean']:.2f} dB ({spent:.0f} CPU-s)")
    return out


def _main(argv=None) -> int:
    from ..runtime import machine_summary, portable_command, seed_everything

    parser = argparse.ArgumentParser(prog="python -m utils.ciphers.saae_inversion", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json")
    parser.add_argument("--n", type=int, default=64, help="test cipher images (at least 64 for a headline)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--starts", nargs="+", default=list(STARTS), choices=STARTS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.n < 1:
        parser.error("--steps and --n must be positive")
    seed_everything(args.seed)
    began = time.time()
    marks = sorted({0, *(m for m in (50, 100, 250, 500, 1000, 2000, 4000) if m < args.steps), args.steps})
    result = study(n=args.n, steps=args.steps, checkpoints=marks, starts=args.starts, seed=args.seed)
    result["meta"] = {"command": portable_command("python -m utils.ciphers.saae_inversion",
                                                  sys.argv[1:] if argv is None else argv),
                      "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_summary(),
                      "wall_minutes": round((time.time() - began) / 60, 1)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
