"""The classic break of permutation + XOR ciphers with a fixed key stream, from plaintext-ciphertext pairs.

Both chaotic ciphers of notebook 06 have the form

    C = perm(Y) XOR K,

where ``Y`` is a public function of the plaintext (the 8-bit image for ``chaotic``; the published
network's 8-bit codes for ``bp_chaotic``) and the permutation ``perm`` and key stream ``K`` depend on the
key only, never on the image. Whoever knows ``perm`` and ``K`` decrypts every ciphertext of that key, so
they *are* the key, whatever chaotic map made them.

**The attack.** Take k pairs (Y_t, C_t). XOR removes K from differences: ``C_t XOR C_0 = perm(Y_t XOR Y_0)``.
So the cipher byte at position j and the plaintext byte at position i = perm^-1(j) have the same
*signature* ``(Y_t[i] XOR Y_0[i])_{t=1..k-1}``. Matching signatures recovers the permutation where they
are unique, and then ``K[j] = C_0[j] XOR Y_0[perm^-1(j)]`` (:func:`recover_keystream`). Positions whose
signature is shared stay ambiguous (they are matched in some order, mostly wrong).

**How many pairs.** A signature has k-1 bytes, so at most 256^(k-1) different ones; H*W positions can all
be told apart only if ``256^(k-1) >= H*W``, i.e. ``k >= 1 + ceil(log_256(H*W))`` (:func:`pairs_needed`):
3 pairs for 64x64 up to 256x256 images, 4 for 512x512. For an arbitrary permutation no choice of
plaintexts does with fewer (with k-1 bytes of signature, at least H*W / 256^(k-1) positions share each
signature). Chosen plaintexts reach
the bound (:func:`designed_plaintexts`: an all-zero image, then the base-256 digits of each position's
index); known plaintexts (ordinary images) need more, since flat regions give many positions the same
signature.

When the public codes are not the pixels themselves (``bp_chaotic``: the published network's output), the
attacker cannot write the digits directly, but can compute the codes of any plaintext offline and choose
plaintexts whose codes have distinct signatures (:func:`searched_plaintexts`); the bound is the same.

**When the permutation has few choices.** The bound is for a permutation that could be any of (H*W)!.
The chaotic cipher's is an Arnold cat map, one of about N^2 x its period (2^17 on a 64 x 64 grid): few
enough to try every one against the difference of 2 pairs, ``C0 XOR C1 = perm(Y0 XOR Y1)``
(:func:`cat_map_search`, a fraction of a second), which gives the permutation exactly from 2 *known*
ordinary images, and the stream with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..metrics import bootstrap_ci
from .evaluation import _quality, as_uint8

__all__ = ["pairs_needed", "designed_plaintexts", "searched_plaintexts", "RecoveredKey", "recover_keystream", "decrypt_with",
           "CatMapSearch", "cat_map_search",
           "attack_curve", "format_attack_curve"]


def pairs_needed(shape) -> int:
    """The fewest pairs with which signatures can tell all H*W positions apart: ``1 + ceil(log_256(H*W))``."""
    count = int(np.prod(shape))
    if count < 1:
        raise ValueError(f"need a positive number of pixels, got shape {shape!r}")
    digits = 0
    while 256 ** digits < count:
        digits += 1
    return 1 + digits


def designed_plaintexts(shape, k: int | None = None) -> np.ndarray:
    """Chosen plaintexts (uint8 (k, H, W)): an all-zero image, then digit d of each position's index in base 256.

    With ``k = pairs_needed(shape)`` their signatures are the positions' indices: all distinct.
    """
    h, w = shape
    k = pairs_needed(shape) if k is None else int(k)
    index = np.arange(h * w, dtype=np.int64)
    out = np.zeros((k, h * w), np.uint8)
    for t in range(1, k):
        out[t] = (index // 256 ** (t - 1)) % 256
    return out.reshape(k, h, w)


def searched_plaintexts(cipher, shape, k: int | None = None, block: int = 4, seed: int = 0,
                        candidates: int = 32, max_rounds: int = 20) -> np.ndarray:
    """Chosen plaintexts (float32 (k, H, W)) whose public codes have pairwise different signatures.

    Offline, with only the public part of the cipher (``cipher.public_codes``): start from random images;
    while some positions share a signature, draw ``candidates`` new random contents for each
    ``block`` x ``block`` block of the last image that holds such a position, and keep, block by block,
    the first candidate whose signatures are new (``block`` = the size of the cipher's public blocks, whose
    codes depend only on their own pixels: 4 for ``bp_chaotic``, 1 for pixel-wise codes).
    Raises RuntimeError if ``max_rounds`` do not suffice (k too small).
    """
    h, w = shape
    k = pairs_needed(shape) if k is None else int(k)
    if k < 2:
        raise ValueError(f"signatures need k >= 2 plaintexts, got k={k}")
    if h % block or w % block:
        raise ValueError(f"shape {shape} is not a multiple of the block size {block}")
    rng = np.random.default_rng(seed)
    plains = rng.integers(0, 256, (k, h, w)).astype(np.float32) / 255.0
    codes = cipher.public_codes(plains).reshape(k, -1)
    # position index of every pixel of every block, block by block
    blocks = np.arange(h * w).reshape(h // block, block, w // block, block).transpose(0, 2, 1, 3).reshape(-1, block * block)
    for _ in range(max_rounds):
        signatures = _signatures(codes)
        _, inverse, counts = np.unique(signatures, return_inverse=True, return_counts=True)
        shared = counts[inverse.ravel()] > 1
        flagged = np.flatnonzero(shared[blocks].any(axis=1))
        if flagged.size == 0:
            return plains
        taken = set(signatures[~np.isin(np.arange(h * w), blocks[flagged].ravel())].tolist())
        trial = np.repeat(plains[-1:], candidates, axis=0).reshape(candidates, -1)
        trial[:, blocks[flagged].ravel()] = rng.integers(0, 256, (candidates, flagged.size * block * block)) / 255.0
        trial_codes = cipher.public_codes(trial.reshape(candidates, h, w)).reshape(candidates, -1)
        trial_sigs = np.stack([_signatures(np.concatenate([codes[:-1], t[None]])) for t in trial_codes])
        for b in flagged:
            for c in range(candidates):
                new = trial_sigs[c, blocks[b]].tolist()
                if len(set(new)) == len(new) and taken.isdisjoint(new):
                    taken.update(new)
                    plains[-1].reshape(-1)[blocks[b]] = trial[c, blocks[b]]
                    codes[-1, blocks[b]] = trial_codes[c, blocks[b]]
                    break
    raise RuntimeError(f"no {k} plaintexts with distinct signatures found in {max_rounds} rounds; "
                       f"k >= {pairs_needed(shape)} is needed")


@dataclass
class RecoveredKey:
    """What the attack learns: ``perm`` (gather indices, as the cipher's: ``C = Y.ravel()[perm] XOR K``),
    the key stream ``stream`` (uint8, H*W), ``ambiguous`` (positions whose signature another position shares)
    and ``pairs`` (how many pairs were used)."""

    perm: np.ndarray
    stream: np.ndarray
    ambiguous: int
    pairs: int
    shape: tuple[int, int]

    @property
    def complete(self) -> bool:
        """Every position told apart: the recovered permutation and stream are the cipher's."""
        return self.ambiguous == 0


def _signatures(images: np.ndarray) -> np.ndarray:
    """(k, P) uint8 -> (P,) int keys of the signatures (Y_t XOR Y_0)_{t>=1}, as one integer per position."""
    diffs = images[1:] ^ images[:1]
    if len(diffs) == 0:
        return np.zeros(images.shape[1], np.int64)
    if len(diffs) <= 7:
        keys = np.zeros(images.shape[1], np.int64)
        for row in diffs:
            keys = (keys << 8) | row.astype(np.int64)
        return keys
    # longer signatures: rank the distinct rows instead of packing them
    _, keys = np.unique(np.ascontiguousarray(diffs.T), axis=0, return_inverse=True)
    return keys.ravel().astype(np.int64)


def recover_keystream(plain_codes, ciphertexts) -> RecoveredKey:
    """The permutation and key stream from k pairs of (public codes Y, ciphertext C), uint8 (k, H, W) each.

    Signatures are matched in sorted order; positions in a group of equal signatures are paired in index
    order (which is right only by chance). Raises ValueError if the pairs cannot come from one
    permutation + XOR key (the signature multisets differ).
    """
    y = np.asarray(plain_codes)
    c = np.asarray(ciphertexts)
    if y.dtype != np.uint8 or c.dtype != np.uint8:
        raise TypeError(f"plain_codes and ciphertexts must be uint8, got {y.dtype} and {c.dtype}")
    if y.shape != c.shape or y.ndim != 3 or len(y) == 0:
        raise ValueError(f"need k >= 1 pairs of equal shape (k, H, W), got {y.shape} and {c.shape}")
    k, h, w = y.shape
    y2, c2 = y.reshape(k, -1), c.reshape(k, -1)
    signatures = _signatures(np.concatenate([y2, c2], axis=1))  # one numbering for both sides
    sig_plain, sig_cipher = signatures[:h * w], signatures[h * w:]
    order_plain = np.argsort(sig_plain, kind="stable")
    order_cipher = np.argsort(sig_cipher, kind="stable")
    if not np.array_equal(sig_plain[order_plain], sig_cipher[order_cipher]):
        raise ValueError("these pairs do not come from one permutation + XOR key stream (signatures differ)")
    perm = np.empty(h * w, np.int64)
    perm[order_cipher] = order_plain
    _, inverse, counts = np.unique(sig_plain, return_inverse=True, return_counts=True)
    ambiguous = int(np.sum(counts[inverse.ravel()] > 1))
    stream = c2[0] ^ y2[0][perm]
    return RecoveredKey(perm, stream, ambiguous, k, (h, w))


def decrypt_with(recovered: RecoveredKey, ciphertexts) -> np.ndarray:
    """The public codes Y (uint8 (N, H, W)) that ``recovered`` reads from ciphertexts (N, H, W)."""
    c = np.asarray(ciphertexts, np.uint8)
    flat = c.reshape(len(c), -1) ^ recovered.stream[None]
    out = np.empty_like(flat)
    out[:, recovered.perm] = flat
    return out.reshape(c.shape)


def attack_curve(cipher, attacker_plains, test_set, ks=(0, 1, 2, 3, 4), guess_level: float | None = None) -> dict[int, dict]:
    """Recovered quality of the test images against the number k of (plaintext, ciphertext) pairs.

    ``cipher`` must expose ``public_codes`` and ``decode_codes`` (both chaotic ciphers do). For each k the
    attacker encrypts (or is given the encryption of) ``attacker_plains[:k]`` (float images, the same size
    as the test images), recovers permutation and stream, and decrypts the test ciphertexts. k = 0 is the
    constant guess at ``guess_level`` (default: the mean of the attacker's plaintexts; pass the mean of
    typical images when the plaintexts are chosen patterns). Returns per k: ``psnr``, ``ssim``, ``mse``
    (Intervals over the test sources; PSNR capped at 100 dB), ``exact`` (share of test images the attack
    decrypts bit for bit as the key holder does), ``ambiguous`` positions and ``seconds``.
    """
    images = test_set.images
    groups = getattr(test_set, "ids", None)
    target = as_uint8(images)
    test_ct = cipher.encrypt(images)
    legit = as_uint8(cipher.decrypt(test_ct))
    plains = np.asarray(attacker_plains, np.float32)
    out = {}
    for k in ks:
        began = time.perf_counter()
        if k == 0:
            level = float(np.mean(plains)) if guess_level is None else float(guess_level)
            guess = as_uint8(np.full(images.shape, level, np.float32))
            ambiguous = int(np.prod(images.shape[1:]))
        else:
            if k > len(plains):
                raise ValueError(f"k={k} pairs asked for, but only {len(plains)} attacker plaintexts given")
            recovered = recover_keystream(cipher.public_codes(plains[:k]), cipher.encrypt(plains[:k]))
            guess = as_uint8(cipher.decode_codes(decrypt_with(recovered, test_ct)))
            ambiguous = recovered.ambiguous
        result = _quality(target, guess, groups)
        exact = bootstrap_ci([float(np.array_equal(a, b)) for a, b in zip(guess, legit)], groups)
        out[int(k)] = {**result, "exact": exact, "ambiguous": ambiguous, "seconds": time.perf_counter() - began}
    return out


def format_attack_curve(curve: dict[int, dict], pixels: int | None = None) -> str:
    """A text table of :func:`attack_curve`: k, PSNR and SSIM with intervals, share decrypted exactly,
    ambiguous positions."""
    lines = [f"{'k pairs':>8}{'PSNR (dB)':>22}{'SSIM':>24}{'exact':>8}{'ambiguous':>11}"]
    for k, row in curve.items():
        lines.append(f"{k:>8}{row['psnr'].format(1):>22}{row['ssim'].format(3):>24}{row['exact'].mean:>8.0%}"
                     f"{row['ambiguous']:>11}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------
# the chaotic cipher's permutation is an Arnold cat map: few enough maps to try them all
# ------------------------------------------------------------------------------------------------------

@dataclass
class CatMapSearch:
    """What :func:`cat_map_search` found: the cat map (``p``, ``q``, ``rounds``; None if none fits), the
    recovered permutation and stream (``key``, a :class:`RecoveredKey`), ``candidates`` (distinct
    permutations that fit both pairs exactly: 1 means the answer is unique), ``tested`` ((p, q, rounds)
    tried: the key space of the permutation, about ``size^2`` x its period; a few of them give the same
    map) and ``seconds``."""

    p: int | None
    q: int | None
    rounds: int | None
    key: RecoveredKey | None
    candidates: int
    tested: int
    seconds: float

    @property
    def key_space_bits(self) -> float:
        """log2 of the number of (p, q, rounds) tried."""
        return float(np.log2(max(self.tested, 1)))


def cat_map_search(plain_codes, ciphertexts, samples: int = 48, max_rounds: int | None = None) -> CatMapSearch:
    """Exhaustive search of the cat map from 2 pairs (Y0, C0), (Y1, C1) of a ``C = catmap(Y) XOR K`` cipher.

    XOR removes the key stream from differences: ``C0 XOR C1 = catmap(Y0 XOR Y1)``, a relation that
    involves the permutation only. The cat map on an N x N grid is the matrix ``M = [[1, p], [q, pq + 1]]``
    (mod N) applied ``rounds`` times; ``p`` and ``q`` matter only mod N, and the rounds only up to the period
    of M, so there are at most N^2 x period maps (about 2^17.6 at 64 px). For every (p, q) at once, round
    after round, the map's destinations of ``samples`` source pixels are checked against the difference
    images; the few maps that pass are checked on every pixel. Then ``K = C0 XOR catmap(Y0)`` and every
    ciphertext of that key and size decrypts. ``plain_codes``, ``ciphertexts``: uint8 (k >= 2, N, N); only
    the first two pairs are used. ``max_rounds``: stop after that many rounds (default: each map's period).
    """
    began = time.perf_counter()
    y = np.asarray(plain_codes)
    c = np.asarray(ciphertexts)
    if y.dtype != np.uint8 or c.dtype != np.uint8:
        raise TypeError(f"plain_codes and ciphertexts must be uint8, got {y.dtype} and {c.dtype}")
    if y.shape != c.shape or y.ndim != 3 or len(y) < 2 or y.shape[1] != y.shape[2]:
        raise ValueError(f"need k >= 2 pairs of square images (k, N, N), got {y.shape} and {c.shape}")
    n = y.shape[1]
    dp = (y[0] ^ y[1]).ravel()
    dc = (c[0] ^ c[1]).ravel()
    # check pixels whose difference value is rare first: they reject wrong maps fastest
    values, inverse, counts = np.unique(dp, return_inverse=True, return_counts=True)
    rarity = counts[inverse.ravel()] + np.random.default_rng(0).random(dp.size)
    src = np.argsort(rarity, kind="stable")[:samples]
    si, sj = np.divmod(src, n)
    pq = np.arange(n, dtype=np.int64)
    p, q = (a.ravel() for a in np.meshgrid(pq, pq, indexing="ij"))
    one = np.array([[1, 0], [0, 1]], np.int64)
    step = np.stack([np.stack([np.ones_like(p), p], -1), np.stack([q, p * q + 1], -1)], -2) % n  # (N^2, 2, 2)
    power = np.broadcast_to(one, step.shape).copy()
    alive = np.ones(len(p), bool)  # maps whose period has not yet been reached
    found, tested, rounds = [], 0, 0
    limit = max_rounds if max_rounds is not None else 6 * n
    full_i, full_j = np.divmod(np.arange(n * n, dtype=np.int64), n)
    while alive.any() and rounds < limit:
        rounds += 1
        power[alive] = np.einsum("kab,kbc->kac", step[alive], power[alive]) % n
        back = alive & np.all(power == one, axis=(1, 2))  # identity: the period is reached, no new maps
        alive &= ~back
        idx = np.flatnonzero(alive)
        tested += idx.size
        m = power[idx]
        di = (m[:, 0, 0, None] * si + m[:, 0, 1, None] * sj) % n
        dj = (m[:, 1, 0, None] * si + m[:, 1, 1, None] * sj) % n
        ok = np.all(dc[di * n + dj] == dp[src][None], axis=1)
        for k in idx[ok]:
            a = power[k]
            dest = ((a[0, 0] * full_i + a[0, 1] * full_j) % n) * n + (a[1, 0] * full_i + a[1, 1] * full_j) % n
            if np.array_equal(dc[dest], dp) and not any(np.array_equal(dest, f[3]) for f in found):
                found.append((int(p[k]), int(q[k]), rounds, dest))  # different (p, q, rounds) can be one map
    if not found:
        return CatMapSearch(None, None, None, None, 0, tested, time.perf_counter() - began)
    fp, fq, fr, dest = found[0]
    perm = np.empty(n * n, np.int64)
    perm[dest] = np.arange(n * n)  # gather form: scrambled[d] = flat[perm[d]]
    stream = c[0].ravel() ^ y[0].ravel()[perm]
    key = RecoveredKey(perm, stream, 0 if len(found) == 1 else n * n, 2, (n, n))
    return CatMapSearch(fp, fq, fr, key, len(found), tested, time.perf_counter() - began)
