"""The methods the benchmark measures, by name: every cipher, the insecure control and the grey hiders."""

from __future__ import annotations

from ..hiding.as_cipher import HiderMethod  # the hider adapter lives with the hiders

__all__ = ["CONTROL", "HIDERS", "method_names", "methods"]

#: The insecure control: AES-GCM with one nonce for every image.
CONTROL = "aes_gcm_repeated_nonce"


HIDERS = {"stego_seed": "hider_seed_grey_64", "stego_efficient": "hider_efficient_grey_64",
          "stego_invertible": "hider_invertible_grey_64"}


def method_names(names=None) -> list[str]:
    """The names that ``names`` stands for: None or ``"all"`` for every method, ``"ciphers"`` for the ciphers of
    :func:`utils.ciphers.available` and the control, or a list of names (which may include those two groups).
    Raises KeyError naming the known methods for an unknown name."""
    from .. import ciphers
    from ..hiding.pretrained import available_pretrained

    cipher_names = list(ciphers.available()) + [CONTROL]
    known = cipher_names + [n for n, m in HIDERS.items() if m in available_pretrained()] + ["lsb_332"]
    names = [names] if isinstance(names, str) else list(names) if names else ["all"]
    names = list(dict.fromkeys(m for n in names for m in ({"all": known, "ciphers": cipher_names}.get(n) or [n])))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown method(s) {unknown}; known: {', '.join(known)}")
    return names


def methods(names=None, size: int = 64) -> dict:
    """The methods to measure, loaded, by name (``names`` as :func:`method_names` reads it): ciphers, the
    control and the hiders."""
    from .. import ciphers
    from ..hiding.pretrained import load_pretrained

    names = method_names(names)
    out = {}
    for name in names:
        if name in ciphers.NAMES:
            out[name] = ciphers.load(name)
        elif name == CONTROL:
            from ..ciphers.aes_gcm import repeated_nonce

            out[name] = repeated_nonce()
        elif name == "lsb_332":
            out[name] = HiderMethod(name, None, size)
        else:
            out[name] = HiderMethod(name, load_pretrained(HIDERS[name]), size)
    return out
