"""``bp_chaotic``: the course's reading of back-propagation-network encryption with chaotic maps (notebook 06).

The surveyed method (Complexity 2022, article 5528416) is known only from its abstract: a multi-layer
back-propagation network whose weights are learned from the image, logistic and Henon maps for
randomness, "manipulating position and value" of pixels, judged by how uniform the cipher histogram is.
Any implementation is a reading of it. This one:

1. **value** (the network): a multi-layer encoder E, trained by back-propagation on training images,
   maps each 4x4 block of the image to 16 new values, rounded to 8 bits; a decoder D, trained with it,
   maps them back (:mod:`utils.ciphers.bp_network`, gradients written out by hand). Its loss rewards a
   uniform histogram of E's outputs besides a faithful reconstruction.
2. **position** (Henon): the pixels of the encoded image are shuffled by the permutation that sorts a
   Henon orbit.
3. **value again** (logistic): the shuffled bytes are XORed with a logistic-map key stream.

``C = perm_H(round(255 E(P))) XOR K_L``; decryption is ``P' = D(perm_H^-1(C XOR K_L) / 255)``, lossy only
through the network (the chaotic stages are exact).

Why these choices:

* *"weights learned from the image"* is read as "learned from image data" (the course's training split):
  weights learned from each plaintext anew would have to travel with every ciphertext (the receiver
  does not have the plaintext to learn them from), cost a training run per image, and describe the image
  to whoever reads them. Global weights ship with the course like any other trained model.
* *Key and weights.* The key is the chaotic maps' parameters and initial conditions
  (:class:`~utils.ciphers.chaos.MapKey`), as in the abstract's "increasing the key space". The weights are
  part of the published algorithm (Kerckhoffs's principle: everyone who has the software has them).
* *Histogram uniformity* is the training term of :mod:`utils.ciphers.bp_network` and, as the chi-square
  test, an evaluation measure.

Works on grey images whose sides are multiples of 4 (any such size: the network sees 4x4 blocks).
The shipped weights: ``utils/pretrained/bp_chaotic_64`` (trained on 64x64 patches; see its model card),
made by ``python -m utils.ciphers.bp_chaotic --out utils/pretrained/bp_chaotic_64``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from . import bp_network as bn
from .base import Cipher, ThreatModel, check_batch, check_images
from .chaos import MapKey, apply_permutation

__all__ = ["BPChaoticCipher", "NetworkOnly", "load", "load_pretrained", "save_pretrained", "train_model", "measure_on_test",
           "PRETRAINED_DIR", "DEFAULT_MODEL"]

from ..cards import PRETRAINED_DIR, model_folder, read_card, record_files  # noqa: E402

DEFAULT_MODEL = "bp_chaotic_64"


class BPChaoticCipher(Cipher):
    """Block network (value) + Henon shuffle (position) + logistic XOR (value); see the module text.

    Args:
        params: the networks' weights (:func:`utils.ciphers.bp_network.init_params` layout).
        key: the chaotic key (:class:`~utils.ciphers.chaos.MapKey`); the course's demonstration key by default.
        card: the model card of shipped weights (provenance and test metrics), if any.
    """

    name, kind, image_size = "bp_chaotic", "learned", None

    def __init__(self, params: dict, key: MapKey | None = None, card: dict | None = None):
        self.params = params
        self.key = MapKey() if key is None else key
        if not isinstance(self.key, MapKey):
            raise TypeError(f"key must be a MapKey, got {type(self.key).__name__}")
        self.card = card or {}

    # the stages, public so that the notebook (and the attack) can show them one at a time
    def public_codes(self, images) -> np.ndarray:
        """The network's output as 8-bit images (N, H, W): what the secret stages act on. It uses only the
        published weights, so anyone can compute it."""
        batch = self._check(images)
        y = bn.encode(self.params, bn.to_blocks(batch))
        return np.round(bn.from_blocks(y, batch.shape) * 255.0).astype(np.uint8)

    def decode_codes(self, codes) -> np.ndarray:
        """The decoder: 8-bit codes (N, H, W) back to float32 images in [0, 1]."""
        codes = np.asarray(codes, np.uint8)
        x = bn.decode(self.params, bn.to_blocks(codes.astype(np.float32) / 255.0))
        return np.clip(bn.from_blocks(x, codes.shape), 0.0, 1.0).astype(np.float32)

    def permutation(self, shape) -> np.ndarray:
        return self.key.henon_permutation(int(np.prod(shape)))

    def keystream(self, shape) -> np.ndarray:
        return self.key.logistic_stream(int(np.prod(shape))).reshape(shape)

    def encrypt(self, images) -> np.ndarray:
        codes = self.public_codes(images)
        return apply_permutation(codes, self.permutation(codes.shape[1:])) ^ self.keystream(codes.shape[1:])[None]

    def decrypt(self, ciphertext) -> np.ndarray:
        ct = check_batch(ciphertext, "u", 3)
        if ct.dtype != np.uint8:
            raise TypeError(f"ciphertext must be uint8, got {ct.dtype}; pass what encrypt() returned")
        self._check_sides(ct.shape, "ciphertext")
        shuffled = ct ^ self.keystream(ct.shape[1:])[None]
        return self.decode_codes(apply_permutation(shuffled, self.permutation(ct.shape[1:]), inverse=True))

    def with_key(self, key) -> "BPChaoticCipher":
        """The same network under another chaotic key: a :class:`MapKey`, or a dict of fields to change."""
        if isinstance(key, dict):
            return BPChaoticCipher(self.params, self.key.replace(**key), self.card)
        if isinstance(key, MapKey):
            return BPChaoticCipher(self.params, key, self.card)
        raise TypeError(f"key must be a MapKey or a dict of key fields, got {type(key).__name__}")

    def other_key(self) -> "BPChaoticCipher":
        """A neighbouring key: both maps' initial x changed by 1e-15 (another stream and another shuffle)."""
        return self.with_key({"logistic_x0": self.key.logistic_x0 + 1e-15, "henon_x0": self.key.henon_x0 + 1e-15})

    def threat_model(self) -> ThreatModel:
        return ThreatModel("the design and the block networks' weights (published with the method)",
                           "the logistic map's (x0, r) and the Henon map's (x0, y0, a, b)", 300.0,
                           "the field counts six doubles at 1e-15 precision (about 6 x 50 bits); but the shuffle "
                           "and the stream are the same for every image of a size, so a few pairs through the "
                           "public network's codes give both away (3-4 chosen, more known)")

    def dedicated_attack(self, known_plains, test_ciphertext):
        """The key-stream attack with the known pairs of ``known_plains``, through the published network's
        codes: the recovered test plaintexts, float32 (N, H, W), decoded as the key holder decodes; None
        without pairs."""
        from .chaotic import _keystream_break
        from .keystream_attack import decrypt_with, recover_keystream

        return _keystream_break(self, known_plains, test_ciphertext, recover_keystream, decrypt_with)

    def _check(self, images) -> np.ndarray:
        batch = check_images(images)
        self._check_sides(batch.shape, "images")
        return batch

    @staticmethod
    def _check_sides(shape, name) -> None:
        if shape[1] % bn.BLOCK or shape[2] % bn.BLOCK:
            raise ValueError(f"{name} sides must be multiples of {bn.BLOCK} (the network encodes "
                             f"{bn.BLOCK}x{bn.BLOCK} blocks), got {shape[1]}x{shape[2]}; crop or resize first "
                             "(utils.data.square_image(image, 64))")

    def __repr__(self) -> str:
        hidden = self.params["encoder"][0][0].shape[1]
        return (f"<BPChaoticCipher 'bp_chaotic' (learned, sides multiples of {bn.BLOCK}; encoder/decoder "
                f"16-{hidden}-{hidden}-16, {bn.count_parameters(self.params)} weights; Henon shuffle, logistic XOR)>")


