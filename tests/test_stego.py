"""utils.hiding: the three hiders, the container channel, fit against the tape, hand-written
back-propagation, weight transfer, the invertible hider's exactness, and the shipped models' cards."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from utils.hiding.manual_backprop import ManualTrainer, _flat, forward, gradient_check, loss_and_grads, params_of
from utils.hiding.pretrained import available_pretrained, load_pretrained
from utils.hiding.stego import (
    ContainerChannel,
    EfficientHider,
    InvertibleHider,
    StegoConfig,
    StegoNet,
    make_hider,
    reveal_network,
    stego_losses,
    transfer_weights,
)
from utils.hiding.tape import make_train_step, run_steps, tape_gradients
from utils.hiding.training import PatchStream, TrainingData, evaluate, fit_hider
from utils.runtime import seed_everything

SMALL = {"seed": StegoConfig("seed", 8, 2), "branched": StegoConfig("branched", 8, 2),
         "efficient": StegoConfig("efficient", 8, 2, noise_std=0.0, quantize=True),
         "invertible": StegoConfig("invertible", 8, 2, noise_std=0.0, quantize=True)}


@pytest.fixture
def batch():
    seed_everything(0)
    rng = np.random.default_rng(0)
    return rng.random((2, 16, 16, 3)).astype(np.float32), rng.random((2, 16, 16, 3)).astype(np.float32)


@pytest.mark.parametrize("variant", list(SMALL))
def test_every_hider_has_the_same_outputs_and_user_view(batch, variant):
    model = make_hider(SMALL[variant]).build_for(16)
    out = model(batch)
    assert {k: tuple(v.shape) for k, v in out.items()} == {"container": (2, 16, 16, 3), "revealed": (2, 16, 16, 3)}
    container = model.hide(*batch)
    assert container.shape == (2, 16, 16, 3) and 0 <= container.min() and container.max() <= 1
    assert model.reveal(container).shape == (2, 16, 16, 3)
    assert variant in model.describe()


def test_baluja_parameter_count_is_the_seeds():
    model = StegoNet(StegoConfig(variant="seed")).build_for(16)
    assert sum(int(np.prod(v.shape)) for v in model.trainable_variables) == 518_159
    branched = StegoNet(StegoConfig(variant="branched")).build_for(16)
    assert sum(int(np.prod(v.shape)) for v in branched.trainable_variables) > 2.5 * 518_159


def test_efficient_hider_starts_as_the_identity_on_the_cover(batch):
    model = EfficientHider(SMALL["efficient"]).build_for(16)
    np.testing.assert_allclose(model.hide(*batch), batch[1], atol=1e-6)  # zero-initialised residual head


def test_grey_secret_model(batch):
    model = StegoNet(StegoConfig(secret_channels=1)).build_for(16)
    assert model.reveal(model.hide(batch[0][..., :1], batch[1])).shape == (2, 16, 16, 1)


def test_cover_loss_trains_prep_and_hide_only(batch):
    model = StegoNet(StegoConfig()).build_for(16)
    with tf.GradientTape(persistent=True) as tape:
        _, cover_loss, secret_loss = stego_losses(*batch, model(batch, training=True))
    for name, variables in model.networks.items():
        cover_grads = tape.gradient(cover_loss, variables)
        secret_grads = tape.gradient(secret_loss, variables)
        if name == "reveal":
            assert all(g is None for g in cover_grads)
        else:
            assert all(g is not None and float(tf.norm(g)) > 0 for g in cover_grads)
        assert all(g is not None for g in secret_grads)


def test_container_noise_is_seeded_and_only_in_training(batch):
    a = StegoNet(StegoConfig(seed=3)).build_for(16)
    b = StegoNet(StegoConfig(seed=3)).build_for(16)
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a(batch)["revealed"], a(batch)["revealed"])
    np.testing.assert_array_equal(a(batch, training=True)["revealed"], b(batch, training=True)["revealed"])
    assert not np.array_equal(a(batch, training=True)["revealed"], a(batch)["revealed"])


def test_channel_rounds_to_8_bits_forward_and_passes_gradients_straight_through():
    channel = ContainerChannel(noise_std=0.0, quantize=True)
    x = tf.constant(np.random.default_rng(0).uniform(-0.1, 1.1, (1, 4, 4, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = channel(x, training=True)
        loss = tf.reduce_sum(y)
    stored = np.round(np.clip(x.numpy(), 0, 1) * 255) / 255
    np.testing.assert_allclose(y.numpy(), stored, atol=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), 1.0)  # the rounding is the identity backwards
    np.testing.assert_array_equal(channel(x, training=False).numpy(), x.numpy())


@pytest.mark.parametrize("variant", ["seed", "efficient", "invertible"])
def test_fit_applies_the_gradients_of_the_tape(batch, variant):
    """One fit step with plain SGD moves every weight by -lr x the tape's gradient: the two paths agree."""
    config = StegoConfig(**{**SMALL[variant].__dict__, "noise_std": 0.0, "quantize": variant != "seed"})
    seed_everything(0)
    model = make_hider(config).build_for(16)
    before = [v.numpy().copy() for v in model.trainable_variables]
    _, grads = tape_gradients(model, *batch, beta=0.75)
    lr = 0.1
    model.compile(optimizer=keras.optimizers.SGD(lr), loss={"container": "mse", "revealed": "mse"},
                  loss_weights={"container": 1.0, "revealed": 0.75}, jit_compile=False)
    model.fit(batch, {"container": batch[1], "revealed": batch[0]}, batch_size=2, epochs=1, shuffle=False, verbose=0)
    for v, b, g in zip(model.trainable_variables, before, grads):
        np.testing.assert_allclose(v.numpy(), b - lr * g.numpy(), rtol=1e-4, atol=1e-6)


