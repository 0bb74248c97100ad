"""DeepEDN (Ding et al., IEEE IoT-J 2021, arXiv 2004.05523): image encryption as Cycle-GAN domain translation.

The idea: a Cycle-GAN learns to translate images of a *plain domain* (grey medical images) into a *cipher
domain* (a target domain chosen by the owner, which "acts as the hidden key"), and back:

* ``G``: plain -> cipher, the encryption network;
* ``F``: cipher -> plain, the reconstruction (decryption) network;
* ``D_cipher``, ``D_plain``: one PatchGAN discriminator per domain.

Losses (LSGAN adversarial, L1 cycle, L1 identity; Zhu et al. 2017)::

    L_adv(G, D_c) = E_y (D_c(y) - 1)^2 + E_x D_c(G(x))^2            (D_c minimises; G minimises E_x (D_c(G(x)) - 1)^2)
    L_cyc(G, F)   = E_x |F(G(x)) - x| + E_y |G(F(y)) - y|
    L_id(G, F)    = E_y |G(y) - y| + E_x |F(x) - x|
    L_gen         = L_adv(G) + L_adv(F) + lambda_cyc L_cyc + lambda_id L_id

A third network, the *ROI-mining network*, segments the object of interest directly from cipher images
(the paper's privacy-preserving analysis): :func:`roi_masks` is the rule that makes its training masks
from the plain images, :func:`train_roi` trains it, :func:`dice` scores it.

The key domain (:func:`key_domain_images`). The paper does not say what its target domain was beyond a
"hidden factor"; here it is an image *distribution* that only the key holder can sample:

* ``"texture"`` (the default): keyed sparse-tap textures. The key (an integer) draws 8 tap positions in a
  9x9 window, no two taps neighbours, and 8 Gaussian weights (unit norm). A sample is white Gaussian noise
  filtered by those taps and mapped through the normal CDF: every pixel is uniform on [0, 1] (the ideal
  histogram, entropy 8 bits) and independent of its 8 neighbours (adjacent correlation 0, as the field
  asks of a cipher image), but pixels 2-8 apart are correlated in a pattern that only this key makes.
  The discriminator learns that pattern; another key is another domain.
* ``"noise"``: i.i.d. uniform noise, the ideal cipher image, but keyless: anyone can sample it.

The course's cipher (:class:`DeepEDNCipher`) sends the cipher image as 8-bit pixels: ``encrypt`` returns
uint8 (N, 64, 64); training passes the 8-bit rounding straight through, so ``F`` learns to decrypt what is
actually sent. The pretrained model is made by ``python -m utils.ciphers.deepedn --out
utils/pretrained/deepedn_64 ...`` (see its model card).

The package, a module per concern (what the notebook reads, in its order):

* :mod:`.key_domain`: the keyed cipher domain (:func:`key_domain_images`, :func:`key_taps`, :func:`autocorrelation`);
* :mod:`.networks`: :class:`DeepEDNConfig` and :class:`DeepEDN` (the five networks);
* :mod:`.training`: the Cycle-GAN as a Keras model (:func:`cycle_gan`: losses in its ``train_step``) and :func:`train_cyclegan` (its ``fit``);
* :mod:`.roi`: the ROI-mining network (:func:`roi_masks`, :func:`train_roi`, :func:`predict_roi`, :func:`dice`);
* :mod:`.cipher`: :class:`DeepEDNCipher` (the course's interface) and :func:`linear_attack`;
* :mod:`.pretrained`: :func:`save_pretrained`, :func:`load_pretrained`, :func:`load`;
* :mod:`.cli`: ``python -m utils.ciphers.deepedn`` (train, measure on the test split, save with a card).
"""

from __future__ import annotations

from ...cards import PRETRAINED_DIR
from .cipher import DeepEDNCipher, linear_attack
from .cli import _main, measure_on_test, quality_note  # noqa: F401  (_main: the command line, for tests)
from .key_domain import DEFAULT_KEY, KEY_DOMAINS, SECOND_KEY, autocorrelation, key_domain_images, key_taps
from .networks import DeepEDN, DeepEDNConfig
from .pretrained import load, load_pretrained, save_pretrained, write_card_markdown
from .roi import dice, predict_roi, roi_masks, train_roi
from .training import cycle_gan, learning_rate_at, train_cyclegan, validation_metrics

__all__ = ["DEFAULT_KEY", "SECOND_KEY", "KEY_DOMAINS", "DeepEDNConfig", "DeepEDN", "key_taps", "key_domain_images",
           "autocorrelation", "train_cyclegan", "cycle_gan", "learning_rate_at", "validation_metrics",
           "roi_masks", "dice", "train_roi", "predict_roi", "linear_attack", "DeepEDNCipher", "measure_on_test",
           "quality_note", "save_pretrained", "write_card_markdown", "load_pretrained", "load", "PRETRAINED_DIR"]
