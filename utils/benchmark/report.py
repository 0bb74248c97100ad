"""The benchmark's outputs: results.json, results.csv, results.md (the tables) and the figures."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

__all__ = ["commits_note", "markdown_table", "write_all"]


def write_all(out: Path, rows: list[dict], meta: dict) -> None:
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=float) + "\n")
    _write_csv(out / "results.csv", rows)
    (out / "results.md").write_text(markdown_table(rows, meta))
    _figures(out, rows)


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


def commits_note(rows: list[dict], meta: dict) -> str:
    """A sentence (with a leading space) naming the rows measured at another commit than the run's: rows an
    earlier run with the same settings measured, kept by ``--extend`` or by a resume; or "" when there are none."""
    others: dict[str, list[str]] = {}
    for r in rows:
        if r.get("code_commit") and r["code_commit"] != meta.get("code_commit"):
            others.setdefault(r["code_commit"][:7], []).append(r["method"])
    return "".join(f" Rows {', '.join(names)}: measured at commit {c} by an earlier run with the same settings (their speed "
                   f"re-timed with the rest)."
                   for c, names in others.items())


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
             + (f" Command: `{meta['command']}`." if meta.get("command") else "")
             + (f" Code: commit {meta['code_commit'][:7]}." if meta.get("code_commit") else "")
             + commits_note(rows, meta), "",
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
