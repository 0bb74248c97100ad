"""utils.ciphers.randomness: the SP 800-22 tests reproduce the specification's worked examples, fair bits
pass at the rate the significance level allows, and structured streams fail."""

import math

import numpy as np
import pytest

from utils.ciphers import randomness as R


def _bits(text):
    return np.array([int(c) for c in text])


# the specification's 100-bit example (the binary expansion of pi) and its 128-bit longest-run example
PI_100 = "1100100100001111110110101010001000100001011010001100001000110100110001001100011001100010100010111000"
RUN_128 = ("11001100000101010110110001001100111000000000001001001101010100010001001111010110100000001101011111"
           "001100111001101101100010110010")


@pytest.mark.parametrize("test, bits, args, expected", [
    (R.monobit, "1011010101", (), [0.527089]),
    (R.monobit, PI_100, (), [0.109599]),
    (R.block_frequency, "0110011010", (3,), [0.801252]),
    (R.block_frequency, PI_100, (10,), [0.706438]),
    (R.runs, "1001101011", (), [0.147232]),
    (R.runs, PI_100, (), [0.500798]),
    (R.longest_run, RUN_128, (), [0.180598]),
    (R.serial, "0011011101", (3,), [0.808792, 0.670320]),
    (R.approximate_entropy, "0100110101", (3,), [0.261961]),
    (R.approximate_entropy, PI_100, (2,), [0.235301]),
    (R.cumulative_sums, PI_100, (), [0.219194, 0.114866]),
])
def test_the_specifications_worked_examples(test, bits, args, expected):
    assert [o.p for o in test(_bits(bits), *args)] == pytest.approx(expected, abs=1e-6)


def test_examples_that_contradict_their_own_equations():
    # 2.13, epsilon = 1011010111: z = 4; the example's 0.4116588 comes from rounded normal tables
    assert R.cumulative_sums(_bits("1011010111"))[0].p == pytest.approx(0.4116588, abs=1e-4)
    # 2.5, M = Q = 3: the ranks are 2 and 3; the example's chi-square (0.596953) plugs in the 32x32
    # probabilities, which the general formula gives exactly
    eps = _bits("01011001001010101101")
    rows = [int("".join(map(str, eps[i:i + 3])), 2) for i in range(0, 18, 3)]
    assert [R._rank_gf2(rows[:3]), R._rank_gf2(rows[3:])] == [2, 3]
    probs = [R._rank_probability(r, 32, 32) for r in (32, 31)]
    assert probs == pytest.approx([0.2888, 0.5776], abs=1e-4)
    probs.append(1 - sum(probs))
    chi2 = sum((f - 2 * p) ** 2 / (2 * p) for f, p in zip((1, 1, 0), probs))
    assert chi2 == pytest.approx(0.596953, abs=1e-3)
    # with the 3x3 probabilities (7/8 * 6/8 * 4/8 for full rank) the P-value is ours
    p3, p2 = R._rank_probability(3, 3, 3), R._rank_probability(2, 3, 3)
    assert p3 == pytest.approx(7 / 8 * 6 / 8 * 4 / 8)
    chi2_3x3 = sum((f - 2 * p) ** 2 / (2 * p) for f, p in zip((1, 1, 0), (p3, p2, 1 - p3 - p2)))
    assert R.matrix_rank(eps, 3, 3)[0].p == pytest.approx(math.exp(-chi2_3x3 / 2))
    # 2.6, epsilon = 1001010011: the example says N1 = 4 peaks below T = 5.47, but every modulus of the
    # first half of its DFT (computed here by the sum itself) is below T: N1 = 5
    x = 2.0 * _bits("1001010011") - 1
    k = np.arange(10)
    moduli = np.abs(np.exp(-2j * np.pi * np.outer(k[:5], k) / 10) @ x)
    assert moduli.max() == pytest.approx(np.sqrt(20)) and np.sqrt(np.log(20) * 10) > moduli.max()
    d = (5 - 4.75) / np.sqrt(10 * 0.95 * 0.05 / 4)
    assert R.spectral(_bits("1001010011"))[0].p == pytest.approx(math.erfc(d / math.sqrt(2)), abs=1e-12)


def test_fair_bits_pass_at_the_rate_alpha_allows():
    """NIST's two checks over s sequences of a good generator: per P-value, at least
    1 - alpha - 3 sqrt(alpha (1 - alpha) / s) of them pass; per test, its P-values are uniform on [0, 1]
    (a test that always says 1.0, or says 0.001 too often, fails the second)."""
    from scipy.stats import kstest
    s = 32
    passes, pvalues = {}, {}
    for seed in range(s):
        bits = np.random.default_rng(seed).integers(0, 2, 2 ** 20).astype(bool)
        for name, outcomes in R.battery(bits).items():
            for o in outcomes:
                if o.p is not None:
                    assert 0.0 <= o.p <= 1.0, (name, o)
                    passes.setdefault(o.test, []).append(o.passed)
                    pvalues.setdefault(name, []).append(o.p)
    floor = 1 - R.ALPHA - 3 * np.sqrt(R.ALPHA * (1 - R.ALPHA) / s)
    rates = {name: np.mean(v) for name, v in passes.items() if len(v) == s}
    assert len(rates) >= 11  # the excursion tests apply only where the walk returns to 0 often enough
    assert all(rate >= floor for rate in rates.values()), {k: v for k, v in rates.items() if v < floor}
    assert set(pvalues) == {t.__name__ for t in R.TESTS}
    uniform = {name: kstest(ps, "uniform").pvalue for name, ps in pvalues.items()}
    assert min(uniform.values()) > 1e-3, uniform


def test_structured_streams_fail():
    rng = np.random.default_rng(0)
    biased = rng.random(2 ** 16) < 0.52
    periodic = np.tile(rng.integers(0, 2, 64).astype(bool), 2 ** 10)
    sticky = np.repeat(rng.integers(0, 2, 2 ** 15).astype(bool), 2)  # every bit twice: too few runs
    assert not R.monobit(biased)[0].passed and not R.cumulative_sums(biased)[0].passed
    assert not R.spectral(periodic)[0].passed and not R.serial(periodic)[0].passed
    assert R.monobit(sticky)[0].passed and not R.runs(sticky)[0].passed


def test_bytes_unpack_and_bad_input_is_named():
    assert R.bits_of(np.array([0b10000001], np.uint8)).tolist() == [1, 0, 0, 0, 0, 0, 0, 1]
    assert R.bits_of([1, 0, 1]).dtype == bool
    with pytest.raises(ValueError, match="0 or 1"):
        R.bits_of(np.array([0, 2]))
    with pytest.raises(TypeError, match="dtype float64"):
        R.bits_of(np.array([0.5]))
    with pytest.raises(ValueError, match="longest_run needs at least 128 bits"):
        R.longest_run(_bits("0101"))
    with pytest.raises(ValueError, match="at least 1000 bits"):
        R.battery(_bits(PI_100))
    few = R.battery(np.random.default_rng(1).integers(0, 2, 4096))
    assert few["matrix_rank"][0].p is None and few["random_excursions"][0].passed is None
