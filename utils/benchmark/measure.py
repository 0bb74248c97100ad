"""Every measurement of one method but speed: threat model, games, reconstruction, memory, statistics,
avalanche, key sensitivity and the best attack beside both floors."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["measure", "pairs_to_exact"]


def _interval(value):
    return value.record()


def pairs_to_exact(method, attacker_plains, test_ciphertext, legit8, ks=(0, 1, 2, 3, 4, 8, 16, 32, 64, 128, 256)):
    """The fewest of ``ks`` known pairs (the first k of ``attacker_plains``) with which the method's dedicated
    attack decrypts every test image bit for bit as the key holder does (``legit8``, their 8-bit
    decryptions: the plaintexts themselves for an exact cipher); None if none of them does."""
    from ..ciphers.evaluation import as_uint8

    for k in [k for k in ks if k <= len(attacker_plains)]:
        recovered = method.dedicated_attack(attacker_plains[:k], test_ciphertext)
        if recovered is not None and all(np.array_equal(a, b) for a, b in zip(legit8, as_uint8(recovered))):
            return k
    return None


def measure(name: str, method, test, attacker_plains, attack_k: int, attack_steps: int, game_plains=None,
            game_steps: int = 300) -> dict:
    """Every measurement of the module text but speed for one method on the test :class:`utils.data.ImageSet`."""
    from ..ciphers import attacks, games
    from ..ciphers import evaluation as ev
    from ..metrics import mean_oracle_guess

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
