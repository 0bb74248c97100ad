"""A whole benchmark run into one folder, resumable after an interruption, and a re-timing of a finished one."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .measure import measure
from .methods import methods
from .report import write_all
from .timing import add_timing

__all__ = ["run", "retime", "PARTIAL"]


def run(out: Path, names=None, size: int = 64, n: int | None = None, data="auto", attack_k: int = 64,
        attack_steps: int = 300, seed: int = 0, progress: bool = True, game_n: int = 256, game_steps: int = 300,
        timing_rounds: int = 5, command: str | None = None, inversion_steps: int | None = None,
        extend: bool = False) -> list[dict]:
    """Measure every method and write results.csv, results.md, results.json and figures into ``out``.

    ``extend``: keep the rows of the finished run in ``out`` (its ``results.json``, made with the same settings)
    and measure only the methods it lacks; every chosen method is then timed again, in one interleaved loop.
    Each row records the commit of the code that measured it (``code_commit``), and results.md names the rows
    measured at another commit than the run's.

    ``inversion_steps``: the Adam steps of a dedicated attack that descends through a public network (SAAE's
    encoder inversion; its default where None): at 256 px each step costs 16 times what it costs at 64."""
    from ..cards import code_commit
    from ..ciphers.aes_gcm import DEMO_KEY, aes_encrypt
    from ..ciphers.attacks import attacker_images
    from ..data import image_set
    from ..data.datasets import data_root
    from ..metrics import encoded_size_kb

    out = Path(out).resolve()
    if data_root() in (out, *out.parents):
        raise ValueError(f"--out {out} is inside the data folder {data_root()}; the benchmark never writes there")
    out.mkdir(parents=True, exist_ok=True)
    test = image_set("test", size=size, n=n, data=data, seed=seed)
    # the plaintexts are 8-bit images (what a PACS stores and every cipher encrypts): on the 1/255 grid, so that
    # "exact" means bit for bit whatever rounding a method applies on the way in
    test.images = (np.round(test.images * 255.0) / 255.0).astype(np.float32)
    attacker_plains = attacker_images(size, max(attack_k, 1), seed=seed + 1, data=data)
    game_plains = attacker_images(size, game_n, seed=seed + 2, data=data)
    chosen = methods(names, size)
    if inversion_steps is not None:
        for method in chosen.values():
            if hasattr(method, "inversion_steps"):
                method.inversion_steps = int(inversion_steps)
    plain8 = [np.round(i * 255).astype(np.uint8) for i in test.images]
    plain_png = float(np.mean([encoded_size_kb(p) for p in plain8]))
    import imageio.v3 as iio

    # AES-GCM over the PNG file of the plaintext: what encrypting the image file costs in bytes
    aes_png = float(np.mean([len(aes_encrypt(iio.imwrite("<bytes>", p, extension=".png"), DEMO_KEY))
                             for p in plain8])) / 1000.0
    settings = {"test": test.description, "n": len(test), "size": size, "seed": seed, "attack_k": attack_k,
                "attack_steps": attack_steps, "game_n": game_n, "game_steps": game_steps,
                "inversion_steps": inversion_steps}
    done = _finished(out, settings) if extend else {}
    done.update(_resume(out, settings))
    commit = code_commit()
    rows, began = [], time.perf_counter()
    for i, (name, method) in enumerate(chosen.items(), 1):
        if name in done:  # measured by an earlier, interrupted run with the same settings
            rows.append(done[name])
            if progress:
                print(f"[{i}/{len(chosen)}] {name}: kept from an earlier run in {out}", flush=True)
            continue
        t0 = time.perf_counter()
        row = measure(name, method, test, attacker_plains, attack_k, attack_steps, game_plains, game_steps)
        row["plain_png_kB"], row["aes_png_kB"] = plain_png, aes_png
        row["code_commit"] = commit
        rows.append(row)
        measured = {r["method"] for r in rows}
        _checkpoint(out, settings, rows + [r for m, r in done.items() if m not in measured])
        if progress:
            print(f"[{i}/{len(chosen)}] {name}: {time.perf_counter() - t0:.0f} s "
                  f"(total {(time.perf_counter() - began) / 60:.1f} min)", flush=True)
    meta = {"test": test.description, "n": len(test), "size": size, "attack_k": attack_k, "attack_steps": attack_steps,
            "game_n": game_n, "game_steps": game_steps, "seed": seed, "command": command, "inversion_steps": inversion_steps,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "code_commit": commit}
    add_timing(rows, meta, chosen, test.images, timing_rounds)
    write_all(out, rows, meta)
    (out / PARTIAL).unlink(missing_ok=True)
    return rows


#: The rows measured so far, written after each method so that an interrupted run resumes where it stopped.
PARTIAL = "rows.partial.json"


def _checkpoint(out: Path, settings: dict, rows: list[dict]) -> None:
    """Write the finished rows to ``out/PARTIAL`` (through a temporary file: a kill never leaves half a file)."""
    temporary = out / (PARTIAL + ".tmp")
    temporary.write_text(json.dumps({"settings": settings, "rows": rows}, indent=1, default=float) + "\n")
    temporary.replace(out / PARTIAL)


def _differences(stored: dict, settings: dict) -> str:
    """The settings whose stored value differs from the wanted one ("k: stored there, wanted now; ..."), or ""."""
    wanted = json.loads(json.dumps(settings, default=float))
    return "; ".join(f"{k}: {stored.get(k)!r} there, {v!r} now" for k, v in wanted.items() if stored.get(k) != v)


def _resume(out: Path, settings: dict) -> dict[str, dict]:
    """The rows of an interrupted run in ``out`` measured with the same ``settings``, by method name.

    Raises ValueError, naming the file and the settings that differ, when that run used other settings:
    mixing rows of two settings in one table would compare unlike with unlike."""
    path = out / PARTIAL
    if not path.exists():
        return {}
    stored = json.loads(path.read_text())
    listed = _differences(stored["settings"], settings)
    if listed:
        raise ValueError(f"{path} holds rows of an interrupted run with other settings ({listed}): run again with "
                         f"its settings to resume it, or delete the file (or choose another --out) to start afresh")
    return {row["method"]: row for row in stored["rows"]}


def _finished(out: Path, settings: dict) -> dict[str, dict]:
    """The rows of the finished run in ``out`` (its results.json) by method name, each with the commit that
    measured it (the run's, for rows stored before rows recorded their own). Raises FileNotFoundError without
    a finished run, ValueError naming the settings that differ (a run stored before ``seed`` was recorded
    counts as seed 0, the default)."""
    path = out / "results.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: --extend adds methods to a finished run; run the benchmark "
                                f"into {out} first, or leave out --extend")
    stored = json.loads(path.read_text())
    meta = dict(stored["meta"])
    meta.setdefault("seed", 0)
    listed = _differences(meta, settings)
    if listed:
        raise ValueError(f"{path} was measured with other settings ({listed}): extend it with its own settings, "
                         f"or choose another --out")
    return {row["method"]: {**row, "code_commit": row.get("code_commit", meta.get("code_commit"))}
            for row in stored["rows"]}


def retime(out: Path, data="auto", seed: int = 0, rounds: int = 5) -> list[dict]:
    """Time the methods of a finished run in ``out`` again (on an otherwise idle machine, say) and rewrite its
    speed columns, tables and figures; every other number stays as it was. Raises FileNotFoundError
    without a ``results.json`` there."""
    from ..data import image_set

    path = Path(out) / "results.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: --timing-only re-times a finished run; run the benchmark into "
                                f"{out} first")
    stored = json.loads(path.read_text())
    rows, meta = stored["rows"], stored["meta"]
    test = image_set("test", size=meta["size"], n=meta["n"], data=data, seed=seed)
    test.images = (np.round(test.images * 255.0) / 255.0).astype(np.float32)
    chosen = methods([r["method"] for r in rows], meta["size"])
    add_timing(rows, meta, chosen, test.images, rounds)
    write_all(Path(out).resolve(), rows, meta)
    return rows
