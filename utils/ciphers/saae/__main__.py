"""``python -m utils.ciphers.saae``: see :mod:`utils.ciphers.saae.cli`."""

from .cli import _main

if __name__ == "__main__":
    _main()
