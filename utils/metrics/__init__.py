"""Metrics of the field: reconstruction quality, cipher-image statistics, and intervals.

    utils.metrics.quality       MSE, PSNR, SSIM, MAE; the quality of a hiding method, per pair or averaged
    utils.metrics.cipher_stats  entropy, NPCR / UACI with Wu et al.'s critical values, adjacent-pixel
                                correlation, histogram chi-square
    utils.metrics.intervals     bootstrap confidence intervals over source images
    utils.metrics.verdicts      computed verdicts (yes/no, orders) and the two named baselines of every attack

Everything is re-exported here: ``from utils import metrics; metrics.psnr(a, b)``.
"""

from .cipher_stats import *  # noqa: F401,F403
from .cipher_stats import __all__ as _stats
from .intervals import *  # noqa: F401,F403
from .intervals import __all__ as _intervals
from .quality import *  # noqa: F401,F403
from .quality import __all__ as _quality
from .verdicts import *  # noqa: F401,F403
from .verdicts import __all__ as _verdicts

__all__ = [*_quality, *_stats, *_intervals, *_verdicts]
