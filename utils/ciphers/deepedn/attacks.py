"""The ciphertext-only attack DeepEDN's design invites: retrain its own recipe against intercepted cipher images.

DeepEDN's cipher images are samples of its cipher domain, and its recipe (the unpaired Cycle-GAN of
:mod:`.training`) needs nothing but samples of two domains. An eavesdropper who intercepts cipher images
and holds public medical images of their own trains that recipe between the two, with no (plain, cipher)
pair and no key: the attacker's reconstruction network ``F`` maps cipher images to medical images. The
attacker's images come from the train and validation sources (:func:`utils.ciphers.attacks.attacker_images`),
never from the test set; the intercepted cipher images are the test images' (what an eavesdropper holds),
and what ``F`` makes of them is scored against both floors and the key holder's own decryption.

    python -m utils.ciphers.deepedn.attacks --out utils/results/deepedn_ciphertext_only --steps 4000 --minutes 45

writes ``results.json`` (every number, the command, the code's commit, the machine and the time) and the
attacker's ``F.weights.h5``, and prints a summary. The recipe and its budget are the shipped model's
(its card: 4000 steps of 4 images, width 16, 2 residual blocks); the attacker draws their own seed.
One GAN run is one draw, so the study is stored twice: seed 1 in :data:`RESULTS_DIR` and a second
eavesdropper, the same command with ``--seed 2`` (other initial weights, batches and own images), in
:data:`REPEAT_DIR`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .networks import DeepEDN, DeepEDNConfig
from .training import train_cyclegan

__all__ = ["ciphertext_only_attack", "setting", "Setting", "study", "score", "stored", "attacker_model", "RESULTS_DIR",
           "REPEAT_DIR"]

RESULTS_DIR = Path(__file__).resolve().parents[2] / "results" / "deepedn_ciphertext_only"
#: The same study with ``--seed 2``: a second eavesdropper at the same budget.
REPEAT_DIR = RESULTS_DIR.parent / "deepedn_ciphertext_only_seed2"


def ciphertext_only_attack(intercepted8, attacker_plains, steps: int, batch: int = 4, config: DeepEDNConfig | None = None,
                           seed: int = 1, max_minutes: float | None = None, progress: bool = False) -> tuple[DeepEDN, dict]:
    """Train DeepEDN's recipe between ``attacker_plains`` (float (N, H, W) in [0, 1], the attacker's own
    images) and ``intercepted8`` (uint8 (M, H, W) cipher images), never paired. Returns the attacker's
    model, whose ``decrypt_float`` (its ``F``) is the attack, and the training history."""
    intercepted8 = np.asarray(intercepted8)
    if intercepted8.dtype != np.uint8 or intercepted8.ndim != 3:
        raise TypeError(f"intercepted8 must be uint8 cipher images (M, H, W), got {intercepted8.dtype} "
                        f"{intercepted8.shape}; pass what DeepEDNCipher.encrypt returned")
    config = config or DeepEDNConfig(seed=seed)
    model = DeepEDN(config)
    history = train_cyclegan(model, attacker_plains, steps, batch=batch, seed=seed, max_minutes=max_minutes,
                             progress=progress, targets=intercepted8.astype(np.float32) / 255.0)
    return model, history


def study(steps: int = 4000, batch: int = 4, minutes: float | None = None, pool: int = 2048, seed: int = 1,
          model_name: str = "deepedn_64", out: Path | None = None, progress: bool = False) -> dict:
    """Run the attack on the shipped model's test cipher images; returns a JSON-ready dict (and writes the
    attacker's ``F`` weights into ``out`` when given)."""
    from ...cards import code_commit, file_sha256
    from ...runtime import machine_summary

    scene = setting(model_name, seed, pool)
    test, plains = scene.test, scene.attacker_plains
    config = replace(scene.cipher.model.config, seed=seed)  # the public recipe, the attacker's seed
    began, cpu = time.perf_counter(), time.process_time()
    attacker, history = ciphertext_only_attack(scene.intercepted, plains, steps, batch, config, seed, minutes, progress)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    scores = score(attacker, scene=scene)
    files = {}
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        attacker.F.save_weights(str(Path(out) / "F.weights.h5"))
        files["F.weights.h5"] = file_sha256(Path(out) / "F.weights.h5")

    return {"model": model_name, "steps": steps, "steps_done": history["steps_done"], "batch": batch,
            "minutes_budget": minutes, "pool": pool, "seed": seed, "config": asdict(config),
            "wall_minutes": round(wall / 60, 1), "cpu_minutes": round(cpu / 60, 1),
            "test": test.description, "attacker_images": f"{len(plains)} patches of train and validation sources",
            "n": len(test), **scores, "machine": machine_summary(), "code_commit": code_commit(),
            "files": files, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


ATTACKER = "attacker's F (ciphertext only)"
FLIPPED = "attacker's F, polarity chosen by the attacker's own images"


class Setting(NamedTuple):
    """What the attack is run on: the shipped model's cipher, the test set, its intercepted cipher images
    (uint8) and the attacker's own images (float, from train and validation sources)."""
    cipher: object
    test: object
    intercepted: np.ndarray
    attacker_plains: np.ndarray


def setting(model_name: str = "deepedn_64", seed: int = 1, pool: int = 2048) -> Setting:
    """Load the shipped model ``model_name``, encrypt the test set with it, and draw the attacker's ``pool``
    own images (seed ``seed + 1``): made once, shared by :func:`study` and :func:`score`."""
    from ...data import image_set
    from ..attacks import attacker_images
    from .cipher import DeepEDNCipher
    from .pretrained import load_pretrained

    shipped = load_pretrained(model_name)
    cipher = DeepEDNCipher(shipped)
    size = shipped.config.image_size
    test = image_set("test", size=size)
    return Setting(cipher, test, cipher.encrypt(test.images), attacker_images(size, pool, seed=seed + 1))


def score(attacker: DeepEDN, model_name: str = "deepedn_64", seed: int = 1, pool: int = 2048,
          scene: Setting | None = None) -> dict:
    """What the attacker's ``F`` makes of the shipped model's test cipher images: PSNR and SSIM beside the
    key holder's ``F`` and both floors, and its correlation with each plaintext. ``scene`` (from
    :func:`setting`) saves loading and encrypting again; without it, it is made from the other arguments.

    A Cycle-GAN is free to learn a translation that inverts the grey levels; the attacker, who sees no
    plaintext, can still choose the polarity: the one whose mean grey over the intercepted images lies
    closer to the mean grey of their own images (``FLIPPED`` row; ``"flipped"`` says which it chose)."""
    from ...metrics import BLIND_CONSTANT, MEAN_ORACLE, blind_constant_guess, bootstrap_ci, mean_oracle_guess
    from .. import evaluation as ev
    from .cipher import DeepEDNCipher

    scene = scene or setting(model_name, seed, pool)
    cipher, test, intercepted, plains = scene
    plain8 = ev.as_uint8(test.images)
    guess = DeepEDNCipher(attacker).decrypt(intercepted)
    flipped = bool(abs(float(np.mean(1.0 - guess)) - float(np.mean(plains)))
                   < abs(float(np.mean(guess)) - float(np.mean(plains))))
    guesses = {ATTACKER: guess, FLIPPED: 1.0 - guess if flipped else guess,
               "key holder's F": cipher.decrypt(intercepted),
               BLIND_CONSTANT: blind_constant_guess(plains, test.images.shape),
               MEAN_ORACLE: mean_oracle_guess(test.images)}
    rows = {}
    for label, images in guesses.items():
        q = ev.quality(plain8, ev.as_uint8(images), test.ids)
        rows[label] = {k: q[k].record() for k in ("psnr", "ssim")}
    with np.errstate(invalid="ignore", divide="ignore"):  # a flat image has no correlation: left out
        corr = np.array([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(test.images, guess)])
    ok = np.isfinite(corr)
    return {"rows": rows, "flipped": flipped,
            "correlation": bootstrap_ci(corr[ok], np.asarray(test.ids)[ok]).record()}


def attacker_model(folder: Path = RESULTS_DIR) -> DeepEDN:
    """The stored attacker's model (its ``F`` is the attack; ``G`` and the rest untrained), after checking
    the SHA-256 of ``F.weights.h5`` against the study's record."""
    from ...cards import WeightsMismatchError, file_sha256

    result = stored(folder)
    path = Path(folder) / "F.weights.h5"
    if file_sha256(path) != result["files"]["F.weights.h5"]:
        raise WeightsMismatchError(f"{path} is not the file results.json describes (SHA-256 differs): run the study again")
    model = DeepEDN(DeepEDNConfig(**result["config"]))
    model.F.load_weights(str(path))
    return model


def stored(folder: Path = RESULTS_DIR) -> dict:
    """The stored study (``results.json``); FileNotFoundError with the command that makes it."""
    from ...cards import stored_results

    return stored_results(folder, "utils.ciphers.deepedn.attacks")


def _main(argv=None) -> int:
    from ...runtime import portable_command

    parser = argparse.ArgumentParser(prog="python -m utils.ciphers.deepedn.attacks", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json and the attacker's F")
    parser.add_argument("--steps", type=int, default=4000, help="Cycle-GAN steps (the shipped model's budget)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=None, help="stop after this much wall time")
    parser.add_argument("--pool", type=int, default=2048, help="the attacker's own medical images")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rescore", action="store_true",
                        help="score the attacker's F stored in --out again (checked against its SHA-256), no training")
    args = parser.parse_args(argv)
    if args.rescore:
        from ...cards import code_commit

        result = stored(args.out)
        result.update(score(attacker_model(args.out), result["model"], result["seed"], result["pool"]),
                      scored_commit=code_commit())
        (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
        _summary(result)
        return 0
    if args.steps < 1 or args.batch < 1 or args.pool < 2:
        parser.error(f"--steps and --batch must be >= 1 and --pool >= 2, got {args.steps}, {args.batch}, {args.pool}")
    result = study(args.steps, args.batch, args.minutes, args.pool, args.seed, out=args.out, progress=True)
    result["command"] = portable_command("python -m utils.ciphers.deepedn.attacks",
                                         sys.argv[1:] if argv is None else argv)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    _summary(result)
    return 0


def _summary(result: dict) -> None:
    for label, row in result["rows"].items():
        print(f"{label:<60} PSNR {row['psnr']['mean']:6.2f} [{row['psnr']['low']:.2f}, {row['psnr']['high']:.2f}]  "
              f"SSIM {row['ssim']['mean']:.3f}")
    c = result["correlation"]
    print(f"correlation of the attacker's F with the plaintext: {c['mean']:.2f} [{c['low']:.2f}, {c['high']:.2f}]; "
          f"polarity flipped: {result['flipped']}; {result['steps_done']} steps in {result['wall_minutes']} min")


if __name__ == "__main__":
    sys.exit(_main())
