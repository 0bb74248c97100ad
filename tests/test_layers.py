"""utils.layers: the wavelets are orthonormal and exactly invertible, the couplings invert whatever their
weights and report the log-determinant of their Jacobian, the blocks serialise, and a network built at one
size runs at another with the same weights."""

import keras
import numpy as np
import pytest

from utils.layers.blocks import ResidualBlock, any_size, resnet_generator, run_image_network
from utils.layers.coupling import AffineCoupling, CouplingStack, Subnet
from utils.layers.wavelets import Haar, InverseHaar, depth_to_space, haar, inverse_haar, space_to_depth


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _randomise(layer, seed=1, scale=0.3):
    rng = np.random.default_rng(seed)
    for v in layer.weights:
        v.assign(rng.normal(0.0, scale, v.shape).astype(np.float32))


def test_haar_is_orthonormal_exactly_invertible_and_its_ll_band_is_twice_the_block_mean():
    x = _x((2, 8, 6, 3))
    y = np.asarray(haar(x))
    assert y.shape == (2, 4, 3, 12)
    np.testing.assert_allclose(np.sum(y ** 2), np.sum(x ** 2), rtol=1e-5)  # energy kept
    np.testing.assert_allclose(np.asarray(inverse_haar(y)), x, atol=1e-5)
    block_mean = x.reshape(2, 4, 2, 3, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(y[..., :3], 2 * block_mean, atol=1e-5)
    # orthonormal: the matrix of the transform on one 2x2 block times its transpose is the identity
    basis = np.eye(4, dtype=np.float32).reshape(4, 2, 2, 1)
    m = np.asarray(haar(basis)).reshape(4, 4)
    np.testing.assert_allclose(m @ m.T, np.eye(4), atol=1e-6)
    np.testing.assert_allclose(np.asarray(InverseHaar()(Haar()(x))), x, atol=1e-5)


def test_space_to_depth_round_trips_and_refuses_odd_sides():
    x = _x((1, 6, 4, 2))
    np.testing.assert_array_equal(np.asarray(depth_to_space(space_to_depth(x))), x)
    with pytest.raises(ValueError, match="multiples of 2"):
        space_to_depth(_x((1, 5, 4, 1)))


def test_coupling_inverts_exactly_whatever_its_weights_and_starts_as_the_identity():
    block = AffineCoupling(2, 3, width=8, clamp=2.0)
    a, b = _x((2, 8, 8, 2), 3), _x((2, 8, 8, 3), 4)
    y1, y2 = block((a, b))
    np.testing.assert_allclose(np.asarray(y1), a, atol=1e-6)  # zero-initialised outputs: the identity
    np.testing.assert_allclose(np.asarray(y2), b, atol=1e-6)
    _randomise(block)
    y1, y2 = block((a, b))
    assert np.abs(np.asarray(y2) - b).max() > 0.1, "random weights change the input"
    x1, x2 = block((y1, y2), reverse=True)
    np.testing.assert_allclose(np.asarray(x1), a, atol=1e-4)
    np.testing.assert_allclose(np.asarray(x2), b, atol=1e-4)
    stack = CouplingStack(2, 3, blocks=3, width=8)
    _randomise(stack, seed=5, scale=0.2)
    x1, x2 = stack(stack((a, b)), reverse=True)
    np.testing.assert_allclose(np.asarray(x1), a, atol=1e-4)
    np.testing.assert_allclose(np.asarray(x2), b, atol=1e-4)


def test_coupling_log_determinant_matches_the_numerical_jacobian():
    """On a tiny input (1x2x2 pixels, 1+1 channels: 8 numbers) the Jacobian of the forward map is built by
    central differences in float64 terms; its log |det| is what log_det reports."""
    block = AffineCoupling(1, 1, width=4, clamp=2.0)
    a, b = _x((1, 2, 2, 1), 6), _x((1, 2, 2, 1), 7)
    block((a, b))
    _randomise(block, seed=8, scale=0.5)
    flat = np.concatenate([a.ravel(), b.ravel()]).astype(np.float64)

    def forward(v):
        y1, y2 = block((v[:4].reshape(a.shape).astype(np.float32), v[4:].reshape(b.shape).astype(np.float32)))
        return np.concatenate([np.asarray(y1).ravel(), np.asarray(y2).ravel()]).astype(np.float64)

    eps = 1e-3
    jac = np.stack([(forward(flat + eps * e) - forward(flat - eps * e)) / (2 * eps) for e in np.eye(8)], axis=1)
    y1, _ = block((a, b))
    reported = float(np.asarray(block.log_det(y1))[0])
    assert abs(reported) > 0.01, "a non-trivial scale"
    assert np.log(abs(np.linalg.det(jac))) == pytest.approx(reported, abs=2e-2)


def test_blocks_serialise_and_come_back_with_the_same_outputs(tmp_path):
    inputs = keras.Input((8, 8, 2))
    x = ResidualBlock(2, norm=True)(inputs)
    y = Subnet(2, width=4)(x)
    model = keras.Model(inputs, InverseHaar()(Haar()(y)))
    for layer in model.layers:
        _randomise(layer, seed=9, scale=0.2)
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.models.load_model(path)
    data = _x((2, 8, 8, 2), 10)
    np.testing.assert_allclose(np.asarray(again(data)), np.asarray(model(data)), atol=1e-6)
    config = AffineCoupling(2, 3, width=8, clamp=1.5).get_config()
    rebuilt = AffineCoupling.from_config(config)
    assert (rebuilt.channels1, rebuilt.channels2, rebuilt.width, rebuilt.clamp) == (2, 3, 8, 1.5)


def test_a_generator_built_at_one_size_runs_at_any_size_with_its_own_weights():
    net = resnet_generator(1, 1, width=4, blocks=1, size=16)
    images = np.random.default_rng(11).random((3, 16, 16)).astype(np.float32)
    np.testing.assert_array_equal(run_image_network(net, images), np.asarray(net(images[..., None]))[..., 0])
    with pytest.raises(ValueError):
        net(np.zeros((1, 32, 24, 1), np.float32))  # the functional model keeps its input shape
    twin = any_size(net)
    assert any_size(net) is twin and any_size(twin) is twin, "cached; already free-size"
    big = np.random.default_rng(12).random((2, 32, 24)).astype(np.float32)
    out = run_image_network(net, big)
    assert out.shape == (2, 32, 24)
    np.testing.assert_allclose(run_image_network(net, images), np.asarray(twin(images[..., None]))[..., 0], atol=1e-6)
    _randomise(net, seed=13, scale=0.1)  # the twin shares the layers: new weights show at every size
    np.testing.assert_allclose(np.asarray(twin(images[..., None])), np.asarray(net(images[..., None])), atol=1e-6)
