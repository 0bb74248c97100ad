"""Hiding through a lossy channel: every hider's secret and cover quality after JPEG, resizing and noise.

    python -m utils.hiding.robustness --out utils/results/channel_curves

For each method -- the shipped grey hiders, the robust hider trained through
:class:`utils.hiding.channel.LossyChannel` (when shipped), LSB 3-3-2 and the classic robust baseline
:class:`utils.hiding.qim.QIM` -- the sender stores the container as an 8-bit image, the channel
(:data:`utils.hiding.channel.CHANNELS`: PNG, JPEG 100/95/90/75/50 through Pillow's libjpeg, down-and-up
resizing, Gaussian noise) delivers what the receiver decodes, and the receiver reveals the secret from it.
Every row is measured on the test pairs whose secrets carry content (:func:`utils.data.pair_set` with
``content=True``), with 95 % bootstrap intervals over the secret and cover source images, and stored as
JSON with the command, the code's commit and the time it took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ..plotting import to_uint8 as _to_uint8

__all__ = ["methods", "measure", "floors", "tradeoff", "tradeoff_figure", "stored", "STORED", "report", "curves_figure", "GOAL", "main"]

#: The robust hider's goal (issue 18): a secret of at least 30 dB after JPEG 75 with a cover of at least 33 dB.
GOAL = {"channel": "JPEG 75", "secret_psnr": 30.0, "cover_psnr": 33.0}

#: Where the course's run is stored.
STORED = Path(__file__).resolve().parents[1] / "results" / "channel_curves"

HIDERS = {"Baluja (seed) grey": "hider_seed_grey_64", "efficient grey": "hider_efficient_grey_64",
          "invertible grey": "hider_invertible_grey_64", "robust (efficient, lossy channel)": "hider_robust_grey_64"}


def methods(include_missing: bool = False) -> dict:
    """Each method as ``(hide, reveal)``: ``hide(secrets, covers)`` (float [0, 1]) -> uint8 containers,
    ``reveal(received)`` (float [0, 1]) -> uint8 secrets. Hiders that are not shipped are left out."""
    from .lsb import lsb_hide, lsb_reveal
    from .pretrained import available_pretrained, load_pretrained
    from .qim import QIM

    out = {}
    shipped = set(available_pretrained())
    for label, name in HIDERS.items():
        if name not in shipped and not include_missing:
            continue
        model = load_pretrained(name)
        out[label] = (lambda s, c, m=model: _to_uint8(m.hide(s, c)), lambda x, m=model: _to_uint8(m.reveal(x)))
    out["LSB 3-3-2"] = (lambda s, c: lsb_hide(_to_uint8(s), _to_uint8(c)),
                        lambda x: lsb_reveal(_to_uint8(x), secret_channels=1))
    qim = QIM()
    out["QIM (classic, robust)"] = (lambda s, c: qim.hide(_to_uint8(s), _to_uint8(c)), qim.reveal)
    return out


def measure(pairs, chosen: dict | None = None, channels=None, seed: int = 0) -> dict:
    """Rows ``{method: {"cover": {...}, "channels": {channel name: {"secret_psnr": record, "secret_ssim": record}}}}``
    with :meth:`utils.metrics.Interval.record` values over ``pairs``' sources."""
    from ..metrics import bootstrap_ci, psnr, ssim
    from .channel import CHANNELS, apply

    chosen = chosen if chosen is not None else methods()
    channels = channels or CHANNELS
    truth, cover8 = _to_uint8(pairs.secrets), _to_uint8(pairs.covers)
    rows = {}
    for label, (hide, reveal) in chosen.items():
        began = time.perf_counter()
        container = hide(pairs.secrets, pairs.covers)
        row = {"cover": {"psnr": bootstrap_ci([psnr(a, b) for a, b in zip(cover8, container)], pairs.groups).record(),
                         "ssim": bootstrap_ci([ssim(a, b) for a, b in zip(cover8, container)], pairs.groups).record()},
               "channels": {}}
        for channel in channels:
            revealed = reveal(apply(container, channel, seed))
            row["channels"][channel.name] = {
                "secret_psnr": bootstrap_ci([psnr(a, b) for a, b in zip(truth, revealed)], pairs.groups).record(),
                "secret_ssim": bootstrap_ci([ssim(a, b) for a, b in zip(truth, revealed)], pairs.groups).record()}
        row["seconds"] = round(time.perf_counter() - began, 1)
        rows[label] = row
    return rows


