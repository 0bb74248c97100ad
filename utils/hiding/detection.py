"""Can a steganalyst tell containers from covers? Two detectors, every hiding method, two payloads.

    python -m utils.hiding.detection --out utils/results/detection

For each method of :func:`utils.hiding.robustness.methods` (the shipped grey hiders, LSB 3-3-2, QIM), the
study trains two detectors on covers and containers made from the **train** split (cover photographs and
secrets that no test pair uses) and scores them on the **test** pairs (whose secrets carry content):

* the course's small CNN (:func:`utils.hiding.steganalysis.train_detector`, a fixed KV high-pass, three
  convolutions);
* the rich-model detector (:mod:`utils.hiding.rich_model`: residual co-occurrences and an ensemble of
  Fisher linear discriminants).

Two payloads: the **full** one (a 64x64 grey secret per 64x64 cover) and a **reduced** one (a 32x32
secret in the corner of a black 64x64 frame for the hiders; LSB 3-3-2 writes only that corner's pixels,
and QIM carries an 8x8 thumbnail, 256 bits). Each detector is trained and tested separately for each
method and payload, as an attacker who knows the method would train. The detection rate (containers
called containers), the false-alarm rate (covers called containers) and the balanced accuracy carry 95 %
bootstrap intervals over the test pairs' source images. Chance is a balanced accuracy of 0.5.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ..plotting import to_uint8 as _to_uint8

__all__ = ["PAYLOADS", "reduced", "rates", "measure", "report", "stored", "STORED", "main"]

PAYLOADS = ("full", "reduced")
STORED = Path(__file__).resolve().parents[1] / "results" / "detection"


def reduced(label: str, hide):
    """The reduced-payload version of a method's ``hide`` (see the module docstring)."""
    from .lsb import lsb_hide
    from .qim import QIM

    def corner(secrets):
        framed = np.zeros_like(secrets)
        h, w = secrets.shape[1] // 2, secrets.shape[2] // 2
        small = secrets.reshape(len(secrets), h, 2, w, 2, -1).mean(axis=(2, 4))  # the secret at half size
        framed[:, :h, :w] = small
        return framed

    if label.startswith("LSB"):
        def hide_lsb(secrets, covers):
            c8 = _to_uint8(covers)
            out = c8.copy()
            h, w = c8.shape[1] // 2, c8.shape[2] // 2
            small = _to_uint8(corner(secrets)[:, :h, :w])
            out[:, :h, :w] = lsb_hide(small, c8[:, :h, :w])
            return out
        return hide_lsb
    if label.startswith("QIM"):
        qim = QIM(factor=8, bits=4, per_block=4)
        return lambda secrets, covers: qim.hide(_to_uint8(secrets), _to_uint8(covers))
    return lambda secrets, covers: hide(corner(secrets), covers)


def rates(cover_scores, container_scores, pairs, threshold: float = 0.0, sign: int = 1) -> dict:
    """Detection rate, false-alarm rate and balanced accuracy of the rule ``sign * score > sign * threshold``
    -> container, with 95 % intervals over ``pairs``' sources, and the AUC in the rule's direction."""
    from ..metrics import bootstrap_ci

    neg, pos = sign * np.asarray(cover_scores, float), sign * np.asarray(container_scores, float)
    hit, alarm = (pos > sign * threshold).astype(float), (neg > sign * threshold).astype(float)
    auc = float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))
    return {"detection_rate": bootstrap_ci(hit, pairs.groups).record(),
            "false_alarm_rate": bootstrap_ci(alarm, pairs.groups).record(),
            # each test pair gives one cover and one container: the pair's balanced outcome
            "balanced_accuracy": bootstrap_ci(0.5 * hit + 0.5 * (1 - alarm), pairs.groups).record(),
            "auc": auc}


