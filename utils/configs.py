"""Command lines made from the configuration dataclasses, so that a model card and its command cannot drift.

Every trained model of the course is defined by a dataclass (``SAAEConfig``, ``DeepEDNConfig``,
``InvertibleConfig``, ...) that its card stores whole. Its training command takes one ``--option`` per
field, made here from the dataclass itself: the type and default from the field, the help text from the
``Attributes:`` section of the class docstring. A field added to a configuration is an option at once.

    parser = argparse.ArgumentParser()
    add_config_arguments(parser, SAAEConfig, flags={"image_size": "--size"})
    args = parser.parse_args()
    config = config_from_args(SAAEConfig, args)
"""

from __future__ import annotations

import argparse
import dataclasses
import re

__all__ = ["add_config_arguments", "config_from_args", "field_help", "training_start"]

_TYPES = {"int": int, "float": float, "str": str}


def field_help(config_cls) -> dict[str, str]:
    """The text of each attribute in the ``Attributes:`` section of ``config_cls``'s docstring, by field name
    (first sentence only; continuation lines joined; ``a, b: text`` gives both fields the text)."""
    doc = config_cls.__doc__ or ""
    if "Attributes:" not in doc:
        return {}
    out, name = {}, None
    for line in doc.split("Attributes:", 1)[1].splitlines():
        match = re.match(r"\s{4,8}(\w+(?:, \w+)*):\s*(.*)", line)
        named = match.group(1).split(", ") if match else []
        if named and all(n in {f.name for f in dataclasses.fields(config_cls)} for n in named):
            name = tuple(named)
            out[name] = match.group(2).strip()
        elif name and line.strip():
            out[name] += " " + line.strip()
        elif not line.strip():
            name = None
    return {n: text.split(". ")[0].rstrip(".") for names, text in out.items() for n in names}


def _parser_type(field: dataclasses.Field):
    """(argparse type, whether None is allowed) for a field annotated ``int``, ``float``, ``str``,
    ``bool`` or ``X | None``."""
    annotation = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))
    parts = [p.strip() for p in annotation.split("|")]
    optional = "None" in parts
    parts = [p for p in parts if p != "None"]
    if len(parts) != 1 or parts[0] not in (*_TYPES, "bool"):
        raise TypeError(f"field {field.name!r} has type {annotation!r}; a command line can carry int, float, str, "
                        "bool or one of them | None")
    if parts[0] == "bool":
        return bool, optional
    base = _TYPES[parts[0]]
    if not optional:
        return base, False

    def parse(text: str):
        return None if text.lower() == "none" else base(text)

    parse.__name__ = f"{base.__name__} or none"
    return parse, True


def add_config_arguments(parser: argparse.ArgumentParser, config_cls, *, flags: dict[str, str] | None = None,
                         skip=(), choices: dict | None = None, defaults: dict[str, tuple] | None = None) -> None:
    """Add one option per field of the dataclass ``config_cls`` to ``parser``.

    Args:
        flags: another option name for some fields (``{"learning_rate": "--lr"}``); the default is the field
            name with dashes (``--critic-width``).
        skip: fields the command does not take (they keep their defaults).
        choices: the allowed values of some fields.
        defaults: another default for some fields, with the text the help gives for it:
            ``{"filters": (None, "by --variant")}`` (the command then resolves None itself).

    A bool field becomes ``--name`` / ``--no-name``; a field that may be None takes the word ``none``. The
    option's destination is the field's name, which :func:`config_from_args` reads.
    """
    if not dataclasses.is_dataclass(config_cls):
        raise TypeError(f"config_cls must be a dataclass, got {config_cls!r}")
    flags, choices, helps = dict(flags or {}), dict(choices or {}), field_help(config_cls)
    defaults = dict(defaults or {})
    if any(not (isinstance(v, tuple) and len(v) == 2) for v in defaults.values()):
        raise TypeError(f"defaults maps a field to (value, help text), got {defaults!r}")
    names = {f.name for f in dataclasses.fields(config_cls)}
    unknown = (set(flags) | set(skip) | set(choices) | set(defaults)) - names
    if unknown:
        raise ValueError(f"{config_cls.__name__} has no field(s) {sorted(unknown)}; its fields: {sorted(names)}")
    for field in dataclasses.fields(config_cls):
        if field.name in skip:
            continue
        flag = flags.get(field.name, "--" + field.name.replace("_", "-"))
        kind, _ = _parser_type(field)
        shown = None
        if field.name in defaults:
            default, shown = defaults[field.name]
        elif field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            raise TypeError(f"field {field.name!r} of {config_cls.__name__} has no default; a command line needs one")
        text = helps.get(field.name, field.name.replace("_", " ")).replace("%", "%%")  # argparse formats help with %
        said = str(default if shown is None else shown).replace("%", "%%")
        if kind is bool:  # BooleanOptionalAction adds "(default: ...)" itself, unless the default is None
            note = f"default: {said}; " if default is None and shown is not None else ""
            parser.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction, default=default,
                                help=f"{text} ({note}{config_cls.__name__}.{field.name})")
        else:
            parser.add_argument(flag, dest=field.name, type=kind, default=default, choices=choices.get(field.name),
                                help=f"{text} (default: {said}; {config_cls.__name__}.{field.name})")


def config_from_args(config_cls, args: argparse.Namespace, **overrides):
    """The ``config_cls`` instance that the parsed ``args`` describe (fields the command skipped keep their
    defaults); ``overrides`` replace single fields."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_cls) if hasattr(args, f.name)}
    return config_cls(**{**values, **overrides})


def training_start(parser: argparse.ArgumentParser, config_cls, argv=None):
    """The start every learned cipher's training command shares: parse ``argv``, seed everything with
    ``--seed``, make the configuration from the options (:func:`config_from_args`), and draw the training
    pool (``--pool`` images of the train split, seeded), the validation images (``--n-val`` where the command
    has it, else 64) and the test images (``--n-test``) at the configuration's size. Returns
    (args, config, train, val, test)."""
    from .data import image_set
    from .runtime import seed_everything

    args = parser.parse_args(argv)
    seed_everything(args.seed)
    config = config_from_args(config_cls, args)
    size = config.image_size
    train = image_set("train", size=size, n=args.pool, seed=args.seed)
    return (args, config, train, image_set("val", size=size, n=getattr(args, "n_val", 64)),
            image_set("test", size=size, n=args.n_test))
