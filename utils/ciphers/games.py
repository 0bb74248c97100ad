"""Security by its definition: the chosen-plaintext distinguishing games, played against any cipher.

A cipher is secure against chosen-plaintext attacks (IND-CPA) when no attacker who may ask for the
encryption of plaintexts of their choice can tell *which* of two plaintexts a challenge ciphertext
encrypts noticeably better than a coin toss. The attacker's **advantage** is

    Adv = P[guess 1 | b = 1] - P[guess 1 | b = 0],

the difference between how often they answer "1" when the challenger encrypted the second plaintext and
when it encrypted the first: 0 for a coin toss (or any guess blind to the ciphertext), 1 for an attacker
who always wins. Statistics such as entropy, chi-square or NPCR/UACI describe one cipher image; the game
asks the question that matters, and a cipher can pass every statistic and still lose the game outright.

Two games, each scored on the test images (never used in training), with a 95 % interval over their
source images:

* :func:`equality_game` (left or right): the attacker queries the encryption of m0, then receives the
  challenge Enc(m_b) for (m0, m1) and answers 0 exactly when the challenge equals the query. Every
  *deterministic* cipher (one plaintext, one ciphertext) loses with advantage 1: the game needs no learning
  and no knowledge of the key. Only randomised encryption (a fresh nonce or IV per message) survives.
* :func:`real_or_random_game` (real or random): does the ciphertext of a medical image look like the
  ciphertext of uniform noise? A small CNN distinguisher is trained on the attacker's own images (train and
  validation sources) against noise, through the cipher's public encryption oracle, and then scored on
  pairs (test image, fresh noise). It tests what the equality game cannot: whether the cipher images carry
  the plaintext's structure (a hider's container, a translation network's output).

Both return :class:`GameResult`. The advantage of a guess blind to the ciphertext is 0; that is the
baseline of both games.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..metrics import Interval, bootstrap_ci
from .evaluation import as_uint8

__all__ = ["GameResult", "challenge_pairs", "equality_game", "real_or_random_game", "format_games"]


@dataclass(frozen=True)
class GameResult:
    """One game's outcome: ``advantage`` (an Interval over the test sources; 0 is a blind guess, 1 a sure
    win), ``game`` (its name), ``pairs`` (challenges played), ``seconds`` (the attacker's time, training
    included) and ``note`` (what the attacker did)."""

    game: str
    advantage: Interval
    pairs: int
    seconds: float
    note: str = ""

    def format(self, digits: int = 2) -> str:
        """``"1.00 [1.00, 1.00]"``."""
        return self.advantage.format(digits)


def challenge_pairs(images) -> tuple[np.ndarray, np.ndarray]:
    """The two plaintexts of each challenge: m0 = image i, m1 = image (i + n/2) mod n of the same test set
    (a different 8-bit image; where the two coincide, m1 is the negative of m0)."""
    m0 = np.asarray(images, np.float32)
    n = len(m0)
    if n < 2:
        raise ValueError(f"the games need at least 2 test images, got {n}")
    m1 = m0[(np.arange(n) + n // 2) % n].copy()
    same = np.all(as_uint8(m0) == as_uint8(m1), axis=(1, 2))
    m1[same] = 1.0 - m0[same]
    return m0, m1


def _rows_equal(a, b) -> np.ndarray:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return np.zeros(len(a), bool)
    return np.array([np.array_equal(x, y) for x, y in zip(a, b)])


def equality_game(cipher, test_set) -> GameResult:
    """Left-or-right CPA game with the attacker "answer 0 iff the challenge equals my query of Enc(m0)".

    Three encryptions per challenge: the query Enc(m0), the challenge for b = 0 (Enc(m0) again) and the
    challenge for b = 1 (Enc(m1)); per challenge the score is [guess 1 | b = 1] - [guess 1 | b = 0], and
    the advantage is its mean with a 95 % interval over the test sources. A deterministic cipher scores 1,
    a randomised one 0 (unless its ciphertexts repeat).
    """
    began = time.perf_counter()
    m0, m1 = challenge_pairs(test_set.images)
    query = cipher.encrypt(m0)
    guess1_b0 = ~_rows_equal(cipher.encrypt(m0), query)
    guess1_b1 = ~_rows_equal(cipher.encrypt(m1), query)
    scores = guess1_b1.astype(float) - guess1_b0.astype(float)
    return GameResult("left or right (equality)", bootstrap_ci(scores, getattr(test_set, "ids", None)), len(scores),
                      time.perf_counter() - began, "answer 0 iff the challenge repeats the queried Enc(m0)")


def _distinguisher(shape, seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    x = inputs = keras.Input(shape)
    for width in (16, 32, 64):
        x = keras.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(32, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(1)(x), name="distinguisher")
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def _noise(rng, n: int, shape) -> np.ndarray:
    return (rng.integers(0, 256, (n, *shape)).astype(np.float32) / 255.0)


def real_or_random_game(cipher, attacker_plains, test_set, steps: int = 300, batch: int = 32,
                        seed: int = 0, oracle=None) -> GameResult:
    """Real-or-random CPA game with a trained CNN distinguisher.

    The attacker encrypts their own plaintexts ``attacker_plains`` (float32 (n, H, W), from the train and
    validation sources) and as many uniform 8-bit noise images, and trains a small CNN (three stride-2
    convolutions, global pooling, a dense layer) for ``steps`` batches to tell the two apart from
    :meth:`Cipher.features`. Challenges: each test image against a fresh noise image; per challenge the
    score is [says "real" | real] - [says "real" | noise], and the advantage is its mean with a 95 %
    interval over the test sources. A cipher whose cipher images look like those of noise gives about 0.
    ``oracle`` (default ``cipher``) encrypts the attacker's training images (a hider: into other covers).
    """
    import keras

    began = time.perf_counter()
    plains = np.asarray(attacker_plains, np.float32)
    images = test_set.images
    if plains.ndim != 3 or plains.shape[1:] != images.shape[1:]:
        raise ValueError(f"attacker_plains must be (n, H, W) like the test images {images.shape[1:]}, got {plains.shape}")
    rng = np.random.default_rng(seed)
    oracle = cipher if oracle is None else oracle
    real = oracle.features(oracle.encrypt(plains))
    fake = oracle.features(oracle.encrypt(_noise(rng, len(plains), plains.shape[1:])))
    x = np.concatenate([real, fake]).astype(np.float32)
    y = np.concatenate([np.ones(len(real)), np.zeros(len(fake))]).astype(np.float32)[:, None]
    model = _distinguisher(x.shape[1:], seed)
    size = min(batch, len(x))
    order = np.concatenate([rng.permutation(len(x)) for _ in range(int(np.ceil(steps * size / len(x))))])
    for step in range(steps):
        pick = order[step * size:(step + 1) * size]
        model.train_on_batch(x[pick], y[pick])

    def says_real(features):
        logits = np.concatenate([keras.ops.convert_to_numpy(model(features[i:i + 64], training=False))
                                 for i in range(0, len(features), 64)])
        return logits[:, 0] > 0

    test_real = says_real(cipher.features(cipher.encrypt(images)).astype(np.float32))
    test_fake = says_real(cipher.features(cipher.encrypt(_noise(rng, len(images), images.shape[1:]))).astype(np.float32))
    scores = test_real.astype(float) - test_fake.astype(float)
    return GameResult("real or random (CNN)", bootstrap_ci(scores, getattr(test_set, "ids", None)), len(scores),
                      time.perf_counter() - began,
                      f"CNN trained {steps} steps on {len(plains)} own images vs noise")


def format_games(rows: dict[str, dict[str, GameResult]], digits: int = 2) -> str:
    """A text table: one row per cipher, one column per game, each cell ``advantage [low, high]``."""
    games = list(dict.fromkeys(g for r in rows.values() for g in r))
    width = max([len(n) for n in rows] + [8]) + 2
    lines = [f"{'':<{width}}" + "".join(f"{g:>28}" for g in games)]
    for name, row in rows.items():
        lines.append(f"{name:<{width}}" + "".join(f"{row[g].format(digits) if g in row else '-':>28}" for g in games))
    return "\n".join(lines)
