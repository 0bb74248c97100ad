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


def test_a_command_may_give_a_field_another_default_that_it_resolves_itself():
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, _Config, defaults={"size": (None, "by the image"), "norm": (None, "by the size")})
    args = parser.parse_args([])
    assert args.size is None and args.norm is None and args.left == 1     # None: the command decides
    assert parser.parse_args(["--size", "32", "--no-norm"]).size == 32
    text = " ".join(parser.format_help().split())  # unwrapped
    assert "default: by the image" in text and "default: by the size" in text
    with pytest.raises(ValueError, match=r"has no field\(s\) \['sise'\]"):
        add_config_arguments(argparse.ArgumentParser(), _Config, defaults={"sise": (1, "one")})
    with pytest.raises(TypeError, match=r"\(value, help text\)"):
        add_config_arguments(argparse.ArgumentParser(), _Config, defaults={"size": None})
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, _Config, defaults={"size": (None, "10 % of the image")})
    assert "10 % of the image" in " ".join(parser.format_help().split())            # a per cent sign is escaped


def test_a_hider_command_fills_what_it_leaves_out_by_the_variant():
    from utils.hiding.__main__ import _parser, config_of
    from utils.hiding.stego import StegoConfig

    def config(*words):
        return config_of(_parser().parse_args(list(words)))

    assert config() == StegoConfig("efficient", 64, 5, 3, 0.0, True)                  # natural secrets: colour
    assert config("--secrets", "medical") == StegoConfig("efficient", 64, 5, 1, 0.0, True)
    assert config("--variant", "seed") == StegoConfig("seed", 50, 5, 3, 0.01, False)   # Baluja's: noise, no rounding
    assert config("--variant", "branched", "--seed", "3") == StegoConfig("branched", 50, 5, 3, 0.01, False, 3)
    assert config("--variant", "seed", "--quantize", "--noise", "0").quantize is True
    assert config("--variant", "invertible", "--no-quantize", "--depth", "2") == StegoConfig("invertible", 32, 2, 3, 0.0, False)
    assert config("--variant", "efficient", "--channel", "lossy", "--secret-channels", "1").channel == "lossy"
    assert config("--quantize", "--no-quantize").quantize is False                      # the last flag given wins
    with pytest.raises(SystemExit):
        _parser().parse_args(["--variant", "unet"])
    with pytest.raises(ValueError, match="variant must be one of"):
        StegoConfig.for_variant("unet")


def _hider_words(command: str) -> list[str]:
    """A hider card's command as argv; a free-text ``--init-note`` of older cards (written unquoted) is one word."""
    words = shlex.split(command)[3:]
    if "--init-note" in words:
        i = words.index("--init-note")
        j = next((k for k in range(i + 1, len(words)) if words[k].startswith("--")), len(words))
        words[i + 1:j] = [" ".join(words[i + 1:j])]
    return words


_HIDER_CARDS = sorted(path.parent.name for path in PRETRAINED_DIR.glob("hider_*/model_card.json")
                      if json.loads(path.read_text())["command"].startswith("python -m utils.hiding "))


@pytest.mark.parametrize("model", _HIDER_CARDS)
def test_each_shipped_hiders_command_gives_the_configuration_on_its_card(model):
    """The command on every hider card that today's trainer made, parsed by today's command line, makes the
    configuration the card describes (the two Baluja hiders came from an earlier command, named on their cards)."""
    from utils.hiding.__main__ import _parser, config_of

    card = json.loads((PRETRAINED_DIR / model / "model_card.json").read_text())
    config = asdict(config_of(_parser().parse_args(_hider_words(card["command"]))))
    assert {k: config[k] for k in card["config"]} == card["config"]


def test_the_hider_cards_are_found():
    assert {"hider_efficient_grey_64", "hider_invertible_grey_64", "hider_robust_grey_64"} <= set(_HIDER_CARDS)
