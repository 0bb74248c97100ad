"""The scrambling adversarial autoencoder (Bao, Xue and Jin, Multimedia Tools and Applications 2021), notebook 08.

The method, as its abstract describes it and as rebuilt here at CPU scale:

* an **encoder** E (a Cycle-GAN ResNet generator, :func:`utils.layers.blocks.resnet_generator`) turns a
  plain image x into a "scrambled" cipher image c = E(x), sent as an 8-bit image;
* a **decoder** D (another such generator) recovers x' = D(c);
* a **PatchGAN critic** K (:func:`utils.layers.blocks.patch_discriminator`) tells, patch by patch, cipher
  images from images of uniform noise, so that the encoder learns to make its output look like noise;
* the loss combines the two by an adjustable weight lambda (least-squares GAN, as in Cycle-GAN):

      L_ED = |D(q(E(x))) - x|_1  +  lambda * mean (K(q(E(x))) - 1)^2       (encoder and decoder)
      L_K  = 1/2 [ mean (K(u) - 1)^2 + mean K(q(E(x)))^2 ],  u ~ U[0, 1]   (critic)

  where q rounds to 8 bits (straight-through: the forward pass sees the stored cipher image, the
  gradient passes as if q were the identity), so the decoder learns to read what is actually sent;
* the encoder's weights are called the **public key**, the decoder's the **private key**.

:class:`SAAECipher` puts a trained model behind the course's cipher interface (``utils.ciphers.load("saae")``):
``encrypt`` returns **uint8 cipher images** (N, 64, 64), what would be stored or sent, and ``decrypt``
reads them. :meth:`SAAECipher.with_key` takes another trained model (another seed) for key sensitivity.

The attack that the design invites is here too: whoever holds the public encoder holds an **encryption
oracle**, and can make as many (plaintext, ciphertext) pairs as they like from images of their own
choosing (:func:`chosen_plaintexts`), then train a substitute decoder (:func:`chosen_plaintext_curve`,
:func:`attack_time_curve`), or invert the encoder directly by gradient descent (:func:`invert_encoder`).

Command line (the pretrained models were made with it)::

    python -m utils.ciphers.saae --out utils/pretrained/saae_64 --steps 4000 --seed 0
    python -m utils.ciphers.saae --out utils/pretrained/saae_64_seed1 --steps 4000 --seed 1

Training is ``fit`` of a ``keras.Model`` whose ``train_step`` (one step, with ``tf.GradientTape``) needs
the TensorFlow backend; the networks and the losses use only ``keras.ops`` / ``keras.layers`` /
``keras.random``.

The package, a module per concern:

* :mod:`.networks`: :class:`SAAEConfig`, :class:`SAAE` and :func:`generator`;
* :mod:`.training`: :func:`quantise`, :func:`saae_losses`, :class:`AdversarialAutoencoder` (one step, a Keras model), :func:`train` (its ``fit``), :func:`evaluate`;
* :mod:`.cipher`: :class:`SAAECipher` and :class:`PublicEncryption`;
* :mod:`.attacks`: :func:`chosen_plaintext_curve`, :class:`SubstituteDecoder`, :func:`invert_encoder`;
* :mod:`.pretrained`: :func:`save_pretrained`, :func:`load_model`, :func:`load`;
* :mod:`.cli`: ``python -m utils.ciphers.saae``.
"""

from __future__ import annotations

from ...runtime import quiet_tensorflow

quiet_tensorflow()  # before Keras is imported by the modules below

from ...cards import PRETRAINED_DIR  # noqa: E402
from ..base import check_cipher_images  # noqa: E402
from .attacks import SubstituteDecoder, attack_time_curve, chosen_plaintext_curve, chosen_plaintexts, invert_encoder  # noqa: E402
from .cipher import PublicEncryption, SAAECipher  # noqa: E402
from .cli import _main  # noqa: E402, F401  (the command line, for tests)
from .networks import DEFAULT_MODEL, OTHER_KEY_MODEL, SAAE, SAAEConfig, generator, quantise  # noqa: E402
from .pretrained import load, load_model, save_pretrained  # noqa: E402
from .training import AdversarialAutoencoder, augment, evaluate, saae_losses, train, training_images  # noqa: E402

__all__ = ["PRETRAINED_DIR", "SAAEConfig", "SAAE", "generator", "quantise", "saae_losses", "AdversarialAutoencoder", "training_images", "augment", "train", "evaluate", "SAAECipher", "PublicEncryption", "check_cipher_images", "save_pretrained", "load_model", "load", "chosen_plaintexts", "SubstituteDecoder", "chosen_plaintext_curve", "attack_time_curve", "invert_encoder", "DEFAULT_MODEL", "OTHER_KEY_MODEL"]
