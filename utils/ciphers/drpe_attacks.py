"""The known-plaintext attacks DRPE invites, because it is linear: mask recovery and a linear decoder.

**Mask recovery** (:func:`recover_fourier_mask`). Write ``A = FFT2(C)`` for a ciphertext and ``w`` for the
conjugate Fourier mask ``exp(-i 2 pi b)``. Decrypting with the right ``w`` gives back the plaintext times
the input mask, ``f * u`` with ``u = exp(i 2 pi n)``::

    IFFT2(A_k * w) = f_k * u          for every pair k

``u`` is unknown, but it is the same for every pair, so two pairs j, k eliminate it, pixel by pixel::

    f_k * IFFT2(A_j * w)  -  f_j * IFFT2(A_k * w)  =  0

a *linear*, homogeneous system for ``w`` (H W unknowns, H W equations per pair of pairs). Its solutions are
``w`` times any constant, and a constant phase changes nothing (the camera records ``|f u|``), so we fix
``w = 1`` at frequency (0, 0) and solve the rest by least squares (LSQR, with FFTs as the matrix: no
H W x H W matrix is ever formed). With two known pairs the system has as many equations as unknowns and
is badly conditioned; with more it is over-determined. On the course's 64x64 test patches, whose dark
regions contribute no equations, four pairs give the mask to float precision and two or three do not
(measured in notebook 07; the tests use four). The first mask ``n`` is not even needed: ``|IFFT2(A * w)| = f``.

Published attacks do the same with other tools: phase retrieval from one known pair (Peng et al., Optics
Letters 2006), a chosen plaintext (a Dirac delta) that reveals ``b`` at once (Frauel et al., Optics Express
2007), and deep networks trained on pairs (Hai et al., Optics Express 2019; Liao et al., Opto-Electronic
Advances 2021).

**Linear decoder** (:func:`fit_linear_decoder`). An attacker who ignores the structure still knows that the
plaintext is a linear function of the cipher's real and imaginary parts: ridge regression from ``k`` pairs
(kernel form, so its cost grows with ``k``, not with the H W x 2 H W map). Below ``k = H W`` it can only
reproduce the part of a test image that lies in the span of the known plaintexts; from ``k = H W`` on it is
exact. It applies to any cipher's :meth:`~utils.ciphers.base.Cipher.features`.

The curves have the format of :func:`utils.ciphers.attacks.known_plaintext_curve` (``format_curve`` prints
them): per number of pairs ``k``, PSNR, SSIM and MSE of the recovered test images with intervals over the
test sources, and the seconds the attack took. ``k = 0`` is the constant guess (the mean of the
attacker's own images).
"""

from __future__ import annotations

import numpy as np

__all__ = ["recover_fourier_mask", "recover_input_mask", "decrypt_with_fourier_mask", "decrypt_with_masks",
           "mask_recovery_curve", "fit_linear_decoder", "linear_decoder_curve"]


def _pairs(plains, ciphertexts):
    f = np.asarray(plains, np.float64)
    c = np.asarray(ciphertexts)
    if not np.iscomplexobj(c):
        raise TypeError(f"ciphertexts must be complex DRPE fields, got {c.dtype}; pass what encrypt() returned")
    if f.ndim != 3 or c.shape != f.shape:
        raise ValueError(f"plains (k, H, W) and ciphertexts (k, H, W) must match, got {f.shape} and {c.shape}")
    return f, c.astype(np.complex128)


def recover_fourier_mask(plains, ciphertexts, iterations: int = 2000, tolerance: float = 1e-12):
    """Estimate the conjugate Fourier mask ``w = exp(-i 2 pi b)`` (up to a constant phase) from known pairs.

    Args:
        plains: the k known plaintexts, (k, H, W): any real fields (DRPE's input need not be an image).
        ciphertexts: their DRPE ciphertexts, complex (k, H, W).
        iterations: most LSQR iterations.
        tolerance: LSQR's stopping tolerances.

    Returns:
        ``(w, info)``: complex128 (H, W) of unit modulus, and a dict with ``iterations``, ``residual`` (the
        relative residual of the linear system; near 0 when the pairs fit DRPE) and ``reference`` (the pair
        the others are compared with: the one with the most non-zero pixels). k >= 2.
    """
    from scipy.sparse.linalg import LinearOperator, lsqr

    f, c = _pairs(plains, ciphertexts)
    if len(f) < 2:
        raise ValueError("mask recovery needs at least 2 known pairs (one pair gives no linear equation for the "
                         "mask; it needs phase retrieval instead)")
    k, h, w = f.shape
    size = h * w
    spectra = np.fft.fft2(c)
    ref = int(np.argmax([(p != 0).sum() + np.abs(p).sum() / (size * np.abs(p).max() + 1e-300) for p in f]))
    others = [j for j in range(k) if j != ref]

    def apply(mask):
        mask = mask.reshape(h, w)
        z = np.fft.ifft2(spectra * mask)  # every pair's decryption with this mask
        return np.concatenate([(f[j] * z[ref] - f[ref] * z[j]).ravel() for j in others])

    def adjoint(residual):
        residual = residual.reshape(len(others), h, w)
        out = np.zeros((h, w), np.complex128)
        for j, r in zip(others, residual):  # the adjoint of mask -> IFFT2(A * mask) is r -> conj(A) FFT2(r) / (H W)
            out += np.conj(spectra[ref]) * np.fft.fft2(f[j] * r) - np.conj(spectra[j]) * np.fft.fft2(f[ref] * r)
        return out.ravel() / size

    first = np.zeros(size, np.complex128)
    first[0] = 1.0  # the gauge: w = 1 at frequency (0, 0)
    rhs = -apply(first)

    def matvec(x):
        return apply(np.concatenate([[0.0], x]))

    def rmatvec(r):
        return adjoint(r)[1:]

    operator = LinearOperator((len(others) * size, size - 1), matvec=matvec, rmatvec=rmatvec, dtype=np.complex128)
    solution = lsqr(operator, rhs, atol=tolerance, btol=tolerance, iter_lim=int(iterations))
    mask = np.concatenate([[1.0 + 0j], solution[0]]).reshape(h, w)
    residual = float(np.linalg.norm(apply(mask.ravel())) / max(np.linalg.norm(rhs), 1e-300))
    mask = mask / np.maximum(np.abs(mask), 1e-300)
    return mask, {"iterations": int(solution[2]), "residual": residual, "reference": ref}


