"""``python -m utils.ciphers.deepedn``: see :mod:`utils.ciphers.deepedn.cli`."""

from .cli import _main

if __name__ == "__main__":
    _main()