def test_fit_learns_on_a_tiny_problem_and_keeps_the_best_weights(batch):
    seed_everything(0)
    model = make_hider(SMALL["efficient"]).build_for(16)
    secrets, covers = np.repeat(batch[0], 4, 0), np.repeat(batch[1], 4, 0)
    stream = PatchStream(secrets, covers, batch=4, steps=10, seed=0, augment=None)
    from utils.data import PairSet

    val = PairSet(batch[0], batch[1], np.array(["a", "b"]), np.array(["c", "d"]), np.zeros(2, int),
                  np.array(["ct", "ct"]), "val", "two pairs")
    history = fit_hider(model, stream, 60, val, learning_rate=3e-3, eval_every=20, verbose=False)
    first, best = history["curve"][0], max(history["curve"], key=lambda e: e["cover_psnr"] + e["secret_psnr"])
    assert best["secret_psnr"] > first["secret_psnr"] and history["best_step"] == best["step"]
    assert history["steps"] == 60 and history["pairs_per_second"] > 0 and len(history["frames"]) == 3
    assert np.mean([e["secret"] for e in history["losses"][-5:]]) < np.mean([e["secret"] for e in history["losses"][:5]])


def test_fit_stops_at_the_steps_asked_for_when_epochs_do_not_divide_them(batch):
    """A stream of 7 batches per epoch and 10 steps asked: 10 steps, not two full epochs (14)."""
    seed_everything(0)
    model = make_hider(SMALL["efficient"]).build_for(16)
    stream = PatchStream(np.repeat(batch[0], 4, 0), np.repeat(batch[1], 4, 0), batch=4, steps=7, seed=0, augment=None)
    from utils.data import PairSet

    val = PairSet(batch[0], batch[1], np.array(["a", "b"]), np.array(["c", "d"]), np.zeros(2, int),
                  np.array(["ct", "ct"]), "val", "two pairs")
    history = fit_hider(model, stream, 10, val, eval_every=5, verbose=False)
    assert history["steps"] == 10 and len(history["losses"]) == 10
    assert [e["step"] for e in history["curve"]] == [5, 10]


