"""utils.hiding.steganalysis and utils.hiding.attacks: the statistics detect what they were made for, the attacker learns."""

import numpy as np
import pytest

from utils.hiding.attacks import reveal_with, train_substitute_reveal
from utils.hiding.lsb import lsb_hide
from utils.hiding.steganalysis import (
    KV_KERNEL,
    chi_square_attack,
    detector_scores,
    fit_threshold,
    noise_level,
    threshold_accuracy,
    train_detector,
)
from utils.hiding.stego import StegoConfig, StegoNet
from utils.runtime import seed_everything


@pytest.fixture
def smooth_images():
    """Smooth 8-bit images whose histograms have unequal neighbours (a gradient with a bump)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:64]
    out = []
    for _ in range(8):
        a, b = rng.uniform(0.5, 2.0, size=2)
        image = 60 + 40 * np.sin(a * x / 20) * np.cos(b * y / 15) + 0.8 * x
        out.append(np.repeat(image[..., None], 3, -1).round().astype(np.uint8) // 2 * 2)  # even values only
    return np.stack(out)


def test_chi_square_attack_flags_random_lsb_replacement(smooth_images):
    rng = np.random.default_rng(1)
    stego = (smooth_images & 0xFE) | rng.integers(0, 2, smooth_images.shape, dtype=np.uint8)
    assert all(chi_square_attack(x) < 0.01 for x in smooth_images)  # all values even: pairs very unequal
    assert all(chi_square_attack(x) > 0.5 for x in stego)           # random LSBs equalise the pairs
    with pytest.raises(TypeError, match="uint8"):
        chi_square_attack(smooth_images[0].astype(float))


def test_noise_level_measures_gaussian_noise():
    rng = np.random.default_rng(0)
    for sigma in (2.0, 5.0, 10.0):
        image = np.clip(128 + sigma * rng.standard_normal((200, 200)), 0, 255).round().astype(np.uint8)
        assert noise_level(image) == pytest.approx(sigma, rel=0.1)
    assert noise_level(np.full((50, 50, 3), 77, np.uint8)) == 0.0
    with pytest.raises(ValueError, match="at least 3x3"):
        noise_level(np.zeros((2, 9), np.uint8))


def test_fit_threshold_and_auc_agree_with_the_counts_made_one_by_one():
    from utils.hiding.steganalysis import detection_report

    rng = np.random.default_rng(3)
    for trial in range(40):  # integer scores: many ties, and either direction
        neg = rng.integers(0, 12, rng.integers(1, 30)).astype(float)
        pos = rng.integers(0, 12, rng.integers(1, 30)).astype(float) + rng.integers(-4, 5)
        values = np.unique(np.r_[neg, pos])
        candidates = np.r_[values[0] - 1, (values[:-1] + values[1:]) / 2, values[-1] + 1]
        best = (-1.0, 0.0, 1)
        for sign in (1, -1):  # the exhaustive search, first maximum kept
            for t in candidates:
                accuracy = threshold_accuracy(neg, pos, t, sign)
                if accuracy > best[0]:
                    best = (accuracy, float(t), sign)
        assert fit_threshold(neg, pos) == (best[1], best[2]), trial
        pairwise = np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :])
        assert detection_report(neg, pos, best[1], 1)["auc"] == pytest.approx(pairwise, abs=1e-12)


def test_fit_threshold_finds_the_separating_direction():
    t, sign = fit_threshold([5, 6, 7], [1, 2, 3])
    assert sign == -1 and 3 < t < 5
    assert threshold_accuracy([5, 6, 7], [1, 2, 3], t, sign) == 1.0
    assert threshold_accuracy([1, 2], [1, 2], 1.5, 1) == 0.5
    with pytest.raises(ValueError):
        fit_threshold([], [1])


def test_kv_kernel_removes_linear_content():
    from scipy.signal import convolve2d

    y, x = np.mgrid[0:20, 0:20]
    assert np.allclose(convolve2d(3.0 * x + 2.0 * y + 7, KV_KERNEL, mode="valid"), 0, atol=1e-4)
    checkerboard = ((x + y) % 2).astype(float)  # the highest frequency passes, amplified
    assert np.all(np.abs(convolve2d(checkerboard, KV_KERNEL, mode="valid")) > 1)


def test_learned_detector_finds_4_bit_lsb(smooth_images):
    seed_everything(0)
    rng = np.random.default_rng(2)
    secrets = rng.integers(0, 256, smooth_images.shape, dtype=np.uint8)
    stego = lsb_hide(secrets, smooth_images)
    model, losses = train_detector(smooth_images / 255.0, stego / 255.0, steps=60, batch=8, seed=0)
    assert np.mean(losses[-10:]) < np.mean(losses[:5])
    scores_cover, scores_stego = detector_scores(model, smooth_images / 255.0), detector_scores(model, stego / 255.0)
    assert threshold_accuracy(scores_cover, scores_stego, 0.0) >= 0.9


def test_substitute_reveal_learns_a_simple_hiding_rule():
    """A 'container' that carries the secret in its blue channel is read after a short training."""
    seed_everything(0)
    rng = np.random.default_rng(0)
    secrets = rng.random((16, 16, 16, 1)).astype(np.float32)
    containers = np.concatenate([rng.random((16, 16, 16, 2)), secrets], axis=-1).astype(np.float32)
    small = StegoConfig(depth=1, filters=16, secret_channels=1)  # the seed's reveal needs far more steps
    net, history = train_substitute_reveal(secrets, containers, steps=100, batch=8, learning_rate=3e-3, crop=8,
                                           config=small)
    recovered = reveal_with(net, containers)  # whole 16x16 containers, though it trained on 8x8 crops
    assert recovered.shape == secrets.shape
    assert np.mean((recovered - secrets) ** 2) < 0.25 * np.var(secrets)
    assert history["loss"][-1] < history["loss"][0]
    with pytest.raises(ValueError, match="at least one known pair"):
        train_substitute_reveal(secrets[:0], containers[:0])
    with pytest.raises(ValueError, match="crop=32"):
        train_substitute_reveal(secrets, containers, crop=32)


def test_substitute_can_start_from_a_public_model():
    """With no training steps, a substitute started from a model is that model's reveal network (made grey)."""
    seed_everything(0)
    rng = np.random.default_rng(0)
    colour = StegoNet(StegoConfig(depth=2, filters=8)).build_for(16)
    containers = rng.random((4, 16, 16, 3)).astype(np.float32)
    secrets = rng.random((4, 16, 16, 1)).astype(np.float32)
    small = StegoConfig(depth=2, filters=8, secret_channels=1)
    net, _ = train_substitute_reveal(secrets, containers, steps=0, config=small, init_from=colour)
    expected = np.clip(np.asarray(colour.reveal_net(containers)).mean(-1, keepdims=True), 0, 1)
    np.testing.assert_allclose(reveal_with(net, containers), expected, atol=1e-5)
    fresh, _ = train_substitute_reveal(secrets, containers, steps=0, config=small)
    assert not np.allclose(reveal_with(fresh, containers), expected, atol=1e-3)


