"""``python -m utils.benchmark``: every cipher and every hider of the course on one medical test set.

    python -m utils.benchmark --out runs/benchmark              # the offline corpus's test images, 64 px
    python -m utils.benchmark --quick --out /tmp/bench          # CI-sized: few images, tiny attack budget
    python -m utils.benchmark --data chestxray14 --out ...      # a real dataset of data/README.md
    python -m utils.benchmark --methods aes_gcm chaotic --out ...
    python -m utils.benchmark --timing-only --out runs/benchmark  # re-time a finished run (an idle machine)

The methods are every cipher of :func:`utils.ciphers.available`, AES-GCM misused with one repeated nonce
(``aes_gcm_repeated_nonce``, the insecure control) and, for comparison, the course's grey hiders (the
shipped deep-steganography models and lossless 3-3-2 LSB): a hider "encrypts" an image by hiding it in a
test photograph (the i-th image always in the i-th test cover) and "decrypts" by revealing it. Each is
measured on the same test images (never used in training), every number with a 95 % bootstrap interval
over source images:

* **threat model** (:class:`utils.ciphers.base.ThreatModel`): what is public, what the key is, its size
  in bits; every measurement below is made under it;
* **the distinguishing games** (:mod:`utils.ciphers.games`), security by its definition: the advantage
  of the equality attacker in the left-or-right game (1 for every deterministic method) and of a CNN
  distinguisher in the real-or-random game;
* **known-plaintext attack** at a fixed budget: a substitute decoder trained on ``--attack-k`` pairs of
  the attacker's own images (a hider puts them into covers of the training split, never the test covers),
  and the method's dedicated attack where it has one; the better is kept, with its SSIM, beside the two
  floors of :mod:`utils.metrics.verdicts`: the blind constant (k = 0) and the mean oracle; where the
  dedicated attack decrypts as the key holder does, the fewest pairs with which it does (``pairs_to_exact``);
* **reconstruction**: MSE (the mean of squared differences on the 0-1 scale -- the evaluation report's
  formula takes a square root of the difference by mistake), PSNR, SSIM, share of exact images;
* **memory**: kB of the ciphertext or container as it would be stored or sent, per image, beside the
  plaintext's PNG and AES-GCM over that PNG (the fair row for a file);
* **statistics** of the cipher image: entropy, histogram chi-square, adjacent-pixel correlations --
  descriptions of one picture, not evidence of security;
* **avalanche**: NPCR and UACI after a one-pixel change, and the shares that pass Wu et al.'s critical
  values for each row's cipher-image size (a randomised cipher passes by its nonce, not by diffusion:
  compare ``aes_gcm_repeated_nonce``);
* **key sensitivity**: PSNR of a decryption with another key (or another trained model);
* **speed**: encryption + decryption per image, timed in interleaved rounds (every method, then again),
  key streams and masks generated inside the timed call; the ratio to AES-GCM per round, its median and
  range, and AES-GCM's bare library call as its own row (the rest is the course's wrapper).

It writes ``results.csv`` (one row per method), ``results.md`` (the tables), ``results.json`` (everything,
with the intervals) and figures into ``--out``, and never writes anywhere else (not into the data folder).
While it runs, ``rows.partial.json`` there keeps each finished method's row: run the same command again after
an interruption and it measures only the methods still missing (the file goes when the run completes).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

from .hiding.as_cipher import HiderMethod  # the hider adapter lives with the hiders

__all__ = ["HiderMethod", "AesLibraryCall", "method_names", "methods", "pairs_to_exact", "interleaved_timing", "measure", "run", "retime",
           "main"]

#: The insecure control: AES-GCM with one nonce for every image.
CONTROL = "aes_gcm_repeated_nonce"

HIDERS = {"stego_seed": "hider_seed_grey_64", "stego_efficient": "hider_efficient_grey_64",
          "stego_invertible": "hider_invertible_grey_64"}


def method_names(names=None) -> list[str]:
    """The names that ``names`` stands for: None or ``"all"`` for every method, ``"ciphers"`` for the ciphers of
    :func:`utils.ciphers.available` and the control, or a list of names (which may include those two groups).
    Raises KeyError naming the known methods for an unknown name."""
    from . import ciphers
    from .hiding.pretrained import available_pretrained

    cipher_names = list(ciphers.available()) + [CONTROL]
    known = cipher_names + [n for n, m in HIDERS.items() if m in available_pretrained()] + ["lsb_332"]
    names = [names] if isinstance(names, str) else list(names) if names else ["all"]
    names = list(dict.fromkeys(m for n in names for m in ({"all": known, "ciphers": cipher_names}.get(n) or [n])))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown method(s) {unknown}; known: {', '.join(known)}")
    return names


def methods(names=None, size: int = 64) -> dict:
    """The methods to measure, loaded, by name (``names`` as :func:`method_names` reads it): ciphers, the
    control and the hiders."""
    from . import ciphers
    from .hiding.pretrained import load_pretrained

    names = method_names(names)
    out = {}
    for name in names:
        if name in ciphers.NAMES:
            out[name] = ciphers.load(name)
        elif name == CONTROL:
            from .ciphers.aes_gcm import repeated_nonce

            out[name] = repeated_nonce()
        elif name == "lsb_332":
            out[name] = HiderMethod(name, None, size)
        else:
            out[name] = HiderMethod(name, load_pretrained(HIDERS[name]), size)
    return out


def _interval(value):
    return value.record()


def _clear_key_caches() -> None:
    from .ciphers import chaos, drpe

    chaos.clear_caches()
    drpe.clear_caches()


class AesLibraryCall:
    """AES-256-GCM as the bare library call (``cryptography``'s AESGCM, fresh nonce, no header, no array
    handling): the speed row against which the course's wrapper :class:`~utils.ciphers.aes_gcm.AesGcmCipher`
    is read."""

    name = "aes_gcm_library_call"

    def __init__(self):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from .ciphers.aes_gcm import DEMO_KEY

        self._aead = AESGCM(DEMO_KEY)

    def roundtrip(self, images) -> list[bytes]:
        import os

        out = []
        for pixels in np.round(np.asarray(images) * 255.0).astype(np.uint8):
            nonce = os.urandom(12)
            out.append(self._aead.decrypt(nonce, self._aead.encrypt(nonce, pixels.tobytes(), None), None))
        return out


def interleaved_timing(chosen: dict, images, rounds: int = 5) -> dict[str, dict]:
    """Encryption + decryption seconds per image for every method, timed in ``rounds`` interleaved rounds
    (each round times every method once, in order), with the key caches cleared before each call so that
    key streams and masks are generated inside the timed encryption. AES-GCM's bare library call
    (:class:`AesLibraryCall`) runs in every round too. Per method: ``seconds_per_image`` (median over the
    rounds) and ``ratio_to_aes`` (the ratio of AES-GCM's time to the method's in the same round: median,
    low and high over the rounds); ``None`` ratios when AES-GCM is not among the methods."""
    images = np.asarray(images, np.float32)
    calls = {name: (lambda m: (lambda x: m.decrypt(m.encrypt(x))))(m) for name, m in chosen.items()}
    library = AesLibraryCall()
    calls[library.name] = library.roundtrip
    for call in calls.values():  # warm up on the timed batch itself (graphs traced for its shape, libraries loaded)
        call(images)
    seconds = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            _clear_key_caches()
            began = time.perf_counter()
            call(images)
            seconds[name].append((time.perf_counter() - began) / len(images))
    out = {}
    for name, values in seconds.items():
        values = np.array(values)
        entry = {"seconds_per_image": float(np.median(values)), "rounds": rounds, "ratio_to_aes": None}
        if "aes_gcm" in seconds:
            ratios = np.array(seconds["aes_gcm"]) / values
            entry["ratio_to_aes"] = {"median": float(np.median(ratios)), "low": float(ratios.min()),
                                     "high": float(ratios.max())}
        out[name] = entry
    return out


def pairs_to_exact(method, attacker_plains, test_ciphertext, legit8, ks=(0, 1, 2, 3, 4, 8, 16, 32, 64, 128, 256)):
    """The fewest of ``ks`` known pairs (the first k of ``attacker_plains``) with which the method's dedicated
    attack decrypts every test image bit for bit as the key holder does (``legit8``, their 8-bit
    decryptions: the plaintexts themselves for an exact cipher); None if none of them does."""
    from .ciphers.evaluation import as_uint8

    for k in [k for k in ks if k <= len(attacker_plains)]:
        recovered = method.dedicated_attack(attacker_plains[:k], test_ciphertext)
        if recovered is not None and all(np.array_equal(a, b) for a, b in zip(legit8, as_uint8(recovered))):
            return k
    return None


def measure(name: str, method, test, attacker_plains, attack_k: int, attack_steps: int, game_plains=None,
            game_steps: int = 300) -> dict:
    """Every measurement of the module text but speed for one method on the test :class:`utils.data.ImageSet`."""
    from .ciphers import attacks, games
    from .ciphers import evaluation as ev
    from .metrics import mean_oracle_guess

    images = test.images
    size = images.shape[1]
    if getattr(method, "image_size", None) not in (None, size):
        raise ValueError(f"{name} works on {method.image_size} px images; run the benchmark with --size {method.image_size}")
    oracle = method.attacker_oracle() if hasattr(method, "attacker_oracle") else method
    row = {"method": name, "kind": method.kind}
    threat = method.threat_model()
    row.update({"threat_public": threat.public, "threat_key": threat.key, "key_bits": threat.key_bits,
                "threat_note": threat.note})
    equality = games.equality_game(method, test)
    row["game_lor_advantage"] = _interval(equality.advantage)
    game_plains = attacker_plains if game_plains is None else game_plains
    ror = games.real_or_random_game(method, game_plains, test, steps=game_steps, oracle=oracle)
    row["game_ror_advantage"] = _interval(ror.advantage)
    row["game_ror_seconds"] = ror.seconds
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
    except NotImplementedError as exc:
        row["wrong_key_psnr"] = f"not measured: {exc}"
    plain8 = ev.as_uint8(images)
    row["mean_oracle_psnr"] = _interval(ev.quality(plain8, ev.as_uint8(mean_oracle_guess(images)), test.ids)["psnr"])
    row["constant_guess_psnr"] = row["mean_oracle_psnr"]  # the name of earlier results
    curve = attacks.known_plaintext_curve(method, attacker_plains, test, ks=(0, attack_k), steps=attack_steps,
                                          oracle=oracle)
    row["attack_k"] = attack_k
    row["attack_generic_psnr"] = _interval(curve[attack_k]["psnr"])
    row["attack_generic_ssim"] = _interval(curve[attack_k]["ssim"])
    row["attack_seconds"] = curve[attack_k]["seconds"]
    row["blind_constant_psnr"] = _interval(curve[0]["psnr"])
    row["attack_none_psnr"] = row["blind_constant_psnr"]  # the name of earlier results
    began = time.perf_counter()
    recovered = method.dedicated_attack(attacker_plains[:attack_k], ct)
    best = ("generic", row["attack_generic_psnr"], row["attack_generic_ssim"])
    if recovered is not None:
        found = ev.quality(plain8, ev.as_uint8(recovered), test.ids)
        row["attack_dedicated_psnr"] = _interval(found["psnr"])
        row["attack_dedicated_ssim"] = _interval(found["ssim"])
        row["attack_dedicated_seconds"] = time.perf_counter() - began
        row["attack_dedicated_exact"] = float(np.mean([np.array_equal(a, b) for a, b in
                                                      zip(plain8, ev.as_uint8(recovered))]))
        if row["attack_dedicated_psnr"]["mean"] >= best[1]["mean"]:
            best = ("dedicated", row["attack_dedicated_psnr"], row["attack_dedicated_ssim"])
        legit8 = ev.as_uint8(method.decrypt(ct))
        if all(np.array_equal(a, b) for a, b in zip(legit8, ev.as_uint8(recovered))):  # how few pairs would have done
            row["pairs_to_exact"] = pairs_to_exact(method, attacker_plains[:attack_k], ct, legit8)
    row["attack_best"], row["attack_best_psnr"], row["attack_best_ssim"] = best
    return row


def run(out: Path, names=None, size: int = 64, n: int | None = None, data="auto", attack_k: int = 64,
        attack_steps: int = 300, seed: int = 0, progress: bool = True, game_n: int = 256, game_steps: int = 300,
        timing_rounds: int = 5, command: str | None = None, inversion_steps: int | None = None) -> list[dict]:
    """Measure every method and write results.csv, results.md, results.json and figures into ``out``.

    ``inversion_steps``: the Adam steps of a dedicated attack that descends through a public network (SAAE's
    encoder inversion; its default where None): at 256 px each step costs 16 times what it costs at 64."""
    from .ciphers.aes_gcm import DEMO_KEY, aes_encrypt
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
    done = _resume(out, settings)
    rows, began = [], time.perf_counter()
    for i, (name, method) in enumerate(chosen.items(), 1):
        if name in done:  # measured by an earlier, interrupted run with the same settings
            rows.append(done[name])
            if progress:
                print(f"[{i}/{len(chosen)}] {name}: kept from {out / PARTIAL}", flush=True)
            continue
        t0 = time.perf_counter()
        row = measure(name, method, test, attacker_plains, attack_k, attack_steps, game_plains, game_steps)
        row["plain_png_kB"], row["aes_png_kB"] = plain_png, aes_png
        rows.append(row)
        measured = {r["method"] for r in rows}
        _checkpoint(out, settings, rows + [r for m, r in done.items() if m not in measured])
        if progress:
            print(f"[{i}/{len(chosen)}] {name}: {time.perf_counter() - t0:.0f} s "
                  f"(total {(time.perf_counter() - began) / 60:.1f} min)", flush=True)
    meta = {"test": test.description, "n": len(test), "size": size, "attack_k": attack_k, "attack_steps": attack_steps,
            "game_n": game_n, "game_steps": game_steps, "command": command, "inversion_steps": inversion_steps,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    _add_timing(rows, meta, chosen, test.images, timing_rounds)
    _write_all(out, rows, meta)
    (out / PARTIAL).unlink(missing_ok=True)
    return rows


#: The rows measured so far, written after each method so that an interrupted run resumes where it stopped.
PARTIAL = "rows.partial.json"


def _checkpoint(out: Path, settings: dict, rows: list[dict]) -> None:
    """Write the finished rows to ``out/PARTIAL`` (through a temporary file: a kill never leaves half a file)."""
    temporary = out / (PARTIAL + ".tmp")
    temporary.write_text(json.dumps({"settings": settings, "rows": rows}, indent=1, default=float) + "\n")
    temporary.replace(out / PARTIAL)


def _resume(out: Path, settings: dict) -> dict[str, dict]:
    """The rows of an interrupted run in ``out`` measured with the same ``settings``, by method name.

    Raises ValueError, naming the file and the settings that differ, when that run used other settings:
    mixing rows of two settings in one table would compare unlike with unlike."""
    path = out / PARTIAL
    if not path.exists():
        return {}
    stored = json.loads(path.read_text())
    wanted = json.loads(json.dumps(settings, default=float))
    differ = {k: (stored["settings"].get(k), v) for k, v in wanted.items() if stored["settings"].get(k) != v}
    if differ:
        listed = "; ".join(f"{k}: {a!r} there, {b!r} now" for k, (a, b) in differ.items())
        raise ValueError(f"{path} holds rows of an interrupted run with other settings ({listed}): run again with "
                         f"its settings to resume it, or delete the file (or choose another --out) to start afresh")
    return {row["method"]: row for row in stored["rows"]}


def _add_timing(rows: list[dict], meta: dict, chosen: dict, images, rounds: int) -> None:
    from .runtime import machine_summary

    timing = interleaved_timing(chosen, images[: min(len(images), 32)], rounds)
    for r in rows:
        t = timing[r["method"]]
        r["seconds_per_image"] = t["seconds_per_image"]
        r["throughput_vs_aes"] = t["ratio_to_aes"]["median"] if t["ratio_to_aes"] else None
        r["throughput_vs_aes_range"] = [t["ratio_to_aes"]["low"], t["ratio_to_aes"]["high"]] if t["ratio_to_aes"] else None
    meta.update({"timing": timing, "timing_rounds": rounds, "timing_date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "machine": machine_summary()})


def _write_all(out: Path, rows: list[dict], meta: dict) -> None:
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=float) + "\n")
    _write_csv(out / "results.csv", rows)
    (out / "results.md").write_text(markdown_table(rows, meta))
    _figures(out, rows)


def retime(out: Path, data="auto", seed: int = 0, rounds: int = 5) -> list[dict]:
    """Time the methods of a finished run in ``out`` again (on an otherwise idle machine, say) and rewrite its
    speed columns, tables and figures; every other number stays as it was. Raises FileNotFoundError
    without a ``results.json`` there."""
    from .data import image_set

    path = Path(out) / "results.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: --timing-only re-times a finished run; run the benchmark into "
                                f"{out} first")
    stored = json.loads(path.read_text())
    rows, meta = stored["rows"], stored["meta"]
    test = image_set("test", size=meta["size"], n=meta["n"], data=data, seed=seed)
    test.images = (np.round(test.images * 255.0) / 255.0).astype(np.float32)
    chosen = methods([r["method"] for r in rows], meta["size"])
    _add_timing(rows, meta, chosen, test.images, rounds)
    _write_all(Path(out).resolve(), rows, meta)
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


def _ratio(row) -> str:
    if row.get("throughput_vs_aes") is None:
        return "-"
    low, high = row["throughput_vs_aes_range"]
    return f"{row['throughput_vs_aes']:.3g} [{low:.3g}, {high:.3g}]"


def markdown_table(rows: list[dict], meta: dict) -> str:
    """The results as Markdown: security first (threat model, games, best attack beside both floors), then
    reconstruction, memory and speed, then the statistics of the field, then each threat model in words."""
    lines = [f"# Benchmark: {meta['test']}", "",
             f"{meta['n']} test images of {meta['size']}x{meta['size']}; means with 95 % bootstrap intervals over "
             f"source images; {meta['date']}, {meta['machine'].split(', ')[1]}."
             + (f" Command: `{meta['command']}`." if meta.get("command") else ""), "",
             "## Security by its definition", "",
             "Advantage in the chosen-plaintext games (0: no better than a coin toss; 1: always wins) and the best "
             f"known-plaintext attack with k = {meta['attack_k']} pairs, beside the blind constant (k = 0) and the "
             "mean oracle (each image's own mean grey: an oracle).", "",
             "| method | key bits | left-or-right adv. | real-or-random adv. | best attack PSNR (dB) | its SSIM | "
             "attack | pairs to exact | blind constant | mean oracle |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['method']} | {r['key_bits']:g} | {_cell(r['game_lor_advantage'], 2)} | "
                     f"{_cell(r['game_ror_advantage'], 2)} | {_cell(r['attack_best_psnr'])} | "
                     f"{_cell(r['attack_best_ssim'], 3)} | {r['attack_best']} | {r.get('pairs_to_exact', '-')} | "
                     f"{_cell(r['blind_constant_psnr'])} | "
                     f"{_cell(r['mean_oracle_psnr'])} |")
    lines += ["", "## Reconstruction, memory, speed", "",
              "| method | kind | PSNR (dB) | SSIM | MSE (0-1) | exact | kB per image | plaintext PNG kB | "
              "AES-GCM over PNG kB | speed vs AES-GCM [range] |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['method']} | {r['kind']} | {_cell(r['recon_psnr'])} | {_cell(r['recon_ssim'], 3)} | "
                     f"{_cell(r['recon_mse'], 5)} | {_cell(r['recon_exact'], 2)} | {r['memory_kB']:.2f} | "
                     f"{r['plain_png_kB']:.2f} | {r['aes_png_kB']:.2f} | {_ratio(r)} |")
    timing = meta.get("timing", {})
    if "aes_gcm_library_call" in timing and "aes_gcm" in timing:
        lib, wrap = timing["aes_gcm_library_call"], timing["aes_gcm"]
        lines += ["", f"Speed ({meta.get('timing_date', meta['date'])}): encryption + decryption, {meta['timing_rounds']} interleaved rounds, key streams and "
                      "masks generated inside each timed call; the ratio is AES-GCM's time over the method's in the "
                      f"same round (median [lowest, highest]). AES-GCM's bare library call takes "
                      f"{lib['seconds_per_image'] * 1e6:.1f} us per image, the course's wrapper "
                      f"{wrap['seconds_per_image'] * 1e6:.1f} us: the wrapper's overhead is "
                      f"{wrap['seconds_per_image'] / lib['seconds_per_image']:.2g}x the library call."]
    lines += ["", "## The statistics of the field (descriptions of a picture, not proofs of security)", "",
              "| method | entropy (bits) | chi-square | corr. (h) | NPCR % | UACI % | NPCR critical % | NPCR pass | "
              "UACI pass | wrong key PSNR |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['method']} | {_cell(r['entropy'], 3)} | {_cell(r['chi_square'], 0)} | "
                     f"{_cell(r['correlation_horizontal'], 3)} | {_cell(r['npcr'], 2)} | {_cell(r['uaci'], 2)} | "
                     f"{r['npcr_critical']:.4f} | {_cell(r['npcr_pass'], 2)} | {_cell(r['uaci_pass'], 2)} | "
                     f"{_cell(r['wrong_key_psnr'])} |")
    lines += ["", "NPCR critical: Wu et al.'s value (alpha = 0.05) for each row's cipher-image size. Attack: the "
                  f"better of a substitute decoder ({meta['attack_steps']} steps) and the method's dedicated attack, "
                  "with k known pairs of the attacker's own images (train and validation split). Real-or-random: a "
                  f"CNN trained {meta.get('game_steps', '?')} steps on {meta.get('game_n', '?')} of the attacker's "
                  "images against noise." + (f" SAAE's encoder inversion: {meta['inversion_steps']} Adam steps."
                                             if meta.get("inversion_steps") else ""), "", "## Threat models", ""]
    for r in rows:
        lines.append(f"- **{r['method']}**: public: {r['threat_public']}; key: {r['threat_key']} "
                     f"({'no key' if r['key_bits'] == 0 else format(r['key_bits'], 'g') + ' bits nominal'})"
                     + (f"; {r['threat_note']}" if r["threat_note"] else "") + ".")
    lines.append("")
    return "\n".join(lines)


def _figures(out: Path, rows: list[dict]) -> None:
    # Figure objects, not pyplot: no backend is switched, so a notebook that runs the benchmark keeps
    # showing its own figures (matplotlib.use("Agg") here once hid every later figure of notebook 09)
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    def capped(v):
        return min(v["mean"], 60.0)

    fig = Figure(figsize=(8.5, 4.5))
    ax = fig.subplots()
    markers = "osD^vPX*<>ph"
    for i, r in enumerate(rows):  # a legend, not labels: several methods share a point or sit close together
        ax.scatter(capped(r["recon_psnr"]), capped(r["attack_best_psnr"]), s=45, marker=markers[i % len(markers)],
                   color=colormaps["tab20"](i % 20), label=r["method"], alpha=0.85)
    both_exact = [r["method"] for r in rows if capped(r["recon_psnr"]) == 60.0 and capped(r["attack_best_psnr"]) == 60.0]
    if both_exact:
        ax.annotate("exact for receiver and attacker:\n" + ", ".join(both_exact), (60, 60), xytext=(-8, -6),
                    textcoords="offset points", ha="right", va="top", fontsize=7)
    ax.plot([0, 60], [0, 60], color="gray", lw=0.8, ls=":")
    ax.axhline(np.mean([r["blind_constant_psnr"]["mean"] for r in rows]), color="tab:red", lw=0.8, ls="--",
               label="blind constant (k = 0)")
    ax.axhline(np.mean([r["mean_oracle_psnr"]["mean"] for r in rows]), color="tab:purple", lw=0.8, ls="--",
               label="mean oracle")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_xlabel("legitimate decryption PSNR (dB; exact shown at 60)")
    ax.set_ylabel(f"attacker's PSNR, k = {rows[0]['attack_k']} (dB)")
    ax.set_title("what the receiver gets and what an attacker gets")
    fig.tight_layout()
    fig.savefig(out / "reconstruction_vs_attack.png", dpi=100)

    timed = [r for r in rows if r.get("throughput_vs_aes") is not None]
    if not timed:
        return
    fig = Figure(figsize=(6.5, 3.6))
    ax = fig.subplots()
    ratios = [max(r["throughput_vs_aes"], 1e-9) for r in timed]
    spread = np.array([[max(m - r["throughput_vs_aes_range"][0], 0), max(r["throughput_vs_aes_range"][1] - m, 0)]
                       for r, m in zip(timed, ratios)]).T
    ax.barh([r["method"] for r in timed], ratios, xerr=spread)
    ax.set_xscale("log")
    ax.axvline(1.0, color="gray", lw=0.8)
    ax.set_xlabel("images per second, relative to AES-GCM (log scale)")
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=100)


def main(argv=None) -> int:
    from .runtime import portable_command

    parser = argparse.ArgumentParser(prog="python -m utils.benchmark", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for results.csv, results.md, results.json, figures")
    parser.add_argument("--data", default="auto", help="'auto' (real datasets when present), 'corpus', or dataset names")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--n", type=int, default=None, help="test images (default: 16 per test source image)")
    parser.add_argument("--methods", nargs="*", default=None, help="names, or the groups all and ciphers (default: all, every cipher, the control and every hider)")
    parser.add_argument("--attack-k", type=int, default=64)
    parser.add_argument("--attack-steps", type=int, default=300)
    parser.add_argument("--game-n", type=int, default=256, help="attacker's images for the real-or-random game")
    parser.add_argument("--game-steps", type=int, default=300, help="training steps of the game's distinguisher")
    parser.add_argument("--timing-rounds", type=int, default=5)
    parser.add_argument("--inversion-steps", type=int, default=None,
                        help="Adam steps of SAAE's encoder inversion (default: the cipher's own, 200)")
    parser.add_argument("--timing-only", action="store_true",
                        help="time the methods of the finished run in --out again and rewrite its speed columns")
    parser.add_argument("--quick", action="store_true",
                        help="CI-sized: 16 images, k = 8, 10 attack steps, a 20-step game on 32 images, 2 timing rounds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.attack_k, args.attack_steps = args.n or 16, 8, 10
        args.game_n, args.game_steps, args.timing_rounds = 32, 20, 2
    data = args.data if args.data in ("auto", "corpus") else args.data.split(",")
    try:
        if args.timing_only:
            rows = retime(args.out, data, args.seed, args.timing_rounds)
            print((args.out / "results.md").read_text())
            return 0
        rows = run(args.out, args.methods, args.size, args.n, data, args.attack_k, args.attack_steps, args.seed,
                   game_n=args.game_n, game_steps=args.game_steps, timing_rounds=args.timing_rounds,
                   inversion_steps=args.inversion_steps,
                   command=portable_command("python -m utils.benchmark", sys.argv[1:] if argv is None else argv))
    except (KeyError, ValueError, FileNotFoundError) as exc:
        print(f"python -m utils.benchmark: {exc}", file=sys.stderr)
        return 2
    print((args.out / "results.md").read_text())
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
