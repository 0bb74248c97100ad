"""An invertible encryption network around double random phase encoding (notebook 07): the course's reading.

The surveyed paper (Wang et al., "Invertible encryption network for optical image cryptosystem", Optics
and Lasers in Engineering 149, 2022) could not be read: only its title and its place in the survey are
known. What follows is therefore a *reading*, built from what the title says and from the two standard
parts it names: an exactly invertible network (affine coupling blocks, Real NVP, Dinh et al. 2017) and an
optical cryptosystem (DRPE, :mod:`utils.ciphers.drpe`). The course's design::

    f  --Haar--> coupling blocks P --inverse Haar-->  z  --DRPE(key)-->  field  --Haar--> coupling blocks Q
       --inverse Haar-->  y = (y_re, y_im)      the ciphertext: complex64 y_re + i y_im, the size of f

* ``P`` (the *pre-network*) works on the plaintext's four Haar sub-bands at half resolution (two parts of
  two channels: LL, LH and HL, HH). Its training goal here is to *whiten* the image before the optics: no correlation
  between neighbouring pixels of ``z``, and the energy of ``f`` kept. It makes the cipher a non-linear
  function of the plaintext, so the linear attacks on DRPE no longer apply as they are.
* ``DRPE`` with the key's two phase masks spreads every pixel over the whole field.
* ``Q`` (the *post-network*) works on the Haar sub-bands of the field's real part and of its imaginary part
  (the two parts, four channels each). Its goal is a *noise-like ciphertext*: every image's 2 H W values distributed like
  standard Gaussian white noise (a sorted-values, Wasserstein-2 loss against the normal quantiles) with no
  correlation between neighbours. DRPE's field is already Gaussian noise, but with the image's energy as
  its variance (Parseval); ``Q`` has to hide that. (Each part separately: pooled, the two parts could sit
  at different means and still look Gaussian together.) The 8-bit picture of the ciphertext is the normal CDF
  of its values (:func:`utils.ciphers.drpe.gaussian_view`), uniform when ``Q`` succeeds.
* Both are stacks of the course's affine coupling blocks (:class:`utils.layers.coupling.AffineCoupling`)
  whose two parts swap roles from block to block, so that each part is rescaled in turn.
* **Decryption** runs the same parts backwards: ``Q`` inverted, conjugate masks, ``P`` inverted. Coupling
  blocks invert exactly whatever their weights, so decryption returns the plaintext to float32 rounding
  (about 1e-6); training only shapes what the ciphertext looks like.

The key is the DRPE key (an integer that seeds both masks) together with the network's weights.
:class:`InvertibleCipher` puts it behind the course's cipher interface; the shipped model is made by
``python -m utils.ciphers.invertible --out utils/pretrained/invertible_64 ...`` (see its model card).

The package, a module per concern:

* :mod:`.networks`: :class:`InvertibleConfig` and :class:`InvertibleNet` (P, the DRPE masks of each size, Q);
* :mod:`.training`: the losses, :func:`training_model`, :func:`train`, :func:`validation_metrics`;
* :mod:`.cipher`: :class:`InvertibleCipher`;
* :mod:`.attacks`: :func:`peel_attack` and :func:`peel_attack_curve`;
* :mod:`.pretrained`: :func:`save_pretrained`, :func:`load_pretrained`, :func:`load`;
* :mod:`.cli`: ``python -m utils.ciphers.invertible``.
"""

from __future__ import annotations

from ...cards import PRETRAINED_DIR
from ..drpe import DEFAULT_KEY, SECOND_KEY
from .attacks import peel_attack, peel_attack_curve
from .cipher import InvertibleCipher
from .cli import _main  # noqa: F401  (the command line, for tests)
from .networks import InvertibleConfig, InvertibleNet
from .pretrained import load, load_pretrained, save_pretrained
from .training import gaussianity_loss, neighbour_correlation, train, training_model, validation_metrics

__all__ = ["DEFAULT_KEY", "SECOND_KEY", "InvertibleConfig", "InvertibleNet", "gaussianity_loss", "neighbour_correlation", "training_model", "train", "validation_metrics", "InvertibleCipher", "peel_attack", "peel_attack_curve", "save_pretrained", "load_pretrained", "load", "PRETRAINED_DIR"]
