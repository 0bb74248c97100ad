"""The peel attack: with the network's weights, known pairs become DRPE pairs and the masks follow."""

from __future__ import annotations

import numpy as np

from .networks import InvertibleNet


def peel_attack(own: InvertibleNet, plains, ciphertexts, test_ciphertexts, iterations: int = 2000):
    """Known-plaintext attack by an attacker who knows the design and has trained it under their own key.

    The attacker's own network ``own`` (same recipe, their own DRPE key and seed) stands in for the unknown
    ``P`` and ``Q``: the pairs become ``(P'(f_k), Q'^-1(C_k))``, which would be exact DRPE pairs if the two
    trainings had found the same networks; the masks then follow by mask recovery
    (:func:`utils.ciphers.drpe_attacks.recover_fourier_mask` and ``recover_input_mask``), and a test
    ciphertext is decrypted as ``P'^-1(DRPE^-1(Q'^-1(C)))``. Returns ``(images, info)``: float32 (N, H, W)
    clipped to [0, 1], and mask recovery's ``info`` (its ``residual`` says how well the peeled pairs fit DRPE).
    """
    from ..drpe_attacks import decrypt_with_masks, recover_fourier_mask, recover_input_mask

    def peel(ct):
        field = np.asarray(ct)
        re, im = own.layers.post_inverse(np.stack([field.real, field.imag], axis=-1).astype(np.float32))
        return np.asarray(re, np.float64) + 1j * np.asarray(im, np.float64)

    z = np.asarray(own.layers.pre_forward(np.asarray(plains, np.float32)), np.float64)
    fields = peel(ciphertexts)
    mask, info = recover_fourier_mask(z, fields, iterations)
    input_mask = recover_input_mask(z, fields, mask)
    z_test = decrypt_with_masks(peel(test_ciphertexts), mask, input_mask).astype(np.float32)
    return np.clip(np.asarray(own.layers.pre_inverse(z_test), np.float32), 0.0, 1.0), info


def peel_attack_curve(cipher, own: InvertibleNet, attacker_plains, test_set, ks=(0, 4, 16, 64),
                      iterations: int = 2000) -> dict[int, dict]:
    """:func:`peel_attack` against the number k of known pairs (k = 0, 1: the blind constant), in the format of
    :func:`utils.ciphers.attacks.known_plaintext_curve`, with each row's mask-recovery ``residual``."""
    from ..attacks import curve_over_k

    def attack(plains, ciphertexts, test_ciphertexts):
        images, info = peel_attack(own, plains, ciphertexts, test_ciphertexts, iterations)
        return images, {"residual": info["residual"]}

    return curve_over_k(cipher, attacker_plains, test_set, ks, attack, at_zero={"residual": None}, fewest=2,
                        view="ciphertexts")
