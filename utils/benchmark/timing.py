"""Speed: encryption + decryption per image, every method timed in interleaved rounds against AES-GCM."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["AesLibraryCall", "interleaved_timing", "add_timing"]


def _clear_key_caches() -> None:
    from ..ciphers import chaos, drpe

    chaos.clear_caches()
    drpe.clear_caches()


class AesLibraryCall:
    """AES-256-GCM as the bare library call (``cryptography``'s AESGCM, fresh nonce, no header, no array
    handling): the speed row against which the course's wrapper :class:`~utils.ciphers.aes_gcm.AesGcmCipher`
    is read."""

    name = "aes_gcm_library_call"

    def __init__(self):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from ..ciphers.aes_gcm import DEMO_KEY

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


def add_timing(rows: list[dict], meta: dict, chosen: dict, images, rounds: int) -> None:
    from ..runtime import machine_summary

    timing = interleaved_timing(chosen, images[: min(len(images), 32)], rounds)
    for r in rows:
        t = timing[r["method"]]
        r["seconds_per_image"] = t["seconds_per_image"]
        r["throughput_vs_aes"] = t["ratio_to_aes"]["median"] if t["ratio_to_aes"] else None
        r["throughput_vs_aes_range"] = [t["ratio_to_aes"]["low"], t["ratio_to_aes"]["high"]] if t["ratio_to_aes"] else None
    meta.update({"timing": timing, "timing_rounds": rounds, "timing_date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 "machine": machine_summary()})
