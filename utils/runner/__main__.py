"""``python -m utils.runner``: run the series headless (see :mod:`utils.runner.series`)."""

import sys

from .series import main

sys.exit(main())
