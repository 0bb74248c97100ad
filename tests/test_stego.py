"""utils.hiding.stego and utils.hiding.manual_backprop: shapes, gradient flow, learning, the gradient check, pretrained model."""

import numpy as np
import pytest
import tensorflow as tf

from utils.hiding.manual_backprop import ManualTrainer, _flat, forward, gradient_check, loss_and_grads, params_of
from utils.runtime import seed_everything
from utils.hiding.stego import (StegoConfig, StegoNet, TrainingData, evaluate, load_pretrained, reveal_network,
                         stego_losses, train, transfer_weights)


@pytest.fixture
def batch():
    seed_everything(0)
    rng = np.random.default_rng(0)
    return rng.random((2, 16, 16, 3)).astype(np.float32), rng.random((2, 16, 16, 3)).astype(np.float32)


@pytest.mark.parametrize("variant, params", [("seed", 518_159), ("branched", None)])
def test_shapes_and_parameter_count(batch, variant, params):
    model = StegoNet(StegoConfig(variant=variant)).build_for(16)
    out = model(batch)
    assert {k: tuple(v.shape) for k, v in out.items()} == {k: (2, 16, 16, 3) for k in ("prep", "container", "revealed")}
    if params:
        assert model.count_params() == params
    else:
        assert model.count_params() > 2.5 * 518_159
    assert model.hide(*batch).shape == (2, 16, 16, 3)
    assert 0 <= model.reveal(model.hide(*batch)).min()


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


def test_a_short_overfit_lowers_the_loss(batch):
    seed_everything(0)
    model = StegoNet(StegoConfig()).build_for(16)
    data = TrainingData(np.repeat(batch[0], 4, 0), np.repeat(batch[1], 4, 0))
    history = train(model, data, steps=40, batch=4, progress=False)
    assert np.mean(history["total"][-5:]) < 0.5 * np.mean(history["total"][:5])
    assert history["images_per_second"] > 0


def test_hand_written_gradients_match_the_tape_in_float64():
    assert gradient_check() < 1e-6
    assert gradient_check(filters=3, depth=3, size=7, batch=1, seed=5) < 1e-6


def test_manual_forward_is_the_keras_model(batch):
    model = StegoNet(StegoConfig()).build_for(16)
    manual, _ = forward(params_of(model), *batch)
    keras_out = model(batch)
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
    with pytest.raises(FileNotFoundError, match="no pretrained model 'nope'"):
        load_pretrained("nope")


@pytest.mark.parametrize("name", ["stego_natural_64", "stego_medical_grey_64"])
def test_pretrained_model_matches_its_card(name):
    from utils.data import heldout_pairs

    model = load_pretrained(name)
    card = model.card
    for key in ("command", "date", "machine", "image_size", "steps", "wall_time_minutes", "heldout_metrics"):
        assert key in card
    pairs = heldout_pairs(size=card["image_size"], n=16, secrets=card.get("secrets", "natural"),
                          channels=card["config"]["secret_channels"])
    result = evaluate(model, *pairs)
    for key in ("cover_psnr", "secret_psnr"):
        assert result[key] == pytest.approx(card["heldout_metrics"][key], abs=0.05)


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


def test_reveal_network_has_the_models_reveal_architecture():
    net = reveal_network(StegoConfig(secret_channels=1), size=16)
    model = StegoNet(StegoConfig(secret_channels=1)).build_for(16)
    assert [tuple(v.shape) for v in net.weights] == [tuple(v.shape) for v in model.networks["reveal"]]
