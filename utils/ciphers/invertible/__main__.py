"""``python -m utils.ciphers.invertible``: see :mod:`utils.ciphers.invertible.cli`."""

from .cli import _main

if __name__ == "__main__":
    _main()