def floors(pairs, seed: int = 0) -> dict:
    """The two floors a revealed secret must clear, as rows like :func:`measure`'s channel entries:
    the :data:`~utils.metrics.verdicts.BLIND_CONSTANT` (one grey level, the mean of train-split secrets)
    and the :data:`~utils.metrics.verdicts.MEAN_ORACLE` (each test secret's own mean: an oracle)."""
    from ..data import image_set
    from ..metrics import bootstrap_ci, psnr, ssim
    from ..metrics.verdicts import BLIND_CONSTANT, MEAN_ORACLE, blind_constant_guess, mean_oracle_guess

    truth = _to_uint8(pairs.secrets)[..., 0]
    train = image_set("train", size=pairs.secrets.shape[1], seed=seed).images
    guesses = {BLIND_CONSTANT: blind_constant_guess(train, truth.shape), MEAN_ORACLE: mean_oracle_guess(pairs.secrets[..., 0])}
    out = {}
    for label, guess in guesses.items():
        g = _to_uint8(guess)
        out[label] = {"secret_psnr": bootstrap_ci([psnr(a, b) for a, b in zip(truth, g)], pairs.groups).record(),
                      "secret_ssim": bootstrap_ci([ssim(a, b) for a, b in zip(truth, g)], pairs.groups).record()}
    return out


def tradeoff(pairs, channel=None, strengths=(1.0, 0.8, 0.6, 0.4), deltas=(16, 24, 32, 40, 56), seed: int = 0) -> dict:
    """Cover PSNR against the secret's PSNR after ``channel`` (default JPEG 75) along each method's own dial.

    The robust hider's dial is its strength: the sender stores ``cover + a (container - cover)`` for ``a``
    in ``strengths`` (a = 1 is the trained model). QIM's dial is its step ``delta``. Returns
    ``{method: [{"setting": ..., "cover_psnr": record, "secret_psnr": record}, ...]}``; methods that are
    not shipped are left out.
    """
    from ..metrics import bootstrap_ci, psnr
    from .channel import Channel, apply
    from .pretrained import available_pretrained, load_pretrained
    from .qim import QIM

    channel = channel or Channel("jpeg", 75)
    truth, cover8 = _to_uint8(pairs.secrets), _to_uint8(pairs.covers)

    def point(setting, container, reveal):
        revealed = reveal(apply(container, channel, seed))
        return {"setting": setting,
                "cover_psnr": bootstrap_ci([psnr(a, b) for a, b in zip(cover8, container)], pairs.groups).record(),
                "secret_psnr": bootstrap_ci([psnr(a, b) for a, b in zip(truth, revealed)], pairs.groups).record()}

    out = {"channel": channel.name}
    name = HIDERS["robust (efficient, lossy channel)"]
    if name in available_pretrained():
        model = load_pretrained(name)
        full = model.hide(pairs.secrets, pairs.covers)
        out["robust (efficient, lossy channel)"] = [
            point(f"strength {a:g}", _to_uint8(pairs.covers + a * (full - pairs.covers)), lambda x: _to_uint8(model.reveal(x)))
            for a in strengths]
    out["QIM (classic, robust)"] = [
        point(f"delta {d:g}", QIM(delta=d).hide(truth, cover8), QIM(delta=d).reveal) for d in deltas]
    return out


def stored(folder=None) -> dict:
    """The stored run (``channel_curves.json`` in ``folder``, default :data:`STORED`)."""
    from ..runtime import read_study

    return read_study(folder or STORED, "channel_curves.json", "python -m utils.hiding.robustness")


def _fmt(record: dict, digits: int = 1) -> str:
    if np.isinf(record["mean"]):
        return "exact"
    return f"{record['mean']:.{digits}f} [{record['low']:.{digits}f}, {record['high']:.{digits}f}]"


def report(result: dict, channels=("PNG (lossless)", "JPEG 90", "JPEG 75", "resize x0.75", "noise sigma 2")) -> str:
    """A text table: cover PSNR, then the secret's PSNR after each of ``channels``."""
    head = f"{'method':<36}{'cover PSNR':>22}" + "".join(f"{'secret, ' + c:>26}" for c in channels)
    lines = [head]
    for label, row in result["rows"].items():
        lines.append(f"{label:<36}{_fmt(row['cover']['psnr']):>22}"
                     + "".join(f"{_fmt(row['channels'][c]['secret_psnr']):>26}" for c in channels))
    for label, row in result.get("floors", {}).items():
        lines.append(f"{'floor: ' + label:<58}" + f"{_fmt(row['secret_psnr']):>26} on every channel")
    lines.append(f"PSNR in dB, means with 95 % bootstrap intervals over source images; {result['pairs']}")
    return "\n".join(lines)