class NetworkOnly(Cipher):
    """The network stage of a :class:`BPChaoticCipher` alone, without the chaotic shuffle and stream: what the
    published weights do to an image by themselves (a keyless code; for the measurements of notebook 06)."""

    name, kind, image_size = "bp network alone", "learned", None

    def __init__(self, cipher: BPChaoticCipher):
        self.cipher = cipher

    def encrypt(self, images) -> np.ndarray:
        return self.cipher.public_codes(images)

    def decrypt(self, ciphertext) -> np.ndarray:
        return self.cipher.decode_codes(check_batch(ciphertext, "u", 3))


# ------------------------------------------------------------------------------------------------------
# shipped weights
# ------------------------------------------------------------------------------------------------------

def save_pretrained(params: dict, folder, card: dict) -> None:
    """Write ``model.weights.h5`` (the networks' arrays), ``model_card.json`` and ``README.md``."""
    import h5py

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with h5py.File(folder / "model.weights.h5", "w") as f:
        for name, array in bn.params_to_arrays(params).items():
            f.create_dataset(name, data=np.asarray(array, np.float32))
    card = record_files(folder, card)
    (folder / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    write_card_markdown(folder)


def _folder(name_or_path) -> Path:
    return model_folder(name_or_path, family="bp_chaotic model", prefix="bp_chaotic",
                        train="python -m utils.ciphers.bp_chaotic --out utils/pretrained/<name>")


def load_pretrained(name=DEFAULT_MODEL) -> tuple[dict, dict]:
    """The networks' weights and the model card of a shipped model (a name under ``utils/pretrained`` or a folder)."""
    import h5py

    folder = _folder(name)
    arrays = {}
    with h5py.File(folder / "model.weights.h5", "r") as f:
        f.visititems(lambda key, item: arrays.__setitem__(key, item[()]) if isinstance(item, h5py.Dataset) else None)
    card = read_card(folder)
    return bn.params_from_arrays(arrays), card


def load(model=DEFAULT_MODEL, key: MapKey | dict | None = None) -> BPChaoticCipher:
    """The ``bp_chaotic`` cipher with the shipped weights (or ``model``: a name, a folder, or a params dict)
    and the demonstration key (or ``key``: a :class:`MapKey`, or a dict of fields to change in it)."""
    params, card = (model, {}) if isinstance(model, dict) else load_pretrained(model)
    base = MapKey()
    chosen = base if key is None else (base.replace(**key) if isinstance(key, dict) else key)
    return BPChaoticCipher(params, chosen, card)


# ------------------------------------------------------------------------------------------------------
# training and the card
# ------------------------------------------------------------------------------------------------------

def _quality(params, images) -> float:
    """Mean PSNR (dB, 8-bit) of encode -> 8-bit -> decode over ``images``: the monitoring measure."""
    from .. import metrics

    cipher = BPChaoticCipher(params)
    back = cipher.decode_codes(cipher.public_codes(images))
    a, b = np.round(images * 255).astype(np.uint8), np.round(back * 255).astype(np.uint8)
    return float(np.mean(np.minimum([metrics.psnr(x, y) for x, y in zip(a, b)], 100.0)))


def train_model(steps: int = 60000, hidden: int = 128, batch: int = 512, learning_rate: float = 2e-3,
                lam: float = 0.1, pool: int = 2048, size: int = 64, seed: int = 0, eval_every: int = 0,
                data="auto") -> tuple[dict, dict, str, str]:
    """Train encoder and decoder on 4x4 blocks of ``pool`` training patches; monitor PSNR on validation
    patches. Returns (params, history, training data description, validation description)."""
    from ..data import image_set

    train_set = image_set("train", size=size, n=pool, seed=seed + 1, data=data)
    val_set = image_set("val", size=size, data=data)
    params = bn.init_params(hidden, seed=seed)
    history = bn.train(params, bn.to_blocks(train_set.images), steps, batch, learning_rate, lam, seed=seed,
                       eval_fn=lambda p: _quality(p, val_set.images), eval_every=eval_every,
                       log_every=max(steps // 200, 1))
    return params, history, train_set.description, val_set.description


def _row(interval) -> dict:
    return {"mean": round(float(interval.mean), 5), "low": round(float(interval.low), 5),
            "high": round(float(interval.high), 5)}


def measure_on_test(cipher: BPChaoticCipher, test_set) -> dict:
    """The card's test metrics: reconstruction, cipher statistics (of the cipher and of the network's
    output alone) and the avalanche test, each with its interval over source images."""
    from . import evaluation as ev

    ct = cipher.encrypt(test_set.images)
    rec = ev.reconstruction(cipher, test_set, ct)
    stats = ev.cipher_statistics(cipher, test_set, ct)
    alone = ev.cipher_statistics(NetworkOnly(cipher), test_set)
    aval = ev.avalanche(cipher, test_set)
    out = {k: _row(v) for k, v in {**rec, **stats}.items() if k != "psnr" or np.isfinite(v.mean)}
    out["network_alone"] = {k: _row(v) for k, v in alone.items()}
    out.update(npcr=_row(aval["npcr"]), uaci=_row(aval["uaci"]), npcr_pass=_row(aval["npcr_pass"]),
               uaci_pass=_row(aval["uaci_pass"]), npcr_critical=round(aval["npcr_critical"], 4),
               uaci_interval=[round(v, 4) for v in aval["uaci_interval"]], n=rec["psnr"].describe())
    return out


def _fmt(row: dict, digits: int = 2) -> str:
    return f"{row['mean']:.{digits}f} [{row['low']:.{digits}f}, {row['high']:.{digits}f}]"


def write_card_markdown(folder) -> Path:
    """``README.md`` beside ``model_card.json``: the same facts, for people."""
    folder = Path(folder)
    card = json.loads((folder / "model_card.json").read_text())
    m, alone = card["test_metrics"], card["test_metrics"]["network_alone"]
    lines = [f"# Model card: {folder.name}", "",
             "The course's reading of back-propagation-network encryption with chaotic maps (Complexity 2022, "
             "article 5528416, known only from its abstract): a block encoder/decoder (multi-layer perceptrons "
             "on 4x4 blocks) trained with hand-written back-propagation and a histogram-uniformity term, "
             "followed by a Henon-map shuffle and a logistic-map XOR stream (utils.ciphers.bp_chaotic). "
             "These weights are public (part of the algorithm); the key is the chaotic maps' parameters.", "",
             f"- Command: `{card['command']}`", f"- Date: {card['date']}", f"- Machine: {card['machine']}",
             f"- Configuration: {card['config']}",
             f"- Data: {card['data']}",
             f"- Validation (monitoring only): {card['validation']}",
             f"- Training: {card['steps']} steps of {card['batch']} blocks; Adam {card['config']['learning_rate']} "
             f"(cosine decay to 10 %); loss = MSE + {card['config']['lam']} x uniformity",
             f"- Wall time: {card['wall_time_minutes']} min; CPU time {card['cpu_minutes']} min "
             "(the CPU was shared with other jobs: CPU time is the fairer measure)",
             f"- Parameters: {card['parameters']} (float32, {card['weights_kb']} kB)", "",
             f"Test metrics ({m['n']}; 95 % bootstrap intervals over source images):", "",
             "| measure | cipher | network alone (no chaos) | ideal |", "| --- | --- | --- | --- |",
             f"| decryption PSNR (dB, 8-bit) | {_fmt(m['psnr'])} | same | high |",
             f"| decryption SSIM | {_fmt(m['ssim'], 4)} | same | 1 |",
             f"| images decrypted exactly | {_fmt(m['exact'], 3)} | same | - |",
             f"| entropy (bits) | {_fmt(m['entropy'], 3)} | {_fmt(alone['entropy'], 3)} | "
             "8 (7.95 for a random 64x64 image) |",
             f"| histogram chi-square (255 dof) | {_fmt(m['chi_square'], 0)} | {_fmt(alone['chi_square'], 0)} | < 293.25 |",
             f"| adjacent correlation, horizontal | {_fmt(m['correlation_horizontal'], 3)} | "
             f"{_fmt(alone['correlation_horizontal'], 3)} | 0 |",
             f"| NPCR, one pixel changed (%) | {_fmt(m['npcr'], 3)} | - | >= {m['npcr_critical']:.4f} |",
             f"| UACI, one pixel changed (%) | {_fmt(m['uaci'], 3)} | - | {m['uaci_interval'][0]:.4f}-"
             f"{m['uaci_interval'][1]:.4f} |", "",
             "The avalanche test fails by design: the key stream and the shuffle are the same for every image, so "
             "one changed pixel changes one 4x4 block's 16 codes and nothing else. The same fixed key stream "
             "lets a chosen-plaintext attack recover the key's effect exactly (notebook 06).", "",
             "Validation curve: `curve` in model_card.json (PSNR of encode -> 8 bits -> decode on validation "
             "patches).", ""]
    path = folder / "README.md"
    path.write_text("\n".join(lines))
    return path


def _main(argv=None) -> None:
    from ..data import image_set
    from ..runtime import machine_summary, quiet_tensorflow

    quiet_tensorflow()  # the gradient check of the card uses TensorFlow; keep its start-up notes out of the log
    parser = argparse.ArgumentParser(prog="python -m utils.ciphers.bp_chaotic", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder for model.weights.h5, model_card.json, README.md")
    parser.add_argument("--steps", type=int, default=60000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--lam", type=float, default=0.1, help="weight of the uniformity term")
    parser.add_argument("--pool", type=int, default=2048, help="training patches (64x64) the blocks come from")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=2000)
    args = parser.parse_args(argv)
    command = "python -m utils.ciphers.bp_chaotic " + " ".join(sys.argv[1:] if argv is None else argv)
    wall, cpu = time.perf_counter(), time.process_time()
    params, history, data_text, val_text = train_model(args.steps, args.hidden, args.batch, args.lr, args.lam,
                                                       args.pool, seed=args.seed, eval_every=args.eval_every)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    cipher = BPChaoticCipher(params)
    test_set = image_set("test", size=64)
    card = {"config": {"hidden": args.hidden, "block": bn.BLOCK, "lam": args.lam, "learning_rate": args.lr,
                       "seed": args.seed},
            "command": command, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": machine_summary(), "steps": args.steps, "batch": args.batch, "pool": args.pool,
            "data": f"4x4 blocks of {data_text}", "validation": val_text,
            "wall_time_minutes": round(wall / 60, 2), "cpu_minutes": round(cpu / 60, 2),
            "parameters": bn.count_parameters(params),
            "weights_kb": round(bn.count_parameters(params) * 4 / 1024, 1),
            "gradient_check_max_relative_error": bn.gradient_check()["max_relative_error"],
            "test_metrics": measure_on_test(cipher, test_set),
            "curve": [{"step": s, "val_psnr": round(v, 3)} for s, v in history["eval"]],
            "loss": [{"step": s, "total": round(t, 7), "mse": round(m, 7), "uniformity": round(u, 7)}
                     for s, t, m, u in zip(history["step"], history["total"], history["mse"], history["uniformity"])]}
    save_pretrained(params, args.out, card)
    print(f"wrote {args.out}: test PSNR {_fmt(card['test_metrics']['psnr'])} dB, "
          f"{card['wall_time_minutes']} min wall, {card['cpu_minutes']} min CPU")


if __name__ == "__main__":
    _main()
