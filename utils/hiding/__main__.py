"""``python -m utils.hiding``: train a hider on the train split and ship it with a model card.

    python -m utils.hiding --variant efficient --secrets medical --filters 64 --depth 5 \\
        --steps 30000 --out utils/pretrained/hider_efficient_grey_64

Trains on the backend that ``KERAS_BACKEND`` names (TensorFlow by default; with ``KERAS_BACKEND=jax`` no
TensorFlow is needed), selects the weights by the validation pairs, measures the test pairs with 95 %
intervals over source images (beside LSB on the same pairs), and writes weights, ``model_card.json`` and
``README.md`` into ``--out``. The best weights so far are written to ``--out`` during training, so a run
stopped early still leaves a usable model. ``--npz`` trains from patches exported by ``--export-npz``
(for a machine without the corpus's DICOM readers). With ``--channel lossy`` it trains through JPEG
(quality 50-95), resizing and noise drawn per image (:class:`utils.hiding.channel.LossyChannel`) and
selects the weights also by the validation secret after JPEG 75.

The hider's own options are the fields of :class:`utils.hiding.stego.StegoConfig` (made by
:func:`utils.configs.add_config_arguments`); those left out take the variant's defaults
(:meth:`StegoConfig.for_variant`).
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    from ..configs import add_config_arguments
    from .stego import VARIANTS, StegoConfig

    p = argparse.ArgumentParser(prog="python -m utils.hiding", description=__doc__.split("\n\n")[0])
    # the hider's own configuration, one option per StegoConfig field; None: the variant's default (StegoConfig.for_variant)
    add_config_arguments(p, StegoConfig, flags={"noise_std": "--noise"},
                         choices={"variant": list(VARIANTS), "secret_channels": [1, 3], "channel": ["lossless", "lossy"]},
                         defaults={"variant": ("efficient", "efficient"),
                                   "filters": (None, "50 seed, 64 efficient, 32 invertible"),
                                   "depth": (None, "5 seed, 5 efficient, 8 invertible"),
                                   "secret_channels": (None, "1 for medical secrets, 3 for natural"),
                                   "noise_std": (None, "0.01 for Baluja's network, 0 for the others"),
                                   "quantize": (None, "off for Baluja's network, as in the seed; on for the others")})
    p.add_argument("--secrets", default="natural", choices=["natural", "medical"])
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--minutes", type=float, default=None, help="stop after this many minutes of training steps")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--content", action="store_true", help="draw training secrets under the content rule "
                   "(utils.data.content: no background patches)")
    p.add_argument("--augment", type=float, default=1.0, help="augmentation strength (0: flips and turns only)")
    p.add_argument("--init", default=None, help="start from this pretrained hider (see transfer_weights)")
    p.add_argument("--init-weights", type=Path, default=None,
                   help="start from a .weights.h5 file of the same configuration (e.g. an earlier model of the course)")
    p.add_argument("--init-note", default=None, help="where --init-weights came from, for the model card")
    p.add_argument("--eval-every", type=int, default=None)
    p.add_argument("--npz", type=Path, default=None, help="train from exported patches instead of the corpus")
    p.add_argument("--export-npz", type=Path, default=None, help="write train/val patches to this file and stop")
    p.add_argument("--export-n", type=int, default=16384, help="training pairs to export (fresh patches of every "
                   "train source and frame; the training stream still augments them)")
    p.add_argument("--out", type=Path, required=False)
    return p


def config_of(args: argparse.Namespace):
    """The :class:`~utils.hiding.stego.StegoConfig` a parsed command means: secret channels as given, or 1 for
    medical secrets and 3 for natural ones; what else the command leaves out follows the variant."""
    from .stego import StegoConfig

    channels = args.secret_channels or (1 if args.secrets == "medical" else 3)
    return StegoConfig.for_variant(args.variant, args.filters, args.depth, channels, args.noise_std, args.quantize,
                                   args.seed, args.channel)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from ..runtime import keras_backend, machine_summary, seed_everything

    seed_everything(args.seed)
    config = config_of(args)
    channels = config.secret_channels
    if args.export_npz:
        return _export(args, channels)
    if args.out is None:
        raise SystemExit("--out is required (the folder to write the model into)")
    import numpy as np

    from ..data import pair_set
    from .lsb import lsb_evaluate
    from .pretrained import interval_dict, load_pretrained, save_pretrained
    from .stego import make_hider, transfer_weights
    from .training import PatchStream, evaluate, fit_hider, training_stream

    model = make_hider(config).build_for(args.size)
    if args.init:
        transfer_weights(load_pretrained(args.init), model)
    if args.init_weights:
        model.load_weights(str(args.init_weights))
    if args.npz:
        data = np.load(args.npz)
        stream = PatchStream(data["train_secrets"], data["train_covers"], args.batch, 1000, args.seed, args.augment)
        from ..data import PairSet

        n = len(data["val_secrets"])
        val = PairSet(data["val_secrets"], data["val_covers"], data["val_secret_ids"], data["val_cover_ids"],
                      np.zeros(n, int), np.array([""] * n), "val", str(data["description"]))
        data_text = f"exported patches {args.npz.name}: {data['description']}"
    else:
        stream, data_text = training_stream(args.size, args.secrets, channels, args.batch, 1000, args.seed, args.augment,
                                            content=args.content)
        val = pair_set("val", args.secrets, args.size, n=64, channels=channels)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{model.describe()}; training: {data_text}; validation: {val.description}", flush=True)
    from .channel import Channel

    val_channel = Channel("jpeg", 75) if args.channel == "lossy" else None
    history = fit_hider(model, stream, args.steps, val, args.lr, args.beta, args.eval_every or max(1, args.steps // 40),
                        checkpoint=args.out / "model.weights.h5",
                        time_limit=args.minutes * 60 if args.minutes else None, channel=val_channel)
    card = {"command": "python -m utils.hiding " + shlex.join(argv if argv is not None else sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_summary(),
            "backend": keras_backend(), "platform": platform.platform(), "image_size": args.size,
            "steps": history["steps"], "planned_steps": args.steps, "batch": args.batch, "augment": args.augment,
            "learning_rate": args.lr, "lr_schedule": "2 % linear warm-up, cosine decay to 5 %", "beta": args.beta,
            "secrets": args.secrets, "init": args.init or args.init_note, "data": data_text, "validation": val.description,
            "wall_time_minutes": round(history["seconds"] / 60, 1),
            "train_minutes": round(history["train_seconds"] / 60, 1),
            "pairs_per_second": round(history["pairs_per_second"] or 0.0, 2), "best_step": history["best_step"],
            "curve": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in e.items()} for e in history["curve"]]}
    if not args.npz:
        test = pair_set("test", args.secrets, args.size, channels=channels)
        rows = {"this model": evaluate(model, test),
                ("LSB 3-3-2 (lossless)" if channels == 1 else "LSB 4 bits"): lsb_evaluate(test)}
        if args.channel == "lossy":
            for quality in (90, 75):
                rows[f"this model after JPEG {quality}"] = evaluate(model, test, channel=Channel("jpeg", quality))
        card["test"] = {"description": test.description,
                        "rows": {label: {k: interval_dict(v) for k, v in r["intervals"].items()} for label, r in rows.items()}}
    save_pretrained(model, args.out, card)
    print(json.dumps({k: card[k] for k in ("wall_time_minutes", "pairs_per_second", "best_step")}), flush=True)
    if "test" in card:
        print(json.dumps(card["test"]["rows"]["this model"]), flush=True)
    return 0


def _export(args, channels: int) -> int:
    """Write train patches (a large pool) and the validation pairs to one .npz (no DICOM reader needed to use it)."""
    import numpy as np

    from ..data import PatchSampler, pair_set, sources

    rng = np.random.default_rng(args.seed)
    secret_sources, s_text = sources(args.secrets, "train")
    cover_sources, c_text = sources("natural", "train")
    n = int(args.export_n)
    train_s = PatchSampler(secret_sources, args.size, channels).sample(rng, n)
    train_c = PatchSampler(cover_sources, args.size, 3).sample(rng, n)
    val = pair_set("val", args.secrets, args.size, n=64, channels=channels)
    np.savez_compressed(args.export_npz, train_secrets=train_s, train_covers=train_c, val_secrets=val.secrets,
                        val_covers=val.covers, val_secret_ids=val.secret_ids, val_cover_ids=val.cover_ids,
                        description=f"{n} train patches (secrets: {s_text}; covers: {c_text}); {val.description}")
    print(f"wrote {args.export_npz} ({n} training pairs, {len(val)} validation pairs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