def curves_figure(result: dict, ax=None):
    """Secret PSNR against JPEG quality (100 to 50), one line per method, the PNG value at the left."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    names = ["PNG (lossless)"] + [f"JPEG {q}" for q in (100, 95, 90, 75, 50)]
    for label, row in result["rows"].items():
        values = [row["channels"][n]["secret_psnr"] for n in names]
        mean, low, high = ([60.0 if np.isinf(v[k]) else v[k] for v in values] for k in ("mean", "low", "high"))
        line, = ax.plot(range(len(names)), mean, marker="o", label=label)
        ax.fill_between(range(len(names)), low, high, color=line.get_color(), alpha=0.15)
    ax.axhline(GOAL["secret_psnr"], color="grey", ls="--", lw=1)
    ax.text(len(names) - 1, GOAL["secret_psnr"] + 0.5, "goal after JPEG 75", ha="right", fontsize=8, color="grey")
    ax.set_xticks(range(len(names)), ["PNG"] + [n.split()[1] for n in names[1:]])
    ax.set_xlabel("channel (JPEG quality)")
    ax.set_ylabel("revealed secret PSNR (dB; exact drawn at 60)")
    ax.legend(fontsize=8)
    return ax


def tradeoff_figure(result: dict, ax=None):
    """Cover PSNR (x) against the secret's PSNR after the trade-off's channel (y), one line per dial, with
    LSB 3-3-2 and the shipped hiders as points and the goal as a shaded corner."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2))
    trade = result["tradeoff"]
    for label, points in trade.items():
        if label == "channel":
            continue
        x = [p["cover_psnr"]["mean"] for p in points]
        y = [p["secret_psnr"]["mean"] for p in points]
        ax.plot(x, y, marker="o", label=f"{label}: {points[0]['setting'].split()[0]} dial")
        for p, xi, yi in zip(points, x, y):
            ax.annotate(p["setting"].split()[1], (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7)
    singles = [(label, row) for label, row in result["rows"].items() if not label.startswith(("robust", "QIM"))]
    for n, (label, row) in enumerate(singles):
        x, y = row["cover"]["psnr"]["mean"], row["channels"][trade["channel"]]["secret_psnr"]["mean"]
        ax.scatter(x, y, marker="s", color="grey")
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, -12 + 10 * (n % 2)), fontsize=7)
    top = max(ax.get_ylim()[1], GOAL["secret_psnr"] + 2)
    right = max(ax.get_xlim()[1], GOAL["cover_psnr"] + 2)
    ax.fill_between([GOAL["cover_psnr"], right], GOAL["secret_psnr"], top, color="green", alpha=0.12, label="the goal")
    ax.set_xlim(right=right)
    ax.set_ylim(top=top)
    ax.set_xlabel("cover PSNR (dB): how invisible")
    ax.set_ylabel(f"secret PSNR after {trade['channel']} (dB)")
    ax.legend(fontsize=7, loc="lower left")
    return ax


def main(argv=None) -> int:
    from ..cards import code_commit
    from ..data import pair_set
    from ..runtime import machine_summary, portable_command, seed_everything, store_study

    parser = argparse.ArgumentParser(prog="python -m utils.hiding.robustness", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for channel_curves.json and README.md")
    parser.add_argument("--n", type=int, default=None, help="test pairs (default: all of the content set)")
    args = parser.parse_args(argv)
    seed_everything(0)
    began = time.perf_counter()
    pairs = pair_set("test", "medical", 64, n=args.n, channels=1, content=True)
    result = {"pairs": pairs.description + "; secrets under the content rule",
              "n": len(pairs), "rows": measure(pairs), "floors": floors(pairs), "tradeoff": tradeoff(pairs),
              "command": portable_command("python -m utils.hiding.robustness", sys.argv[1:] if argv is None else argv),
              "code_commit": code_commit(), "machine": machine_summary(), "goal": GOAL}
    result["wall_time_minutes"] = round((time.perf_counter() - began) / 60, 1)
    store_study(args.out, "channel_curves.json", result, "Hiding through lossy channels", "utils/hiding/robustness.py",
                report(result))
    print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
