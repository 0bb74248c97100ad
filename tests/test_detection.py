"""The rich-model steganalyser (utils.hiding.rich_model) and the detection study (utils.hiding.detection)."""

import numpy as np
import pytest

from utils.hiding import detection, rich_model
from utils.hiding.rich_model import EnsembleFLD


def _u8(x):
    return np.clip(np.round(np.asarray(x) * 255), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def sets():
    from utils.data import pair_set

    return (pair_set("train", "medical", 64, n=128, channels=1, content=True),
            pair_set("test", "medical", 64, n=48, channels=1, content=True))


def test_features_are_normalised_cooccurrences(sets):
    covers = _u8(sets[1].covers[:4])
    f = rich_model.features(covers)
    assert f.shape == (4, len(rich_model.KERNELS) * 2 * 125)
    np.testing.assert_allclose(f.reshape(4, -1, 125).sum(-1), 1.0)
    np.testing.assert_array_equal(f, rich_model.features(covers / np.float32(255)))  # float input reads the same
    assert not np.allclose(f[0], f[1])
    with pytest.raises(ValueError, match="batch"):
        rich_model.features(covers[0])


def test_ensemble_separates_shifted_classes_and_not_identical_ones():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(200, 40)), rng.normal(size=(200, 40))
    shifted = b + 1.0
    clf = EnsembleFLD(learners=11, subspace=20).fit(a[:100], shifted[:100])
    accuracy = 0.5 * np.mean(clf.predict(a[100:]) == 0) + 0.5 * np.mean(clf.predict(shifted[100:]) == 1)
    assert accuracy > 0.9
    same = EnsembleFLD(learners=11, subspace=20).fit(a[:100], b[:100])
    accuracy = 0.5 * np.mean(same.predict(a[100:]) == 0) + 0.5 * np.mean(same.predict(b[100:]) == 1)
    assert 0.3 < accuracy < 0.7
    with pytest.raises(RuntimeError, match="fit"):
        EnsembleFLD().decision_function(a)
    with pytest.raises(ValueError, match="feature arrays"):
        EnsembleFLD().fit(a, b[:, :3])


def test_rich_model_finds_lsb_on_covers_it_never_saw(sets):
    from utils.hiding.robustness import methods

    train, test = sets
    lsb = {k: v for k, v in methods().items() if k == "LSB 3-3-2"}
    rows = detection.measure(train, test, lsb, cnn_steps=5, verbose=False)
    full = rows["LSB 3-3-2"]["full"]["rich model"]
    assert full["balanced_accuracy"]["mean"] > 0.9 and full["auc"] > 0.9
    assert set(rows["LSB 3-3-2"]) == set(detection.PAYLOADS)


def test_reduced_payloads_touch_a_quarter(sets):
    from utils.hiding.robustness import methods

    test = sets[1]
    chosen = methods()
    lsb = detection.reduced("LSB 3-3-2", chosen["LSB 3-3-2"][0])(test.secrets[:8], test.covers[:8])
    changed = lsb != _u8(test.covers[:8])
    assert changed[:, :32, :32].any() and not changed[:, 32:].any() and not changed[:, :, 32:].any()
    qim = detection.reduced("QIM (classic, robust)", None)
    assert qim(test.secrets[:2], test.covers[:2]).shape == (2, 64, 64, 3)


def test_stored_detection_study_covers_every_method_and_payload():
    from utils.hiding.robustness import methods

    result = detection.stored()
    assert set(result["rows"]) == set(methods())
    for by_payload in result["rows"].values():
        assert set(by_payload) == set(detection.PAYLOADS)
        for by_detector in by_payload.values():
            for name in ("cnn", "rich model"):
                r = by_detector[name]
                assert r["detection_rate"]["n"] == 224 and 0 <= r["balanced_accuracy"]["mean"] <= 1
    assert "python -m utils.hiding.detection" in result["command"] and result["code_commit"]
