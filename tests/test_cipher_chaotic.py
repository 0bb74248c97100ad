"""Notebook 06: chaotic maps, the classic ``chaotic`` cipher, the ``bp_chaotic`` reading, the key-stream attack."""

import numpy as np
import pytest

from utils import metrics
from utils.ciphers import bp_chaotic, chaos, chaotic
from utils.ciphers import bp_network as bn
from utils.ciphers import keystream_attack as ka
from utils.ciphers.evaluation import as_uint8

#: The floor the shipped bp_chaotic model must clear on test images (mean PSNR, dB, 8-bit).
BP_PSNR_FLOOR = 35.0


@pytest.fixture(scope="module")
def test_images():
    from utils.data import image_set

    return image_set("test", size=64, n=64)


@pytest.fixture(scope="module")
def bp():
    return bp_chaotic.load()


# ------------------------------------------------------------------------------------------------------
# maps and streams
# ------------------------------------------------------------------------------------------------------

def test_streams_are_the_same_bit_for_bit_and_uniform():
    key = chaos.MapKey()
    # golden bytes of the demonstration key: the receiver must regenerate them exactly, on any machine
    assert key.logistic_stream(12).tolist() == [171, 5, 221, 130, 108, 184, 135, 176, 35, 45, 87, 70]
    assert key.henon_stream(12).tolist() == [72, 179, 19, 56, 66, 203, 252, 177, 190, 201, 52, 215]
    assert key.henon_permutation(4096)[:4].tolist() == [3455, 1159, 1657, 308]
    # parallel orbits (lanes) give the same bits as a single orbit
    lanes = chaos.logistic_orbit(np.array([key.logistic_x0, 0.2]), np.array([key.logistic_r, 3.9]), 200, 50)
    np.testing.assert_array_equal(lanes[:, 0], chaos.logistic_orbit(key.logistic_x0, key.logistic_r, 200, 50))
    xs, _ = chaos.henon_orbit(np.array([0.1, 0.3]), 0.1, 1.4, 0.3, 200, 50)
    np.testing.assert_array_equal(xs[:, 0], chaos.henon_orbit(0.1, 0.1, 1.4, 0.3, 200, 50)[0])
    for stream in (key.logistic_stream(65536), key.henon_stream(65536)):
        assert metrics.chi_square(stream.reshape(256, 256))["pass"]


@pytest.mark.parametrize("field", ["logistic_x0", "logistic_r", "henon_x0", "henon_y0"])
def test_a_change_of_1e_15_in_the_key_gives_another_stream(field):
    key = chaos.MapKey()
    other = key.replace(**{field: getattr(key, field) + 1e-15})
    assert getattr(other, field) != getattr(key, field), "1e-15 must be representable at this value"
    stream = key.logistic_stream if field.startswith("logistic") else key.henon_stream
    changed = other.logistic_stream if field.startswith("logistic") else other.henon_stream
    assert np.mean(stream(4096) != changed(4096)) > 0.99  # 255/256 expected for unrelated streams


def test_cat_map_is_a_bijection_with_the_known_periods():
    for n, period in ((5, 10), (7, 8), (10, 30), (64, 48)):  # periods of Arnold's cat map (p = q = 1)
        one = chaos.cat_map_permutation(n, 1, 1, 1)
        assert np.array_equal(np.sort(one), np.arange(n * n))
        assert np.array_equal(chaos.cat_map_permutation(n, 1, 1, period), np.arange(n * n))
        assert not any(np.array_equal(chaos.cat_map_permutation(n, 1, 1, r), np.arange(n * n)) for r in range(1, period))


# ------------------------------------------------------------------------------------------------------
# the classic cipher
# ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stream", chaotic.STREAMS)
@pytest.mark.parametrize("size", [8, 33, 64])
def test_classic_round_trip_is_exact(stream, size):
    cipher = chaotic.load(stream=stream)
    rng = np.random.default_rng(size)
    images = rng.integers(0, 256, (3, size, size)).astype(np.float32) / 255.0
    ct = cipher.encrypt(images)
    assert ct.dtype == np.uint8 and ct.shape == images.shape
    np.testing.assert_array_equal(as_uint8(cipher.decrypt(ct)), as_uint8(images))
    assert np.mean(ct == as_uint8(images)) < 0.05


def test_classic_cipher_on_test_images_exact_and_statistically_random(test_images):
    from utils.ciphers import evaluation as ev

    cipher = chaotic.load()
    assert ev.reconstruction(cipher, test_images)["exact"].mean == 1.0
    stats = ev.cipher_statistics(cipher, test_images)
    assert stats["entropy"].mean > 7.9 and stats["chi_square_pass"].mean > 0.8
    assert abs(stats["correlation_horizontal"].mean) < 0.05


