"""utils.cards: every shipped model is the file its card describes, and reloads; a changed file is refused."""

import json
import shutil

import pytest

from utils.cards import PRETRAINED_DIR, WeightsMismatchError, model_folder, read_card, record_files, weights_files

SHIPPED = sorted(p.parent.name for p in PRETRAINED_DIR.glob("*/model_card.json"))


def _loader(name):
    if name.startswith("hider"):
        from utils.hiding.pretrained import load_pretrained
    elif name.startswith("deepedn"):
        from utils.ciphers.deepedn import load_pretrained
    elif name.startswith("saae"):
        from utils.ciphers.saae import load_model as load_pretrained
    elif name.startswith("invertible"):
        from utils.ciphers.invertible import load_pretrained
    elif name.startswith("bp_chaotic"):
        from utils.ciphers.bp_chaotic import load_pretrained
    else:
        raise AssertionError(f"{name}: a shipped model of no known family")
    return load_pretrained


def test_every_family_ships_models():
    assert len(SHIPPED) >= 12 and {n.split("_")[0] for n in SHIPPED} >= {"hider", "deepedn", "saae", "invertible", "bp"}


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_model_matches_its_card_and_reloads(name):
    folder = PRETRAINED_DIR / name
    card = read_card(folder)  # raises on a checksum mismatch
    assert set(card["files"]) == {p.name for p in weights_files(folder)}, "a weights file the card does not list"
    assert card["command"] and card["date"] and card["machine"]
    _loader(name)(name)


def test_a_changed_weights_file_is_refused_by_name(tmp_path):
    copy = tmp_path / "invertible_copy"
    shutil.copytree(PRETRAINED_DIR / "invertible_64", copy)
    _loader("invertible")(copy)  # the intact copy loads
    data = bytearray((copy / "model.weights.h5").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte inside the weights
    (copy / "model.weights.h5").write_bytes(bytes(data))
    with pytest.raises(WeightsMismatchError, match=r"invertible_copy/model\.weights\.h5: SHA-256 .* not the card's"):
        _loader("invertible")(copy)
    (copy / "model.weights.h5").unlink()
    with pytest.raises(WeightsMismatchError, match="missing"):
        read_card(copy)


def test_record_files_lists_every_weights_file(tmp_path):
    (tmp_path / "a.weights.h5").write_bytes(b"abc")
    (tmp_path / "b.npz").write_bytes(b"")
    card = record_files(tmp_path, {"command": "x"})
    assert card["files"] == {"a.weights.h5": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                             "b.npz": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    assert read_card(tmp_path)["command"] == "x"


def test_an_unknown_model_lists_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match=r"no pretrained SAAE model 'saae_9'.*saae_64, saae_64_seed1.*train one"):
        model_folder("saae_9", family="SAAE model", prefix="saae", train="python -m utils.ciphers.saae")