def test_detection_report_counts_hits_and_false_alarms():
    from utils.hiding.steganalysis import detection_report

    report = detection_report([0.1, 0.2, 0.3, 0.9], [0.8, 0.95, 0.4, 0.7], threshold=0.5)
    assert report["detection_rate"] == 0.75 and report["false_alarm_rate"] == 0.25
    assert report["balanced_accuracy"] == 0.75 and 0.5 < report["auc"] <= 1.0
    flipped = detection_report([0.1, 0.2, 0.3, 0.9], [0.8, 0.95, 0.4, 0.7], threshold=0.5, sign=-1)
    assert flipped["auc"] == pytest.approx(1 - report["auc"])


def test_mutual_information_sees_dependence_that_correlation_misses():
    from utils.hiding.steganalysis import mutual_information

    rng = np.random.default_rng(0)
    x = rng.normal(size=20000)
    y = x ** 2 + 0.1 * rng.normal(size=x.size)  # dependent, yet uncorrelated
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.05
    assert mutual_information(x, y) > 1.0
    assert mutual_information(x, rng.permutation(y)) < 0.05
    with pytest.raises(ValueError, match="paired"):
        mutual_information(x, y[:10])


def test_efficient_substitute_learns_a_channel_copy():
    from utils.hiding.attacks import reveal_with, train_substitute_reveal
    from utils.hiding.stego import StegoConfig

    rng = np.random.default_rng(0)
    containers = rng.random((16, 32, 32, 3)).astype(np.float32)
    secrets = containers[..., 1:2].copy()
    net, history = train_substitute_reveal(secrets, containers, steps=60, learning_rate=3e-3,
                                           config=StegoConfig("efficient", 16, 2, secret_channels=1))
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    assert np.abs(reveal_with(net, containers) - secrets).mean() < 0.25