def test_refusals_name_the_problem(bp):
    square = np.zeros((1, 32, 32), np.float32)
    with pytest.raises(ValueError, match="square"):
        chaotic.load().encrypt(np.zeros((1, 32, 40), np.float32))
    with pytest.raises(ValueError, match="multiples of 4"):
        bp.encrypt(np.zeros((1, 30, 30), np.float32))
    with pytest.raises(TypeError, match="divide by 255"):
        chaotic.load().encrypt(square.astype(np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        chaotic.load().decrypt(square)
    with pytest.raises(TypeError, match="uint8"):
        bp.decrypt(np.zeros((1, 32, 32), np.uint16))
    with pytest.raises(ValueError, match="chaotic range"):
        chaos.MapKey(logistic_r=3.2)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        chaos.MapKey(logistic_x0=1.5)
    with pytest.raises(ValueError, match="stream must be one of"):
        chaotic.ChaoticKey(stream="lorenz")
    with pytest.raises(ValueError, match="positive integer"):
        chaotic.ChaoticKey(cat_rounds=0)
    with pytest.raises(TypeError, match="unknown key field"):
        chaotic.load().with_key({"x0": 0.2})
    with pytest.raises(ValueError, match="escapes to infinity"):
        chaotic.load(stream="henon", henon_a=3.0).encrypt(square)
    with pytest.raises(ValueError, match="periodic"):
        chaos.logistic_stream(0.5, 4.0, 256)  # 0.5 -> 1 -> 0 -> 0 ...


def test_a_key_changed_by_1e_15_decrypts_to_noise(test_images, bp):
    images = test_images.images[:16]
    for cipher in (chaotic.load(), chaotic.load(stream="henon"), bp):
        field = "henon_x0" if getattr(cipher.key, "stream", "") == "henon" else "logistic_x0"
        wrong = cipher.with_key({field: getattr(cipher.key, field) + 1e-15})
        back = as_uint8(wrong.decrypt(cipher.encrypt(images)))
        assert np.mean([metrics.psnr(a, b) for a, b in zip(as_uint8(images), back)]) < 12
    wrong_shuffle = bp.with_key({"henon_y0": bp.key.henon_y0 + 1e-15})  # the Henon map shuffles bp_chaotic
    assert not np.array_equal(wrong_shuffle.permutation((64, 64)), bp.permutation((64, 64)))


def test_fixed_key_stream_fails_the_avalanche_test(test_images):
    from utils.ciphers import evaluation as ev

    aval = ev.avalanche(chaotic.load(), test_images)
    assert aval["npcr"].mean == pytest.approx(100 / 4096)  # one pixel in, one pixel out
    assert aval["npcr_pass"].mean == 0.0


# ------------------------------------------------------------------------------------------------------
# bp_chaotic: the network and the cipher
# ------------------------------------------------------------------------------------------------------

def test_hand_written_gradients_equal_autodiff():
    check = bn.gradient_check(hidden=8, batch=6, lam=0.3)
    assert check["tensors"] == 12
    assert check["max_relative_error"] < 1e-10
    assert check["loss_by_hand"] == pytest.approx(check["loss_autodiff"], rel=1e-12)


def test_the_network_learns_with_hand_written_back_propagation():
    rng = np.random.default_rng(0)
    ramps = np.clip(rng.random((4000, 1)) + np.linspace(0, 0.3, 16)[None] * rng.normal(size=(4000, 1)), 0, 1)
    params = bn.init_params(16, seed=0)
    history = bn.train(params, ramps.astype(np.float32), steps=300, batch=128, learning_rate=5e-3, lam=0.1,
                       log_every=10)
    assert history["mse"][-1] < 0.3 * history["mse"][0]


def test_bp_blocks_round_trip():
    x = np.arange(2 * 8 * 12).reshape(2, 8, 12)
    np.testing.assert_array_equal(bn.from_blocks(bn.to_blocks(x), x.shape), x)
    assert bn.to_blocks(x)[0].tolist() == [0, 1, 2, 3, 12, 13, 14, 15, 24, 25, 26, 27, 36, 37, 38, 39]


def test_bp_chaotic_decrypts_test_images_above_the_floor(test_images, bp):
    ct = bp.encrypt(test_images.images)
    assert ct.dtype == np.uint8 and ct.shape == test_images.images.shape
    back = as_uint8(bp.decrypt(ct))
    psnr = np.minimum([metrics.psnr(a, b) for a, b in zip(as_uint8(test_images.images), back)], 100)
    assert psnr.mean() >= BP_PSNR_FLOOR, f"mean test PSNR {psnr.mean():.2f} dB below the floor {BP_PSNR_FLOOR}"
    assert metrics.entropy(ct) > 7.99
    assert bp.card["test_metrics"]["psnr"]["mean"] >= BP_PSNR_FLOOR


# ------------------------------------------------------------------------------------------------------
# the key-stream attack
# ------------------------------------------------------------------------------------------------------

def test_pairs_needed_is_one_plus_the_base_256_digits_of_the_pixel_count():
    assert [ka.pairs_needed(s) for s in ((1, 1), (16, 16), (64, 64), (256, 256), (257, 257), (512, 512))] == \
        [1, 2, 3, 3, 4, 4]


def test_attack_breaks_the_classic_cipher_with_3_chosen_pairs_not_2(test_images):
    cipher = chaotic.load()
    chosen = ka.designed_plaintexts((64, 64)).astype(np.float32) / 255.0
    assert len(chosen) == 3
    recovered = ka.recover_keystream(cipher.public_codes(chosen), cipher.encrypt(chosen))
    assert recovered.complete
    np.testing.assert_array_equal(recovered.stream, cipher.keystream((64, 64)).ravel())
    np.testing.assert_array_equal(recovered.perm, cipher.key.permutation(64))
    got = ka.decrypt_with(recovered, cipher.encrypt(test_images.images))
    np.testing.assert_array_equal(got, as_uint8(test_images.images))
    fewer = ka.recover_keystream(cipher.public_codes(chosen[:2]), cipher.encrypt(chosen[:2]))
    assert fewer.ambiguous == 4096  # every signature shared by 16 positions (4096 / 256)
    assert not np.array_equal(ka.decrypt_with(fewer, cipher.encrypt(test_images.images)), as_uint8(test_images.images))


def test_attack_breaks_bp_chaotic_with_3_searched_chosen_pairs(test_images, bp):
    chosen = ka.searched_plaintexts(bp, (64, 64), seed=0)
    assert len(chosen) == 3
    recovered = ka.recover_keystream(bp.public_codes(chosen), bp.encrypt(chosen))
    assert recovered.complete
    np.testing.assert_array_equal(recovered.stream, bp.keystream((64, 64)).ravel())
    ct = bp.encrypt(test_images.images)
    np.testing.assert_array_equal(bp.decode_codes(ka.decrypt_with(recovered, ct)), bp.decrypt(ct))
    with pytest.raises(RuntimeError, match="k >= 3"):
        ka.searched_plaintexts(bp, (64, 64), k=2, max_rounds=3)


def test_attack_refuses_pairs_of_different_keys():
    cipher = chaotic.load()
    chosen = ka.designed_plaintexts((16, 16)).astype(np.float32) / 255.0
    other = cipher.with_key({"logistic_x0": 0.25})
    mixed = np.concatenate([cipher.encrypt(chosen[:1]), other.encrypt(chosen[1:])])
    with pytest.raises(ValueError, match="do not come from one permutation"):
        ka.recover_keystream(cipher.public_codes(chosen), mixed)


@pytest.mark.slow  # over 10 s: left out of the quick lane (make quick)
def test_other_key_and_dedicated_attack_for_the_benchmark(test_images, bp):
    from utils.ciphers.attacks import attacker_images

    known = attacker_images(64, 16, seed=0)
    for cipher in (chaotic.load(), bp):
        ct = cipher.encrypt(test_images.images)
        other = cipher.other_key()
        assert other.key != cipher.key
        assert np.mean([metrics.psnr(a, b) for a, b in zip(as_uint8(test_images.images), as_uint8(other.decrypt(ct)))]) < 12
        assert cipher.dedicated_attack(known[:0], ct) is None
        np.testing.assert_array_equal(cipher.dedicated_attack(known, ct), cipher.decrypt(ct))  # 16 known pairs
        if cipher.name == "chaotic":  # its permutation is a cat map: 2 known pairs suffice
            assert cipher.dedicated_attack(known[:1], ct) is None
            np.testing.assert_array_equal(cipher.dedicated_attack(known[:2], ct), cipher.decrypt(ct))
        with pytest.raises(ValueError, match="depends on the size"):
            cipher.dedicated_attack(known[:, :32, :32], ct)


@pytest.mark.parametrize("p, q, rounds", [(5, 11, 7), (1, 1, 1), (63, 2, 30)])
def test_cat_map_search_finds_the_map_from_two_known_pairs(p, q, rounds):
    from utils.ciphers.attacks import attacker_images

    cipher = chaotic.load(cat_p=p, cat_q=q, cat_rounds=rounds)
    known = attacker_images(64, 2, seed=3)
    found = ka.cat_map_search(cipher.public_codes(known), cipher.encrypt(known))
    assert found.candidates == 1 and found.key.complete
    np.testing.assert_array_equal(found.key.perm, cipher.key.permutation(64))
    np.testing.assert_array_equal(found.key.stream, cipher.keystream((64, 64)).ravel())
    assert 2 ** 16 < found.tested < 64 * 64 * 96 and 16 < found.key_space_bits < 18  # the whole space, about 2^17


def test_cat_map_search_finds_nothing_for_a_permutation_that_is_no_cat_map():
    from utils.ciphers.attacks import attacker_images

    cipher = chaotic.load()
    known = attacker_images(32, 2, seed=4)
    codes = cipher.public_codes(known)
    shuffle = np.random.default_rng(0).permutation(32 * 32)
    stream = cipher.keystream((32, 32)).ravel()
    ct = (codes.reshape(2, -1)[:, shuffle] ^ stream).reshape(codes.shape)
    found = ka.cat_map_search(codes, ct)
    assert found.key is None and found.candidates == 0 and found.tested > 32 * 32
    with pytest.raises(ValueError, match="k >= 2 pairs of square"):
        ka.cat_map_search(codes[:1], ct[:1])
    with pytest.raises(TypeError, match="uint8"):
        ka.cat_map_search(codes.astype(np.float32), ct)