def test_tape_step_loop_lowers_the_loss(batch):
    seed_everything(0)
    model = StegoNet(StegoConfig("seed", 8, 2)).build_for(16)
    data = TrainingData(np.repeat(batch[0], 4, 0), np.repeat(batch[1], 4, 0))
    history = run_steps(make_train_step(model, keras.optimizers.Adam(1e-3)), data, steps=40, batch=4, progress=False)
    assert np.mean(history["total"][-5:]) < 0.5 * np.mean(history["total"][:5])
    assert history["images_per_second"] > 0


def test_invertible_hider_is_exact_when_nothing_is_lost(batch):
    """Revealing runs the coupling blocks backwards: with the lost part kept, the secret returns exactly."""
    model = InvertibleHider(SMALL["invertible"]).build_for(16)
    rng = np.random.default_rng(1)
    for w in model.weights:  # random weights: exactness must not depend on training
        if w.trainable:
            w.assign(rng.normal(0, 0.05, w.shape).astype(np.float32))
    from utils.layers.wavelets import inverse_haar

    y1, y2 = model.forward_bands(*batch)
    _, secret_bands = model.couplings((y1, y2), reverse=True)
    np.testing.assert_allclose(np.asarray(inverse_haar(secret_bands)), batch[0], atol=1e-5)
    assert float(np.abs(np.asarray(y2)).max()) > 1e-3  # something is lost when y2 is dropped


def test_hand_written_gradients_match_the_tape_in_float64():
    assert gradient_check() < 1e-6
    assert gradient_check(filters=3, depth=3, size=7, batch=1, seed=5) < 1e-6


def test_manual_forward_is_the_keras_model(batch):
    model = StegoNet(StegoConfig()).build_for(16)
    manual, _ = forward(params_of(model), *batch)
    keras_out = {**model(batch), "prep": model.prep(batch[0])}
    assert set(manual) == {"prep", "container", "revealed"}
    for key in manual:
        np.testing.assert_allclose(manual[key], keras_out[key], atol=1e-6)


def test_manual_training_lowers_the_loss_and_dilated_differs(batch):
    data = TrainingData(np.repeat(batch[0], 4, 0), np.repeat(batch[1], 4, 0))
    results = {}
    for label, options in {"plain": {}, "dense, small lambda": {"mode": "dense", "rate": 0.01, "decay": 0.0},
                           "dense, seed setting": {"mode": "dense"}}.items():
        seed_everything(0)
        model = StegoNet(StegoConfig()).build_for(16)
        history = ManualTrainer(model, **options).train(data, steps=30, batch=4, progress=False)
        results[label] = history["total"]
    for label in ("plain", "dense, small lambda"):
        assert np.mean(results[label][-5:]) < np.mean(results[label][:5]), label
    assert results["plain"][-1] != results["dense, seed setting"][-1]


def test_dilated_gradients_are_not_the_true_gradients(batch):
    model = StegoNet(StegoConfig()).build_for(16)
    params = params_of(model)
    _, _, _, plain = loss_and_grads(params, *batch)
    _, _, _, dilated = loss_and_grads(params, *batch, lam=tf.constant(1.0), mode="sparse")
    plain, dilated = _flat(plain), _flat(dilated)
    # output layers are untouched; hidden layers below the top two change
    np.testing.assert_array_equal(plain[-2], dilated[-2])
    assert not np.allclose(plain[0], dilated[0])


def test_bad_inputs_are_refused():
    model = StegoNet(StegoConfig()).build_for(8)
    good = np.zeros((1, 8, 8, 3), np.float32)
    with pytest.raises(ValueError, match="NHWC"):
        model.hide(good[0], good)
    with pytest.raises(TypeError, match="divide uint8"):
        model.hide(good.astype(np.uint8), good)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.reveal(good + 2)
    with pytest.raises(ValueError, match="variant"):
        StegoConfig(variant="huge")
    with pytest.raises(FileNotFoundError, match="no pretrained hider 'nope'"):
        load_pretrained("nope")