def test_mutual_information_gets_an_interval_over_sources_centred_on_the_pooled_estimate():
    from utils.hiding.steganalysis import mutual_information, mutual_information_interval

    rng = np.random.default_rng(3)
    secrets = rng.random((40, 16, 16))
    sources = np.repeat(np.arange(10), 4)
    leaky = secrets + 0.3 * rng.standard_normal(secrets.shape)  # a residual that carries the secret
    iv = mutual_information_interval(leaky, secrets, sources, n_boot=300)
    assert iv.mean == pytest.approx(mutual_information(leaky, secrets)) and iv.low <= iv.mean <= iv.high
    assert iv.sources == (10,) and iv.n == 40
    floor = mutual_information_interval(leaky, rng.permutation(secrets), sources, n_boot=300)
    assert floor.high < 0.1 < iv.low  # the shuffled floor lies far below the leak
    with pytest.raises(ValueError, match="paired batches"):
        mutual_information_interval(leaky[:5], secrets, sources)


def test_bootstrap_statistic_gives_bootstrap_ci_for_the_weighted_mean():
    from utils.metrics import bootstrap_ci, bootstrap_statistic

    rng = np.random.default_rng(0)
    v, ids = rng.normal(size=60), rng.integers(0, 9, 60)
    a = bootstrap_ci(v, ids, n_boot=200, seed=4)
    b = bootstrap_statistic(lambda w: (w @ v) / w.sum(-1), v.size, ids, n_boot=200, seed=4)
    assert (a.low, a.high, a.sources) == (b.low, b.high, b.sources) and a.mean == pytest.approx(b.mean)


def test_the_known_pairs_study_budget_grows_with_k_within_its_limits():
    from utils.ciphers.known_pairs_study import steps_for

    assert steps_for(4, 30, 16, 250, 1600) == 250            # few pairs: the floor
    assert steps_for(256, 30, 16, 250, 1600) == 480          # 30 passes over 256 pairs in batches of 16
    assert steps_for(1024, 30, 16, 250, 1600) == 1600        # the ceiling
    with pytest.raises(ValueError, match="max_steps >= min_steps"):
        steps_for(4, 30, 16, 250, 100)


