"""utils.metrics.verdicts: the yes/no rules every notebook's checked verdicts use."""

import numpy as np
import pytest

from utils.metrics import (
    BLIND_CONSTANT,
    MEAN_ORACLE,
    Interval,
    beats,
    bootstrap_ci,
    clearly_above,
    first_k_beating,
    mean_of,
    ranking,
    say,
)


def iv(mean, low, high):
    return Interval(mean, low, high, n=64, sources=(14,))


def test_mean_of_accepts_intervals_dicts_and_numbers_and_names_what_it_got():
    assert mean_of(iv(3.0, 2.0, 4.0)) == 3.0
    assert mean_of({"mean": 2.5, "low": 1}) == 2.5
    assert mean_of(7) == 7.0
    assert mean_of(bootstrap_ci([1.0, 2.0, 3.0])) == pytest.approx(2.0)
    with pytest.raises(TypeError, match="'mean' entry"):
        mean_of({"psnr": 3})
    with pytest.raises(TypeError, match="str"):
        mean_of("12 dB")


def test_beats_needs_more_than_the_margin():
    a, b = iv(15.0, 14.0, 16.0), iv(12.0, 11.0, 13.0)
    assert beats(a, b) and beats(a, b, 2.9)
    assert not beats(a, b, 3.0), "exactly the margin is not more than it"
    assert not beats(b, a)
    with pytest.raises(ValueError, match="margin"):
        beats(a, b, -1)


def test_clearly_above_asks_for_disjoint_intervals():
    assert clearly_above(iv(15, 14, 16), iv(12, 11, 13.9))
    assert not clearly_above(iv(15, 14, 16), iv(12, 11, 14.1)), "overlapping intervals are not an order"
    assert clearly_above(2.0, 1.0) and not clearly_above(1.0, 1.0)


def test_first_k_beating_walks_the_curve_in_order_of_k():
    curve = {16: {"psnr": iv(20, 19, 21)}, 0: {"psnr": iv(12, 11, 13)}, 4: {"psnr": iv(14, 13, 15)},
             64: {"psnr": iv(19, 18, 20)}}
    assert first_k_beating(curve, curve[0]["psnr"], 3.0) == 16
    assert first_k_beating(curve, curve[0]["psnr"], 1.0) == 4
    assert first_k_beating(curve, curve[0]["psnr"], 10.0) is None


def test_ranking_and_say():
    rows = {"a": {"psnr": iv(10, 9, 11)}, "b": {"psnr": iv(30, 29, 31)}, "c": {"psnr": iv(20, 19, 21)}}
    assert ranking(rows, "psnr") == ["b", "c", "a"]
    assert ranking({"x": 1.0, "y": 3.0}) == ["y", "x"]
    assert say("it works", True) == "it works: yes" and say("it works", 0) == "it works: no"


def test_the_two_baselines_have_distinct_names():
    assert BLIND_CONSTANT != MEAN_ORACLE and "k = 0" in BLIND_CONSTANT and "oracle" in MEAN_ORACLE


def test_the_two_floors_are_made_once_here():
    import numpy as np

    from utils.metrics import blind_constant_guess, mean_oracle_guess

    own = np.array([[[0.0, 1.0]], [[0.5, 0.5]]], np.float32)  # the attacker's images: mean 0.5
    guess = blind_constant_guess(own, (3, 2, 2))
    assert guess.shape == (3, 2, 2) and guess.dtype == np.float32 and np.all(guess == 0.5)
    images = np.array([[[0.0, 0.2], [0.4, 0.6]], [[1.0, 1.0], [1.0, 1.0]]], np.float32)
    oracle = mean_oracle_guess(images)
    np.testing.assert_allclose(oracle[0], 0.3)
    np.testing.assert_allclose(oracle[1], 1.0)
    colour = np.stack([images, 1.0 - images], axis=-1)  # (N, H, W, 2): the mean runs over the channels too
    np.testing.assert_allclose(mean_oracle_guess(colour)[:, :, :, 1], 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="attacker's own images"):
        blind_constant_guess(np.zeros((0, 2, 2)), (1, 2, 2))
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        mean_oracle_guess(images[0])


def test_one_correlation_rule_holds_zero_within_the_limit():
    from utils.metrics import CORRELATION_LIMIT, uncorrelated

    assert CORRELATION_LIMIT == 0.01
    assert uncorrelated(Interval(-0.001, -0.003, 0.001, 224, (14,)))          # AES-GCM's kind of row
    assert not uncorrelated(Interval(0.004, 0.0015, 0.0072, 224, (14,)))      # small, but a bias: 0 excluded
    assert not uncorrelated(Interval(0.038, -0.008, 0.130, 224, (14,)))       # holds 0, too wide to tell
    assert uncorrelated({"mean": 0.0, "low": -0.009, "high": 0.009})           # a stored record
    row = {k: {"mean": 0.0, "low": -0.002, "high": 0.002} for k in
           ("correlation_horizontal", "correlation_vertical", "correlation_diagonal")}
    assert uncorrelated(row)
    row["correlation_diagonal"] = {"mean": -0.008, "low": -0.0093, "high": -0.0064}  # one direction fails
    assert not uncorrelated(row)
    with pytest.raises(ValueError, match="limit"):
        uncorrelated(row, limit=0)


def test_chance_is_what_a_rule_blind_to_the_image_scores_whatever_the_class_balance():
    from utils.hiding.steganalysis import detection_report, threshold_accuracy
    from utils.metrics import CHANCE

    rng = np.random.default_rng(0)
    covers, containers = rng.normal(size=90), rng.normal(size=10)  # 9 covers to every container
    for threshold in (-np.inf, np.inf):  # "everything is a container", "nothing is"
        assert threshold_accuracy(covers, containers, threshold) == CHANCE
    same = detection_report(np.zeros(90), np.zeros(10), 0.0)  # every image scores the same
    assert same["balanced_accuracy"] == CHANCE and same["auc"] == CHANCE
