"""How much flat patches lift the course's numbers: the shipped models on random and on content patches.

The evaluation sets cut 64x64 patches at random positions of the test images; many are background
(:mod:`utils.data.content`). This study measures, once, the main rows on three sets of the same test
sources and frames: random patches, patches that carry content, and whole images (each frame's centre
square resized to 64x64, what a clinician would look at): the shipped grey hiders' cover and secret PSNR
(:func:`utils.data.pair_set`, the same covers in all three) and each learned cipher's decryption PSNR
(:func:`utils.data.image_set`; on 8-bit images, as :func:`utils.ciphers.evaluation.reconstruction`
measures it in notebooks 05-09, with the share of images returned bit for bit), each with its 95 %
interval over source images, and the rule's rejected share per test source.

    python -m utils.content_study --out utils/results/content_sets
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HIDERS = ("hider_seed_grey_64", "hider_efficient_grey_64", "hider_invertible_grey_64")
CIPHERS = ("deepedn", "bp_chaotic", "invertible", "saae")
SETS = ("random", "content", "whole")


def run(size: int = 64) -> dict:
    """The rows of the study (see the module's docstring) as a dict ready for JSON."""
    from utils import ciphers
    from utils.ciphers.evaluation import reconstruction
    from utils.data import image_set, pair_set
    from utils.data.content import rejected_share
    from utils.data.sources import resized_frames, sources
    from utils.hiding.pretrained import load_pretrained
    from utils.hiding.training import evaluate

    found, _ = sources("medical", "test")
    out = {"rejected_share": {s.id: rejected_share(resized_frames(s, 256, size), size) for s in found},
           "hiders": {}, "ciphers": {}, "sets": {}}
    for label in SETS:
        content, mode = label == "content", "whole" if label == "whole" else "patch"
        pairs = pair_set("test", "medical", size, content=content, mode=mode)
        images = image_set("test", size, n=len(pairs), content=content, mode=mode)
        out["sets"][label] = {"pairs": pairs.description, "images": images.description}
        for name in HIDERS:
            iv = evaluate(load_pretrained(name), pairs)["intervals"]
            out["hiders"].setdefault(name, {})[label] = {k: iv[k].record() for k in ("cover_psnr", "secret_psnr")}
        for name in CIPHERS:
            quality = reconstruction(ciphers.load(name), images)  # on 8-bit images, as notebooks 05-09 measure
            out["ciphers"].setdefault(name, {})[label] = {"decryption_psnr": quality["psnr"].record(),
                                                          "exact_share": quality["exact"].record()}
    return out


def report(result: dict) -> str:
    """The study as Markdown tables."""
    def fmt(d):
        if d["low"] >= 100:  # every image decrypted exactly (PSNR capped at 100 dB)
            return "exact"
        return f"{d['mean']:.1f} [{d['low']:.1f}, {d['high']:.1f}]"

    lines = ["| test source | rejected share |", "| --- | --- |"]
    lines += [f"| {k} | {v:.2f} |" for k, v in result["rejected_share"].items()]
    sets = [k for k in SETS if k in next(iter(result["hiders"].values()))]
    for key in ("cover_psnr", "secret_psnr"):
        lines += ["", f"| shipped grey hider, {key.replace('_', ' ')} | " + " | ".join(sets) + " |",
                  "| --- |" + " --- |" * len(sets)]
        for name, rows in result["hiders"].items():
            lines.append(f"| {name} | " + " | ".join(fmt(rows[k][key]) for k in sets) + " |")
    lines += ["", "| learned cipher, decryption PSNR | " + " | ".join(sets) + " |", "| --- |" + " --- |" * len(sets)]
    for name, rows in result["ciphers"].items():
        lines.append(f"| {name} | " + " | ".join(fmt(rows[k]["decryption_psnr"]) for k in sets) + " |")
    lines += ["", "| learned cipher, share of images returned bit for bit | " + " | ".join(sets) + " |",
              "| --- |" + " --- |" * len(sets)]
    for name, rows in result["ciphers"].items():
        lines.append(f"| {name} | " + " | ".join(f"{rows[k]['exact_share']['mean']:.2f}" for k in sets) + " |")
    n_pairs = next(iter(result["hiders"].values()))["content"]["cover_psnr"]
    n_images = next(iter(result["ciphers"].values()))["content"]["decryption_psnr"]
    lines += ["", f"PSNR in dB (cipher rows on 8-bit images, capped at 100 dB), mean [95 % bootstrap interval over source images]; pairs: n = {n_pairs['n']}, "
              f"{n_pairs['sources'][0]} secret x {n_pairs['sources'][1]} cover sources; cipher images: n = "
              f"{n_images['n']}, {n_images['sources'][0]} sources. Only the secrets and cipher images differ "
              "between the sets (the covers are the same photographs' patches); a whole image stands for its frame "
              "as many times as the frame's share of patches.", "",
              "Sets:", ""] + [f"- {k}: {v['pairs']}; images: {v['images']}" for k, v in result["sets"].items()]
    return "\n".join(lines)


def write_readme(result: dict, folder: Path) -> None:
    """README.md of a stored study: the command, its time, the tables."""
    (Path(folder) / "README.md").write_text(f"# Random patches against content patches\n\nMade by `{result['command']}` "
                                            f"({result['wall_time_minutes']:.1f} min on a 2-core CPU); see "
                                            f"`utils/content_study.py`.\n\n{report(result)}\n")


def main(argv=None) -> int:
    from utils.runtime import portable_command, seed_everything

    parser = argparse.ArgumentParser(prog="python -m utils.content_study", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for content_study.json and README.md")
    args = parser.parse_args(argv)
    seed_everything(0)
    began = time.perf_counter()
    result = run()
    result["command"] = portable_command("python -m utils.content_study", sys.argv[1:] if argv is None else argv)
    result["wall_time_minutes"] = (time.perf_counter() - began) / 60
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "content_study.json").write_text(json.dumps(result, indent=1) + "\n")
    write_readme(result, args.out)
    print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