@pytest.mark.slow  # two ciphers, two attackers each: about 30 s
def test_the_known_pairs_study_keeps_the_better_attacker_and_stores_every_row(tmp_path):
    from utils.ciphers import known_pairs_study as study
    from utils.metrics import BLIND_CONSTANT, MEAN_ORACLE

    argv = ["--out", str(tmp_path), "--ks", "0", "3", "--min-steps", "2", "--max-steps", "2", "--checkpoints", "2",
            "--n", "32"]
    assert study._main(argv) == 0
    result = study.stored(tmp_path)
    assert set(result["methods"]) == set(study.METHODS) and result["n"] == 32
    assert result["meta"]["command"].endswith("--n 32") and "code_commit" in result["meta"]
    for name, r in result["methods"].items():
        assert r["rows"]["0"]["psnr"] == r[BLIND_CONSTANT]["psnr"]        # k = 0 is the blind constant
        assert r[BLIND_CONSTANT]["psnr"]["mean"] < r[MEAN_ORACLE]["psnr"]["mean"]
        row = r["rows"]["3"]
        assert set(row["variants"]) == set(study.NORMS) and row["steps"] == 2
        assert row["psnr"]["mean"] == max(v["psnr"]["mean"] for v in row["variants"].values())
        assert row["variants"][row["attacker"]]["psnr"] == row["psnr"]
        assert [c["step"] for c in r["curves"]["no norm"]] == [1, 2]   # the largest k, scored along the way
        assert r[study.KEY_HOLDER]["psnr"]["mean"] > 20             # the key holder decrypts
    assert "deepedn (known pairs" in study.summary(result) and "saae (chosen pairs" in study.summary(result)
    for name, own in study.OWN_ATTACKER.items():                     # the notebooks read each cipher's own network
        rows = study.own_rows(result, name)
        assert sorted(rows) == [0, 3] and rows[0] == result["methods"][name]["rows"]["0"]
        assert rows[3] == result["methods"][name]["rows"]["3"]["variants"][own]
        assert study.own_curve(result, name)[-1]["psnr"] == rows[3]["psnr"]
    text = study.table(result, "saae").splitlines()
    assert len(text) == 1 + 2 + 3 and text[1].split()[0] == "0" and text[-1].startswith(MEAN_ORACLE[:20])
    with pytest.raises(FileNotFoundError, match="python -m utils.ciphers.known_pairs_study"):
        study.stored(tmp_path / "absent")


def test_the_hider_known_pairs_budget_grows_with_k_within_its_limits():
    from utils.hiding.known_pairs_study import steps_for

    assert [steps_for(k, 10, 8, 150, 1200) for k in (4, 64, 256, 1024)] == [150, 150, 320, 1200]
    with pytest.raises(ValueError, match="max_steps >= min_steps"):
        steps_for(4, 10, 8, 150, 100)


@pytest.mark.slow  # three attackers on two hiders: about 40 s
def test_the_hider_known_pairs_study_scores_every_attacker_beside_the_receiver_and_both_floors(tmp_path):
    from utils.hiding import known_pairs_study as study
    from utils.metrics import BLIND_CONSTANT, MEAN_ORACLE

    argv = ["--out", str(tmp_path), "--hiders", "Baluja", "efficient", "--ks", "0", "2", "--min-steps", "2",
            "--max-steps", "2", "--n", "32"]
    assert study._main(argv) == 0
    result = study.stored(tmp_path)
    assert set(result["hiders"]) == {"Baluja", "efficient"} and result["n"] == 32 and result["ks"] == [0, 2]
    assert result["command"].endswith("--n 32") and "code_commit" in result
    assert "Made by `python -m utils.hiding.known_pairs_study" in (tmp_path / "README.md").read_text()
    assert list(result["hiders"]["Baluja"]["attackers"]) == list(study.ATTACKERS)   # the public start: Baluja only
    assert list(result["hiders"]["efficient"]["attackers"]) == ["efficient, fresh"]
    for r in result["hiders"].values():
        assert r[BLIND_CONSTANT]["psnr"]["mean"] < r[MEAN_ORACLE]["psnr"]["mean"] < r[study.RECEIVER]["psnr"]["mean"]
        for name, rows in r["attackers"].items():
            assert rows["2"]["steps"] == 2 and rows["2"]["cpu_seconds"] > 0
            assert rows["0"]["steps"] == 0
            if name == "efficient, fresh":                                              # no pairs, no network
                assert rows["0"]["psnr"] == r[BLIND_CONSTANT]["psnr"]
            else:                                                                       # the public network as it is
                assert rows["0"]["psnr"] != r[BLIND_CONSTANT]["psnr"]
    text = study.table(result, "Baluja").splitlines()
    assert len(text) == 1 + 2 * 2 + 3 and text[-1].startswith(MEAN_ORACLE[:20])
    with pytest.raises(FileNotFoundError, match="python -m utils.hiding.known_pairs_study"):
        study.stored(tmp_path / "absent")