def measure(train, test, chosen: dict | None = None, cnn_steps: int = 300, seed: int = 0, verbose: bool = True) -> dict:
    """Rows ``{method: {payload: {"cnn": rates, "rich model": rates}}}`` (see :func:`rates`)."""
    from . import rich_model
    from .robustness import methods
    from .steganalysis import detector_scores, train_detector

    chosen = chosen if chosen is not None else methods()
    covers_train, covers_test = _to_uint8(train.covers), _to_uint8(test.covers)
    f_train, f_test = rich_model.features(covers_train), rich_model.features(covers_test)
    rows = {}
    for label, (hide, _) in chosen.items():
        for payload in PAYLOADS:
            began = time.perf_counter()
            make = hide if payload == "full" else reduced(label, hide)
            c_train, c_test = make(train.secrets, train.covers), make(test.secrets, test.covers)
            clf = rich_model.EnsembleFLD(seed=seed).fit(f_train, rich_model.features(c_train))
            rm = rates(clf.decision_function(f_test), clf.decision_function(rich_model.features(c_test)), test)
            net, _ = train_detector(covers_train / 255.0, c_train / 255.0, steps=cnn_steps, seed=seed)
            cnn = rates(detector_scores(net, covers_test / 255.0), detector_scores(net, c_test / 255.0), test)
            rows.setdefault(label, {})[payload] = {"cnn": cnn, "rich model": rm,
                                                   "seconds": round(time.perf_counter() - began, 1)}
            if verbose:
                print(f"{label}, {payload}: balanced accuracy CNN {cnn['balanced_accuracy']['mean']:.3f}, "
                      f"rich model {rm['balanced_accuracy']['mean']:.3f}", flush=True)
    return rows


def _fmt(record: dict) -> str:
    return f"{record['mean']:.2f} [{record['low']:.2f}, {record['high']:.2f}]"


def report(result: dict) -> str:
    """A text table: per method and payload, each detector's detection rate, false-alarm rate, balanced accuracy."""
    lines = [f"{'method':<36}{'payload':<9}{'detector':<12}{'detection':>20}{'false alarm':>20}{'balanced acc.':>20}"]
    for label, by_payload in result["rows"].items():
        for payload, by_detector in by_payload.items():
            for name in ("cnn", "rich model"):
                r = by_detector[name]
                lines.append(f"{label:<36}{payload:<9}{name:<12}{_fmt(r['detection_rate']):>20}"
                             f"{_fmt(r['false_alarm_rate']):>20}{_fmt(r['balanced_accuracy']):>20}")
    lines.append(f"rates with 95 % bootstrap intervals over source images; trained on {result['train']}; "
                 f"tested on {result['test']}")
    return "\n".join(lines)


def stored(folder=None) -> dict:
    """The stored study (``detection.json`` in ``folder``, default :data:`STORED`)."""
    from ..runtime import read_study

    return read_study(folder or STORED, "detection.json", "python -m utils.hiding.detection")


def main(argv=None) -> int:
    from ..cards import code_commit
    from ..data import pair_set
    from ..runtime import machine_summary, portable_command, seed_everything, store_study

    parser = argparse.ArgumentParser(prog="python -m utils.hiding.detection", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for detection.json and README.md")
    parser.add_argument("--train-n", type=int, default=1024, help="training pairs (covers and containers)")
    parser.add_argument("--cnn-steps", type=int, default=300)
    args = parser.parse_args(argv)
    seed_everything(0)
    began = time.perf_counter()
    train = pair_set("train", "medical", 64, n=args.train_n, channels=1, content=True)
    test = pair_set("test", "medical", 64, channels=1, content=True)
    result = {"train": train.description, "test": test.description + "; secrets under the content rule",
              "rows": measure(train, test, cnn_steps=args.cnn_steps),
              "command": portable_command("python -m utils.hiding.detection", sys.argv[1:] if argv is None else argv),
              "code_commit": code_commit(), "machine": machine_summary()}
    result["wall_time_minutes"] = round((time.perf_counter() - began) / 60, 1)
    store_study(args.out, "detection.json", result, "Steganalysis: two detectors, every method, two payloads",
                "utils/hiding/detection.py", report(result))
    print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