@pytest.mark.slow  # over 10 s: left out of the quick lane (make quick)
@pytest.mark.parametrize("name", available_pretrained())
def test_shipped_hider_matches_its_card_on_the_test_pairs(name):
    from utils.data import pair_set

    model = load_pretrained(name)
    card = model.card
    for key in ("command", "date", "machine", "backend", "image_size", "steps", "wall_time_minutes",
                "pairs_per_second", "curve", "test"):
        assert key in card, key
    test = pair_set("test", card["secrets"], card["image_size"], channels=card["config"]["secret_channels"])
    assert test.description == card["test"]["description"]
    result = evaluate(model, test, intervals=False)["means"]
    for key in ("cover_psnr", "secret_psnr"):
        assert result[key] == pytest.approx(card["test"]["rows"]["this model"][key]["mean"], abs=0.05)


def test_transfer_weights_turns_a_colour_model_into_the_same_grey_function(batch):
    seed_everything(0)
    colour = StegoNet(StegoConfig(secret_channels=3)).build_for(16)
    grey = StegoNet(StegoConfig(secret_channels=1, seed=5)).build_for(16)
    secret = batch[0][..., :1]
    assert not np.allclose(colour.hide(np.repeat(secret, 3, -1), batch[1]), grey.hide(secret, batch[1]), atol=1e-3)
    transfer_weights(colour, grey)
    container = colour.hide(np.repeat(secret, 3, -1), batch[1])
    np.testing.assert_allclose(grey.hide(secret, batch[1]), container, atol=1e-5)
    np.testing.assert_allclose(np.asarray(grey.reveal_net(container)),
                               np.asarray(colour.reveal_net(container)).mean(-1, keepdims=True), atol=1e-5)
    back = transfer_weights(grey, StegoNet(StegoConfig(secret_channels=3)).build_for(16))  # and 1 -> 3
    np.testing.assert_allclose(back.hide(np.repeat(secret, 3, -1), batch[1]), container, atol=1e-5)
    with pytest.raises(ValueError, match="same variant"):
        transfer_weights(colour, StegoNet(StegoConfig(variant="branched")).build_for(16))


def test_transfer_weights_for_the_efficient_hider(batch):
    seed_everything(0)
    colour = EfficientHider(StegoConfig("efficient", 8, 2, secret_channels=3)).build_for(16)
    rng = np.random.default_rng(2)
    for w in colour.trainable_variables:
        w.assign(rng.normal(0, 0.05, w.shape).astype(np.float32))
    grey = transfer_weights(colour, EfficientHider(StegoConfig("efficient", 8, 2, secret_channels=1)).build_for(16))
    secret = batch[0][..., :1]
    container = colour.hide(np.repeat(secret, 3, -1), batch[1])
    np.testing.assert_allclose(grey.hide(secret, batch[1]), container, atol=1e-5)
    np.testing.assert_allclose(np.asarray(grey.decode(container)),
                               np.asarray(colour.decode(container)).mean(-1, keepdims=True), atol=1e-5)


def test_reveal_network_has_the_models_reveal_architecture():
    net = reveal_network(StegoConfig(secret_channels=1), size=16)
    model = StegoNet(StegoConfig(secret_channels=1)).build_for(16)
    assert [tuple(v.shape) for v in net.weights] == [tuple(v.shape) for v in model.networks["reveal"]]


def test_cli_exports_patches_and_trains_from_them_with_a_card(tmp_path):
    """The GPU path: patches exported here as one .npz (no DICOM reader needed there) train a hider."""
    import json

    from utils.hiding.__main__ import main

    npz = tmp_path / "patches.npz"
    assert main(["--secrets", "medical", "--size", "16", "--export-npz", str(npz), "--export-n", "64"]) == 0
    data = np.load(npz)
    assert data["train_secrets"].shape == (64, 16, 16, 1) and data["val_covers"].shape == (64, 16, 16, 3)
    out = tmp_path / "model"
    assert main(["--variant", "efficient", "--secrets", "medical", "--size", "16", "--filters", "8", "--depth", "1",
                 "--steps", "4", "--batch", "4", "--eval-every", "2", "--npz", str(npz), "--out", str(out)]) == 0
    card = json.loads((out / "model_card.json").read_text())
    assert card["steps"] == 4 and card["backend"] == "tensorflow" and "exported patches" in card["data"]
    assert (out / "model.weights.h5").exists() and "Command" in (out / "README.md").read_text()
