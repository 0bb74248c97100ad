"""Command lines made from the configuration dataclasses (utils.configs), and the shipped cards' commands."""

import argparse
import importlib
import json
import shlex
from dataclasses import asdict, dataclass

import pytest

from utils.cards import PRETRAINED_DIR
from utils.configs import add_config_arguments, config_from_args, field_help


@dataclass
class _Config:
    """A configuration.

    Attributes:
        size: the side. More words that the help leaves out.
        left, right: two fields that share a text,
            written over two lines.
        lam: a weight (none: the size).
        norm: a switch.
    """

    size: int = 64
    left: int = 1
    right: float = 0.5
    lam: float | None = 1.0
    norm: bool = False
    name: str = "x"


@dataclass
class _Percent:
    """A field whose help holds a per cent sign (argparse formats help text with %).

    Attributes:
        share: a share in % of the pixels.
    """

    share: float = 99.6


def test_every_field_becomes_an_option_with_its_type_default_and_help():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, _Config, flags={"size": "--side"}, choices={"name": ["x", "y"]})
    assert config_from_args(_Config, parser.parse_args([])) == _Config()
    args = parser.parse_args(["--side", "32", "--right", "2", "--lam", "none", "--norm", "--name", "y"])
    assert config_from_args(_Config, args) == _Config(size=32, right=2.0, lam=None, norm=True, name="y")
    assert config_from_args(_Config, parser.parse_args(["--no-norm"]), left=5) == _Config(left=5)
    with pytest.raises(SystemExit):
        parser.parse_args(["--name", "z"])  # not among the choices
    helps = field_help(_Config)
    assert helps["size"] == "the side" and helps["left"] == helps["right"] == "two fields that share a text, written over two lines"
    assert "_Config.size" in parser.format_help() and "--no-norm" in parser.format_help()


def test_options_the_command_skips_keep_their_defaults_and_unknown_fields_are_refused():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, _Config, skip=("lam",))
    assert "--lam" not in parser.format_help() and config_from_args(_Config, parser.parse_args([])).lam == 1.0
    with pytest.raises(ValueError, match=r"has no field\(s\) \['sise'\]"):
        add_config_arguments(argparse.ArgumentParser(), _Config, flags={"sise": "--s"})
    with pytest.raises(TypeError, match="must be a dataclass"):
        add_config_arguments(argparse.ArgumentParser(), dict)

    @dataclass
    class Listed:
        values: list = None

    with pytest.raises(TypeError, match="int, float, str, bool"):
        add_config_arguments(argparse.ArgumentParser(), Listed)

    @dataclass
    class NoDefault:
        steps: int

    with pytest.raises(TypeError, match="has no default"):
        add_config_arguments(argparse.ArgumentParser(), NoDefault)

    parser = argparse.ArgumentParser()
    add_config_arguments(parser, _Percent)
    assert "in % of the pixels" in parser.format_help()


_CONFIGS = {"saae": "SAAEConfig", "deepedn": "DeepEDNConfig", "invertible": "InvertibleConfig"}
_CIPHER_CARDS = sorted(path.parent.name for path in PRETRAINED_DIR.glob("*/model_card.json")
                       if shlex.split(json.loads(path.read_text())["command"])[2].split(".")[-1] in _CONFIGS)


def test_the_cipher_cards_are_found():
    assert {"saae_64", "deepedn_64", "invertible_64"} <= set(_CIPHER_CARDS) and len(_CIPHER_CARDS) >= 6


@pytest.mark.parametrize("model", _CIPHER_CARDS)
def test_each_shipped_cards_command_gives_the_configuration_on_its_card(model):
    """The command on every shipped learned cipher's card, parsed by today's command line, makes the model
    the card describes."""
    card = json.loads((PRETRAINED_DIR / model / "model_card.json").read_text())
    words = shlex.split(card["command"])
    package = words[2].split(".")[-1]
    config_name = _CONFIGS[package]
    assert words[:3] == ["python", "-m", f"utils.ciphers.{package}"]
    parser = importlib.import_module(f"utils.ciphers.{package}.cli").build_parser()
    config_cls = getattr(importlib.import_module(f"utils.ciphers.{package}.networks"), config_name)
    config = asdict(config_from_args(config_cls, parser.parse_args(words[3:])))
    assert {k: config[k] for k in card["config"]} == card["config"]