def recover_input_mask(plains, ciphertexts, mask) -> np.ndarray:
    """The input-plane mask ``u = exp(i 2 pi n)`` (unit modulus, complex128 (H, W)) once the Fourier mask is known.

    Decryption with ``mask`` gives ``f_k u`` for every pair; summing ``f_k * IFFT2(A_k * mask)`` over the pairs
    gives ``u sum f_k^2``, whose phase is ``u`` wherever some plaintext is non-zero. Needed only when the
    plaintext can be negative (then the magnitude does not decrypt): the input of DRPE in a larger design.
    """
    f, c = _pairs(plains, ciphertexts)
    total = np.sum(f * np.fft.ifft2(np.fft.fft2(c) * mask), axis=0)
    return total / np.maximum(np.abs(total), 1e-300)


def decrypt_with_masks(ciphertexts, mask, input_mask) -> np.ndarray:
    """``Re(conj(u) IFFT2(FFT2(C) * mask))``: decryption with both recovered masks (float64 (N, H, W), not clipped)."""
    c = np.asarray(ciphertexts, np.complex128)
    return np.real(np.conj(input_mask) * np.fft.ifft2(np.fft.fft2(c) * mask))


def decrypt_with_fourier_mask(ciphertexts, mask) -> np.ndarray:
    """``|IFFT2(FFT2(C) * mask)|``, clipped to [0, 1]: decryption with the recovered mask (float32 (N, H, W))."""
    c = np.asarray(ciphertexts)
    if c.ndim != 3 or c.shape[1:] != np.shape(mask):
        raise ValueError(f"ciphertexts (N, H, W) must match the mask's shape, got {c.shape} and {np.shape(mask)}")
    out = np.abs(np.fft.ifft2(np.fft.fft2(c.astype(np.complex128)) * mask))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def mask_recovery_curve(cipher, attacker_plains, test_set, ks=(0, 2, 3, 4, 8), iterations: int = 2000) -> dict[int, dict]:
    """Recovered quality of the test images against the number k of known pairs, by mask recovery.

    The attacker encrypts their first k plaintexts (the known pairs), recovers the Fourier mask from them
    (:func:`recover_fourier_mask`), and decrypts the test ciphertexts with it. Below 2 pairs there is no
    linear equation: the attacker falls back to the blind constant. Each row also gives ``residual``, how
    well the pairs fit the DRPE model (near 0: they do). ``cipher`` must return complex ciphertexts.
    """
    from .attacks import curve_over_k

    def attack(plains, ciphertexts, test_ciphertexts):
        mask, info = recover_fourier_mask(plains, ciphertexts, iterations)
        return decrypt_with_fourier_mask(test_ciphertexts, mask), {"residual": info["residual"]}

    return curve_over_k(cipher, attacker_plains, test_set, ks, attack, at_zero={"residual": None}, fewest=2,
                        view="ciphertexts")


def fit_linear_decoder(features, plains, ridge: float = 1e-6):
    """Ridge regression from flattened ``features`` (k, ...) to ``plains`` (k, H, W), in kernel form.

    Returns a function ``features -> plains`` (float32, clipped to [0, 1]). ``ridge`` is relative to the
    mean squared norm of the centred features.
    """
    x = np.asarray(features, np.float64).reshape(len(features), -1)
    y = np.asarray(plains, np.float64).reshape(len(plains), -1)
    if len(x) != len(y) or len(x) < 1:
        raise ValueError(f"need the same positive number of features and plains, got {len(x)} and {len(y)}")
    shape = np.shape(plains)[1:]
    x_mean, y_mean = x.mean(0), y.mean(0)
    xc, yc = x - x_mean, y - y_mean
    gram = xc @ xc.T
    scale = max(np.trace(gram) / len(x), 1e-12)
    alpha = np.linalg.solve(gram + ridge * scale * np.eye(len(x)), yc)

    def decode(test_features):
        t = np.asarray(test_features, np.float64).reshape(len(test_features), -1) - x_mean
        out = (t @ xc.T) @ alpha + y_mean
        return np.clip(out.reshape((-1,) + shape), 0.0, 1.0).astype(np.float32)

    return decode


def linear_decoder_curve(cipher, attacker_plains, test_set, ks=(0, 16, 64, 256, 1024), ridge: float = 1e-6,
                         ) -> dict[int, dict]:
    """Recovered quality of the test images against k, for the ridge linear decoder on ``cipher.features``."""
    from .attacks import curve_over_k

    return curve_over_k(cipher, attacker_plains, test_set, ks,
                        lambda plains, features, test: (fit_linear_decoder(features, np.asarray(plains), ridge)(test), {}))
