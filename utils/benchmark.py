"""``python -m utils.benchmark``: every cipher and every hider of the course on one medical test set.

    python -m utils.benchmark --out runs/benchmark              # the offline corpus's test images, 64 px
    python -m utils.benchmark --quick --out /tmp/bench          # CI-sized: few images, tiny attack budget
    python -m utils.benchmark --data chestxray14 --out ...      # a real dataset of data/README.md
    python -m utils.benchmark --methods aes_gcm chaotic --out ...

The methods are every cipher of :func:`utils.ciphers.available` and, for comparison, the course's grey
hiders (the shipped deep-steganography models and lossless 3-3-2 LSB): a hider "encrypts" an image by
hiding it in a test photograph and "decrypts" by revealing it. Each is measured on the same test images
(never used in training), every number with a 95 % bootstrap interval over source images:

* **reconstruction**: MSE (the mean of squared differences on the 0-1 scale -- the evaluation report's
  formula takes a square root of the difference by mistake), PSNR, SSIM, share of exact images;
* **memory**: kB of the ciphertext or container as it would be stored or sent, per image;
* **statistics** of the cipher image: entropy, histogram chi-square, adjacent-pixel correlations;
* **avalanche**: NPCR and UACI after a one-pixel change, and the shares that pass Wu et al.'s critical
  values for the size;
* **key sensitivity**: PSNR of a decryption with another key (or another trained model), beside the
  constant-guess floor;
* **known-plaintext attack** at a fixed budget: a substitute decoder trained on ``--attack-k`` pairs of
  the attacker's own images, and the cipher's dedicated attack where it has one; the better is kept;
* **throughput**: images encrypted and decrypted per second, as a ratio to AES-GCM in the same run.

It writes ``results.csv`` (one row per method), ``results.md`` (the table), ``results.json`` (everything,
with the intervals) and figures into ``--out``, and never writes anywhere else (not into the data folder).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["HiderMethod", "methods", "measure", "run", "main"]

HIDERS = {"stego_seed": "hider_seed_grey_64", "stego_efficient": "hider_efficient_grey_64",
          "stego_invertible": "hider_invertible_grey_64"}


class HiderMethod:
    """A hider behind the cipher interface: the plaintext is hidden in a test photograph (the i-th image
    always in the i-th cover), the container is the "ciphertext", revealing is decrypting."""

    kind, image_size = "hider", None

    def __init__(self, name: str, model=None, size: int = 64, seed: int = 0):
        from .data import PatchSampler, sources

        self.name, self.model = name, model
        covers, _ = sources("natural", "test")
        self._sampler = PatchSampler(covers, size, 3)
        self._seed = seed
        self._covers = np.zeros((0, size, size, 3), np.float32)

    def covers(self, n: int) -> np.ndarray:
        if len(self._covers) < n:
            self._covers = self._sampler.sample(np.random.default_rng(self._seed), n)
        return self._covers[:n]

    def encrypt(self, images) -> np.ndarray:
        from .ciphers import check_images
        from .hiding.lsb import lsb_hide
        from .plotting import to_uint8

        images = check_images(images)
        covers = self.covers(len(images))
        if self.model is None:
            return lsb_hide(to_uint8(images[..., None]), to_uint8(covers))
        return to_uint8(self.model.hide(images[..., None], covers))

    def decrypt(self, containers) -> np.ndarray:
        from .hiding.lsb import lsb_reveal

        containers = np.asarray(containers)
        if self.model is None:
            return lsb_reveal(containers, secret_channels=1)[..., 0].astype(np.float32) / 255.0
        return self.model.reveal(containers.astype(np.float32) / 255.0)[..., 0]

    def cipher_image(self, containers) -> np.ndarray:
        """The container's three channels side by side, (N, H, 3W): its statistics are the cover's."""
        c = np.asarray(containers)
        return np.concatenate([c[..., 0], c[..., 1], c[..., 2]], axis=2)

    def stored_bytes(self, containers) -> int:
        from .metrics import encoded_size_kb

        return int(round(np.mean([encoded_size_kb(c) for c in np.asarray(containers)]) * 1000))

    def features(self, containers) -> np.ndarray:
        return np.asarray(containers, np.float32) / 255.0

    def other_key(self):
        if self.model is None:
            return self  # LSB has no key: anyone who knows the method reads the secret
        raise NotImplementedError("a hider's key is a trained model; notebook 04 trains one from another seed")

    def dedicated_attack(self, known_plains, test_ciphertext):
        """LSB has no key: knowing the method (Kerckhoffs) is reading the secret. The learned hiders: none."""
        return self.decrypt(test_ciphertext) if self.model is None else None


def methods(names=None, size: int = 64) -> dict:
    """The methods to measure, by name: ciphers of :func:`utils.ciphers.available` and the hiders.

    Raises KeyError naming the known methods for an unknown name.
    """
    from . import ciphers
    from .hiding.pretrained import available_pretrained, load_pretrained

    known = list(ciphers.available()) + [n for n, m in HIDERS.items() if m in available_pretrained()] + ["lsb_332"]
    names = list(names) if names else known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown method(s) {unknown}; known: {', '.join(known)}")
    out = {}
    for name in names:
        if name in ciphers.NAMES:
            out[name] = ciphers.load(name)
        elif name == "lsb_332":
            out[name] = HiderMethod(name, None, size)
        else:
            out[name] = HiderMethod(name, load_pretrained(HIDERS[name]), size)
    return out


def _interval(value):
    return {"mean": value.mean, "low": value.low, "high": value.high, "n": value.n, "sources": list(value.sources)}


def _time_per_image(method, images, repeats: int = 2) -> float:
    method.decrypt(method.encrypt(images[:2]))  # warm up
    began = time.perf_counter()
    for _ in range(repeats):
        method.decrypt(method.encrypt(images))
    return (time.perf_counter() - began) / repeats / len(images)


def measure(name: str, method, test, attacker_plains, attack_k: int, attack_steps: int) -> dict:
    """Every measurement of the module text for one method on the test :class:`utils.data.ImageSet`."""
    from .ciphers import attacks
    from .ciphers import evaluation as ev
    from .metrics import bootstrap_ci, psnr

    images = test.images
    size = images.shape[1]
    if getattr(method, "image_size", None) not in (None, size):
        raise ValueError(f"{name} works on {method.image_size} px images; run the benchmark with --size {method.image_size}")
    row = {"method": name, "kind": method.kind}
    ct = method.encrypt(images)
    rec = ev.reconstruction(method, test, ct)
    row.update({f"recon_{k}": _interval(v) for k, v in rec.items()})
    row["memory_kB"] = method.stored_bytes(ct) / 1000.0
    row["plain_png_kB"] = None
    stats = ev.cipher_statistics(method, test, ct)
    row.update({k: _interval(v) for k, v in stats.items()})
    aval = ev.avalanche(method, test)
    row.update({k: (_interval(v) if hasattr(v, "mean") else v) for k, v in aval.items()})
    try:
        keys = ev.key_sensitivity(method, method.other_key(), test)
        wrong = keys["wrong key"]
        row["wrong_key_psnr"] = ("refused" if "refused" in wrong else "no key: exact" if name == "lsb_332"
                                 else _interval(wrong["psnr"]))
        row["constant_guess_psnr"] = _interval(keys["constant guess"]["psnr"])
    except NotImplementedError as exc:
        row["wrong_key_psnr"] = f"not measured: {exc}"
    curve = attacks.known_plaintext_curve(method, attacker_plains, test, ks=(0, attack_k), steps=attack_steps)
    row["attack_k"] = attack_k
    row["attack_generic_psnr"] = _interval(curve[attack_k]["psnr"])
    row["attack_seconds"] = curve[attack_k]["seconds"]
    row["attack_none_psnr"] = _interval(curve[0]["psnr"])
    began = time.perf_counter()
    recovered = method.dedicated_attack(attacker_plains[:attack_k], ct)
    if recovered is not None:
        values = np.minimum([psnr(ev.as_uint8(a), ev.as_uint8(b)) for a, b in zip(images, recovered)], 100.0)
        row["attack_dedicated_psnr"] = _interval(bootstrap_ci(values, test.ids))
        row["attack_dedicated_seconds"] = time.perf_counter() - began
    best = max([row["attack_generic_psnr"]] + ([row["attack_dedicated_psnr"]] if recovered is not None else []),
               key=lambda r: r["mean"])
    row["attack_best_psnr"] = best
    row["seconds_per_image"] = _time_per_image(method, images[: min(len(images), 32)])
    return row


def run(out: Path, names=None, size: int = 64, n: int | None = None, data="auto", attack_k: int = 64,
        attack_steps: int = 300, seed: int = 0, progress: bool = True) -> list[dict]:
    """Measure every method and write results.csv, results.md, results.json and figures into ``out``."""
    from .ciphers.attacks import attacker_images
    from .data import image_set
    from .data.datasets import data_root
    from .metrics import encoded_size_kb

    out = Path(out).resolve()
    if data_root() in (out, *out.parents):
        raise ValueError(f"--out {out} is inside the data folder {data_root()}; the benchmark never writes there")
    out.mkdir(parents=True, exist_ok=True)
    test = image_set("test", size=size, n=n, data=data, seed=seed)
    # the plaintexts are 8-bit images (what a PACS stores and every cipher encrypts): on the 1/255 grid, so that
    # "exact" means bit for bit whatever rounding a method applies on the way in
    test.images = (np.round(test.images * 255.0) / 255.0).astype(np.float32)
    attacker_plains = attacker_images(size, max(attack_k, 1), seed=seed + 1, data=data)
    chosen = methods(names, size)
    plain_png = float(np.mean([encoded_size_kb(np.round(i * 255).astype(np.uint8)) for i in test.images]))
    rows, began = [], time.perf_counter()
    for i, (name, method) in enumerate(chosen.items(), 1):
        t0 = time.perf_counter()
        row = measure(name, method, test, attacker_plains, attack_k, attack_steps)
        row["plain_png_kB"] = plain_png
        rows.append(row)
        if progress:
            print(f"[{i}/{len(chosen)}] {name}: {time.perf_counter() - t0:.0f} s "
                  f"(total {(time.perf_counter() - began) / 60:.1f} min)", flush=True)
    aes = next((r for r in rows if r["method"] == "aes_gcm"), None)
    for r in rows:
        r["throughput_vs_aes"] = (aes["seconds_per_image"] / r["seconds_per_image"]) if aes else None
    meta = {"test": test.description, "n": len(test), "size": size, "attack_k": attack_k, "attack_steps": attack_steps,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    from .runtime import machine_summary

    meta["machine"] = machine_summary()
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=float) + "\n")
    _write_csv(out / "results.csv", rows)
    (out / "results.md").write_text(markdown_table(rows, meta))
    _figures(out, rows)
    return rows


def _flat(row: dict) -> dict:
    flat = {}
    for k, v in row.items():
        if isinstance(v, dict) and "mean" in v:
            flat[k] = round(v["mean"], 5)
            flat[k + "_low"], flat[k + "_high"] = round(v["low"], 5), round(v["high"], 5)
        elif isinstance(v, (list, tuple)):
            flat[k] = " ".join(f"{x:.4f}" for x in v)
        else:
            flat[k] = v
    return flat


def _write_csv(path: Path, rows: list[dict]) -> None:
    flats = [_flat(r) for r in rows]
    fields = list(dict.fromkeys(k for f in flats for k in f))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(flats)


def _cell(value, digits: int = 1) -> str:
    if isinstance(value, dict) and "mean" in value:
        if np.isinf(value["mean"]):
            return "exact"
        return f"{value['mean']:.{digits}f} [{value['low']:.{digits}f}, {value['high']:.{digits}f}]"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "-" if value is None else str(value).split(":")[0]


def markdown_table(rows: list[dict], meta: dict) -> str:
    """The results as Markdown: one table for reconstruction, memory and speed, one for security."""
    lines = [f"# Benchmark: {meta['test']}", "",
             f"{meta['n']} test images of {meta['size']}x{meta['size']}; means with 95 % bootstrap intervals over "
             f"source images; {meta['date']}, {meta['machine'].split(', ')[1]}.", "",
             "| method | kind | PSNR (dB) | SSIM | MSE (0-1) | exact | kB per image | plaintext PNG kB | speed vs AES-GCM |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['method']} | {r['kind']} | {_cell(r['recon_psnr'])} | {_cell(r['recon_ssim'], 3)} | "
                     f"{_cell(r['recon_mse'], 5)} | {_cell(r['recon_exact'], 2)} | {r['memory_kB']:.2f} | "
                     f"{r['plain_png_kB']:.2f} | {r['throughput_vs_aes']:.3g} |")
    lines += ["", "| method | entropy (bits) | chi-square | corr. (h) | NPCR % | UACI % | NPCR pass | UACI pass | "
                  "wrong key PSNR | attack PSNR | attack, k |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['method']} | {_cell(r['entropy'], 3)} | {_cell(r['chi_square'], 0)} | "
                     f"{_cell(r['correlation_horizontal'], 3)} | {_cell(r['npcr'], 2)} | {_cell(r['uaci'], 2)} | "
                     f"{_cell(r['npcr_pass'], 2)} | {_cell(r['uaci_pass'], 2)} | {_cell(r['wrong_key_psnr'])} | "
                     f"{_cell(r['attack_best_psnr'])} | {r['attack_k']} |")
    lines += ["", f"Wu et al. critical values for this size: NPCR >= {rows[0]['npcr_critical']:.4f} %, UACI in "
                  f"[{rows[0]['uaci_interval'][0]:.4f}, {rows[0]['uaci_interval'][1]:.4f}] %. Attack: the better of a "
                  f"substitute decoder ({meta['attack_steps']} steps) and the cipher's dedicated attack, with k known "
                  "pairs of the attacker's own images (train and validation split).", ""]
    return "\n".join(lines)


def _figures(out: Path, rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def capped(v):
        return min(v["mean"], 60.0)

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for r in rows:
        ax.scatter(capped(r["recon_psnr"]), capped(r["attack_best_psnr"]), s=40)
        ax.annotate(r["method"], (capped(r["recon_psnr"]), capped(r["attack_best_psnr"])), fontsize=8,
                    xytext=(4, 2), textcoords="offset points")
    ax.plot([0, 60], [0, 60], color="gray", lw=0.8, ls=":")
    ax.set_xlabel("legitimate decryption PSNR (dB; exact shown at 60)")
    ax.set_ylabel(f"attacker's PSNR, k = {rows[0]['attack_k']} (dB)")
    ax.set_title("what the receiver gets and what an attacker gets")
    fig.tight_layout()
    fig.savefig(out / "reconstruction_vs_attack.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ratios = [max(r["throughput_vs_aes"], 1e-9) for r in rows]
    ax.barh([r["method"] for r in rows], ratios)
    ax.set_xscale("log")
    ax.axvline(1.0, color="gray", lw=0.8)
    ax.set_xlabel("images per second, relative to AES-GCM (log scale)")
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.benchmark", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for results.csv, results.md, results.json, figures")
    parser.add_argument("--data", default="auto", help="'auto' (real datasets when present), 'corpus', or dataset names")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--n", type=int, default=None, help="test images (default: 16 per test source image)")
    parser.add_argument("--methods", nargs="*", default=None, help="names (default: every cipher and hider)")
    parser.add_argument("--attack-k", type=int, default=64)
    parser.add_argument("--attack-steps", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="CI-sized: 16 images, k = 8, 10 attack steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.attack_k, args.attack_steps = args.n or 16, 8, 10
    data = args.data if args.data in ("auto", "corpus") else args.data.split(",")
    try:
        rows = run(args.out, args.methods, args.size, args.n, data, args.attack_k, args.attack_steps, args.seed)
    except (KeyError, ValueError, FileNotFoundError) as exc:
        print(f"python -m utils.benchmark: {exc}", file=sys.stderr)
        return 2
    print((args.out / "results.md").read_text())
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
