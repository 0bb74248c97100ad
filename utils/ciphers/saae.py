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

The training loop uses TensorFlow (``tf.GradientTape``, ``tf.function``); the networks and the losses
use only ``keras.ops`` / ``keras.layers`` / ``keras.random``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..runtime import quiet_tensorflow

quiet_tensorflow()

import keras  # noqa: E402
from keras import ops  # noqa: E402

from .base import Cipher, ThreatModel, check_batch, check_images  # noqa: E402

__all__ = ["SAAEConfig", "SAAE", "generator", "quantise", "saae_losses", "training_images", "augment", "train", "evaluate",
           "SAAECipher", "PublicEncryption", "save_pretrained", "load_model", "load", "PRETRAINED_DIR",
           "chosen_plaintexts", "SubstituteDecoder", "chosen_plaintext_curve", "attack_time_curve", "invert_encoder"]

from .. import cards  # noqa: E402
from ..cards import PRETRAINED_DIR, record_files  # noqa: E402
from ..layers.blocks import any_size, run_image_network  # noqa: E402
DEFAULT_MODEL = "saae_64"
OTHER_KEY_MODEL = "saae_64_seed1"


# ------------------------------------------------------------------------------------------------------
# the networks
# ------------------------------------------------------------------------------------------------------

@dataclass
class SAAEConfig:
    """Everything that defines a model's shape and loss (stored in the model card).

    Attributes:
        image_size: side of the images (a multiple of 8).
        width: channels of the generators' first layer (then 2x and 4x after the two down-samplings).
        blocks: residual blocks in each generator.
        critic_width: channels of the critic's first layer.
        critic_layers: stride-2 layers of the critic (3: one logit per overlapping ~40-pixel patch).
        adv_weight: lambda, the weight of the adversarial term.
        stem_norm: the instance normalisation right after the generators' 7x7 stem, as in Cycle-GAN. Off by
            default: on one grey channel, normalising the output of that linear convolution erases each
            image's brightness and contrast (only the zero padding at the borders lets them through), and
            the decoder learned far more slowly with it (see :func:`generator`).
        seed: seed of the initial weights and of the noise the critic sees (the "key generation").
    """

    image_size: int = 64
    width: int = 16
    blocks: int = 3
    critic_width: int = 16
    critic_layers: int = 3
    adv_weight: float = 0.05
    stem_norm: bool = False
    seed: int = 0

    def __post_init__(self):
        if int(self.image_size) < 8 or int(self.image_size) % 8:
            raise ValueError(f"image_size must be a multiple of 8, got {self.image_size!r}")
        if int(self.width) < 1 or int(self.blocks) < 0 or int(self.critic_width) < 1 or int(self.critic_layers) < 1:
            raise ValueError(f"width, critic_width and critic_layers must be >= 1 and blocks >= 0; got {self}")
        if float(self.adv_weight) < 0:
            raise ValueError(f"adv_weight (lambda) must be >= 0, got {self.adv_weight!r}")


def generator(config: SAAEConfig, name: str) -> keras.Model:
    """The encoder's or decoder's network: :func:`utils.layers.blocks.resnet_generator` (Cycle-GAN) for one
    grey channel with a sigmoid output; without ``config.stem_norm``, the normalisation after the stem is
    replaced by the identity (the network is cloned with that one layer swapped)."""
    from ..layers.blocks import resnet_generator

    net = resnet_generator(1, 1, width=config.width, blocks=config.blocks, size=config.image_size, name=name)
    if config.stem_norm:
        return net

    def swap(layer):
        if layer.name == "stem_norm":
            return keras.layers.Identity(name="stem_norm")
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(net, clone_function=swap)


def quantise(cipher):
    """Round a cipher image in [0, 1] to 8 bits, with a straight-through gradient (identity backwards)."""
    stored = ops.round(ops.clip(cipher, 0.0, 1.0) * 255.0) / 255.0
    return cipher + ops.stop_gradient(stored - cipher)


class SAAE:
    """The encoder (public key), decoder (private key) and critic of one model, and the user's view.

    ``encode`` / ``decode`` work on float32 (N, H, W) batches; ``encode`` returns the cipher image in
    [0, 1] *before* rounding (the cipher interface rounds it to 8 bits).
    """

    def __init__(self, config: SAAEConfig | None = None):
        from ..layers.blocks import patch_discriminator

        self.config = config or SAAEConfig()
        c = self.config
        keras.utils.set_random_seed(c.seed)
        self.encoder = generator(c, "encoder")
        self.decoder = generator(c, "decoder")
        self.critic = patch_discriminator(1, width=c.critic_width, layers_down=c.critic_layers, size=c.image_size,
                                          name="critic")
        self.card: dict = {}

    def encode(self, images, batch: int = 64) -> np.ndarray:
        """Cipher images in [0, 1] (float32, not yet rounded) for float32 (N, H, W) images (any H, W that are
        multiples of 4: the generators are fully convolutional)."""
        return run_image_network(self.encoder, images, batch)

    def decode(self, ciphers, batch: int = 64) -> np.ndarray:
        """Decrypted images in [0, 1] for float32 (N, H, W) cipher images."""
        return run_image_network(self.decoder, ciphers, batch)

    def critic_scores(self, ciphers, batch: int = 64) -> np.ndarray:
        """The critic's mean patch score per image (LSGAN: about 1 for "noise", 0 for "cipher")."""
        x = np.asarray(ciphers, np.float32)[..., None]
        out = [ops.convert_to_numpy(self.critic(x[i:i + batch], training=False)) for i in range(0, len(x), batch)]
        return np.concatenate(out).mean(axis=(1, 2, 3))

    def count_params(self) -> dict[str, int]:
        return {name: int(net.count_params()) for name, net in
                (("encoder", self.encoder), ("decoder", self.decoder), ("critic", self.critic))}

    def describe(self) -> str:
        """One line: the generators' width and depth, lambda, and the parameters of each network."""
        c, p = self.config, self.count_params()
        return (f"ResNet generators (width {c.width}, {c.blocks} residual blocks), PatchGAN critic "
                f"(width {c.critic_width}, {c.critic_layers} layers), lambda = {c.adv_weight}; parameters: "
                f"encoder {p['encoder']:,}, decoder {p['decoder']:,}, critic {p['critic']:,}")

    # weights: the two keys in one file, the critic beside them (it is needed only to go on training)
    def save_weights(self, folder) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        _keys_model(self).save_weights(folder / "model.weights.h5")
        self.critic.save_weights(folder / "critic.weights.h5")

    def load_weights(self, folder) -> "SAAE":
        folder = Path(folder)
        _keys_model(self).load_weights(folder / "model.weights.h5")
        if (folder / "critic.weights.h5").exists():
            self.critic.load_weights(folder / "critic.weights.h5")
        return self

    def get_weights(self) -> list:
        return [net.get_weights() for net in (self.encoder, self.decoder, self.critic)]

    def set_weights(self, weights: list) -> None:
        for net, w in zip((self.encoder, self.decoder, self.critic), weights):
            net.set_weights(w)


def _keys_model(model: SAAE) -> keras.Model:
    """Encoder and decoder as one Keras model (x -> E(x), D(E(x))), only to store both keys in one file."""
    inputs = keras.Input((model.config.image_size, model.config.image_size, 1))
    cipher = model.encoder(inputs)
    return keras.Model(inputs, [cipher, model.decoder(cipher)], name="saae_keys")


# ------------------------------------------------------------------------------------------------------
# loss and training
# ------------------------------------------------------------------------------------------------------

def saae_losses(model: SAAE, x, noise, training: bool = True) -> dict:
    """The losses of one batch ``x`` (N, H, W, 1) against ``noise`` (uniform images of the same shape).

    Returns ``reconstruction`` (mean absolute error), ``adversarial`` (the encoder's LSGAN term),
    ``total`` (reconstruction + lambda adversarial), ``critic`` (the critic's LSGAN loss) and ``cipher``.
    """
    cipher = quantise(model.encoder(x, training=training))
    recovered = model.decoder(cipher, training=training)
    fake = model.critic(cipher, training=training)
    real = model.critic(ops.round(noise * 255.0) / 255.0, training=training)
    reconstruction = ops.mean(ops.abs(recovered - x))
    adversarial = ops.mean(ops.square(fake - 1.0))
    # the critic's loss is applied to the critic's weights only (see _make_step), so it never trains the encoder
    critic = 0.5 * (ops.mean(ops.square(real - 1.0)) + ops.mean(ops.square(fake)))
    return {"reconstruction": reconstruction, "adversarial": adversarial,
            "total": reconstruction + model.config.adv_weight * adversarial, "critic": critic, "cipher": cipher}


def _make_step(model: SAAE, learning_rate: float, decay_steps: int = 0):
    """A compiled training step: one Adam step for encoder+decoder on ``total``, one for the critic.

    With ``decay_steps``, both learning rates follow a cosine from ``learning_rate`` down to 10 % of it.
    """
    import tensorflow as tf

    def rate():
        if not decay_steps:
            return learning_rate
        return keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=0.1)

    opt_ed = keras.optimizers.Adam(rate(), beta_1=0.5)
    opt_k = keras.optimizers.Adam(rate(), beta_1=0.5)
    ed_vars = model.encoder.trainable_variables + model.decoder.trainable_variables
    k_vars = model.critic.trainable_variables
    opt_ed.build(ed_vars)
    opt_k.build(k_vars)
    noise_seed = keras.random.SeedGenerator(model.config.seed + 1000)

    @tf.function(reduce_retracing=True)
    def step(x):
        noise = keras.random.uniform(ops.shape(x), seed=noise_seed)
        with tf.GradientTape(persistent=True) as tape:
            losses = saae_losses(model, x, noise)
        opt_ed.apply_gradients(zip(tape.gradient(losses["total"], ed_vars), ed_vars))
        opt_k.apply_gradients(zip(tape.gradient(losses["critic"], k_vars), k_vars))
        del tape
        return {k: v for k, v in losses.items() if k != "cipher"}

    return step


def training_images(size: int = 64, n: int = 2048, seed: int = 0, data="auto") -> np.ndarray:
    """``n`` grey training patches (float32 (n, size, size)) of the train split's medical sources."""
    from ..data import image_set

    return image_set("train", size=size, n=n, seed=seed, data=data).images


def augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random flips and quarter turns of each (N, H, W) image (the training data's only augmentation)."""
    out = np.empty_like(batch)
    for i, image in enumerate(batch):
        image = np.rot90(image, int(rng.integers(4)))
        out[i] = image[:, ::-1] if rng.random() < 0.5 else image
    return out


def evaluate(model: SAAE, images) -> dict[str, float]:
    """Means over ``images`` (float32 (N, H, W)): PSNR and SSIM of the decryption read from the 8-bit
    cipher image, the cipher images' entropy and histogram chi-square, and the critic's score."""
    from .. import metrics
    from .evaluation import as_uint8

    cipher8 = as_uint8(model.encode(images))
    back8 = as_uint8(model.decode(cipher8.astype(np.float32) / 255.0))
    plain8 = as_uint8(images)
    return {"psnr": float(np.mean([min(metrics.psnr(a, b), 100.0) for a, b in zip(plain8, back8)])),
            "ssim": float(np.mean([metrics.ssim(a, b) for a, b in zip(plain8, back8)])),
            "entropy": float(np.mean([metrics.entropy(c) for c in cipher8])),
            "chi_square": float(np.mean([metrics.chi_square(c)["statistic"] for c in cipher8])),
            "critic": float(np.mean(model.critic_scores(cipher8.astype(np.float32) / 255.0)))}


def train(model: SAAE, images, steps: int, batch: int = 16, learning_rate: float = 1e-3, val=None,
          eval_every: int = 0, keep: str = "last", decay: bool = False, progress: bool = True, on_eval=None,
          seed: int | None = None) -> dict:
    """Train ``model`` on ``images`` (float32 (N, H, W), flipped and turned at random) for ``steps`` batches.

    Every ``eval_every`` steps the model is measured on ``val`` (float32 (N, H, W) validation images,
    never test images) with :func:`evaluate`, and ``on_eval(result)`` is called with the result (a dict with
    ``step``, the mean losses since the last evaluation and the validation measures). ``keep="best"``
    restores, at the end, the weights of the evaluation with the highest validation PSNR; ``"last"`` keeps
    the last weights. ``decay``: cosine decay of the learning rates to 10 % over ``steps``. ``progress``: a
    tqdm bar (for the command line).

    Returns a history: per step ``reconstruction``, ``adversarial``, ``total``, ``critic`` (lists), the
    evaluations (``evals``: dicts with ``step``), ``seconds`` and ``cpu_seconds`` of training (evaluations
    excluded), ``images_per_second`` and ``kept_step``.
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 3 or images.shape[1:] != (model.config.image_size,) * 2:
        raise ValueError(f"images must be (N, {model.config.image_size}, {model.config.image_size}), got {images.shape}")
    if keep not in ("last", "best"):
        raise ValueError(f"keep must be 'last' or 'best', got {keep!r}")
    if keep == "best" and (val is None or not eval_every):
        raise ValueError("keep='best' needs validation images (val) and eval_every > 0")
    rng = np.random.default_rng(model.config.seed if seed is None else seed)
    step_fn = _make_step(model, learning_rate, steps if decay else 0)
    history = {k: [] for k in ("reconstruction", "adversarial", "total", "critic")}
    history["evals"] = []
    best, best_weights = -np.inf, None
    seconds = cpu = 0.0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="SAAE training", leave=True, mininterval=2.0)
    for i in range(1, steps + 1):
        x = augment(images[rng.integers(len(images), size=batch)], rng)[..., None]
        t0, c0 = time.perf_counter(), time.process_time()
        losses = step_fn(x)
        values = {k: float(ops.convert_to_numpy(v)) for k, v in losses.items()}
        seconds += time.perf_counter() - t0
        cpu += time.process_time() - c0
        for k, v in values.items():
            history[k].append(v)
        if bar is not None:
            bar.update(1)
            if i % 10 == 0:
                bar.set_postfix(rec=f"{values['reconstruction']:.3f}", adv=f"{values['adversarial']:.3f}")
        if val is not None and eval_every and (i % eval_every == 0 or i == steps):
            since = i - (history["evals"][-1]["step"] if history["evals"] else 0)
            result = {"step": i, **{k: float(np.mean(history[k][-since:])) for k in ("reconstruction", "adversarial",
                                                                                      "critic")},
                      **{f"val_{k}": v for k, v in evaluate(model, val).items()}}
            history["evals"].append(result)
            if on_eval is not None:
                on_eval(result)
            if keep == "best" and result["val_psnr"] > best:
                best, best_weights = result["val_psnr"], (i, model.get_weights())
    if bar is not None:
        bar.close()
    kept = steps
    if keep == "best" and best_weights is not None:
        kept, weights = best_weights
        model.set_weights(weights)
    history.update(seconds=seconds, cpu_seconds=cpu, images_per_second=steps * batch / max(seconds, 1e-9),
                   kept_step=kept)
    return history


# ------------------------------------------------------------------------------------------------------
# the cipher interface
# ------------------------------------------------------------------------------------------------------

class SAAECipher(Cipher):
    """A trained scrambling adversarial autoencoder behind the course's cipher interface.

    ``encrypt(images)``: float32 (N, 64, 64) in [0, 1] -> **uint8** cipher images (N, 64, 64), the encoder's
    output rounded to 8 bits: what is stored or sent. ``decrypt(cipher)``: those uint8 images -> float32
    (N, 64, 64), the decoder reading the 8-bit cipher image. Deterministic: no nonce, so one image always
    gives the same cipher image. ``cipher_image`` is the ciphertext itself; ``features`` is it / 255.

    ``public_key`` is the encoder (a Keras model), ``private_key`` the decoder.
    """

    name, kind = "saae", "learned"
    image_size = None  # any side that is a multiple of 4: the encoder and decoder are fully convolutional
    multiple = 4

    def __init__(self, model: SAAE):
        if not isinstance(model, SAAE):
            raise TypeError(f"model must be a trained SAAE (utils.ciphers.saae.load_model), got {type(model).__name__}")
        self.model = model
        self.trained_size = model.config.image_size

    @property
    def public_key(self) -> keras.Model:
        """The encoder: in the paper's reading, what may be published."""
        return self.model.encoder

    @property
    def private_key(self) -> keras.Model:
        """The decoder: in the paper's reading, what the receiver keeps secret."""
        return self.model.decoder

    def encrypt(self, images) -> np.ndarray:
        from .evaluation import as_uint8

        return as_uint8(self.model.encode(check_images(images, multiple=self.multiple)))

    def _check_cipher(self, ciphertext) -> np.ndarray:
        return check_cipher_images(ciphertext, self.multiple)

    def decrypt(self, ciphertext) -> np.ndarray:
        cipher = self._check_cipher(ciphertext)
        return np.clip(self.model.decode(cipher.astype(np.float32) / 255.0), 0.0, 1.0).astype(np.float32)

    def cipher_image(self, ciphertext) -> np.ndarray:
        """The ciphertext is an 8-bit image already."""
        return self._check_cipher(ciphertext)

    def features(self, ciphertext) -> np.ndarray:
        return (self._check_cipher(ciphertext).astype(np.float32) / 255.0)[..., None]

    def public(self) -> "PublicEncryption":
        """The encryption alone, as the public key gives it to anyone (no decryption)."""
        return PublicEncryption(self.model.encoder)

    def with_key(self, key) -> "SAAECipher":
        """The same cipher with another trained model as its key pair: an :class:`SAAE`, an ``SAAECipher``, or
        the name of a pretrained model (``"saae_64_seed1"``: the same recipe from seed 1)."""
        if isinstance(key, SAAECipher):
            return SAAECipher(key.model)
        if isinstance(key, SAAE):
            return SAAECipher(key)
        if isinstance(key, (str, Path)):
            return SAAECipher(load_model(key))
        raise TypeError(f"key must be a trained SAAE, an SAAECipher or a pretrained model's name, got "
                        f"{type(key).__name__}; train one with utils.ciphers.saae.train")

    def other_key(self) -> "SAAECipher":
        """Another key pair: the model trained by the same recipe from seed 1 (``saae_64_seed1``; see its card)."""
        return self.with_key(OTHER_KEY_MODEL)

    def threat_model(self) -> ThreatModel:
        return ThreatModel("the design, the training recipe and the encoder (the paper's public key)",
                           "the decoder (the private key), trained with the encoder from a seed", 32,
                           "the decoder's weights are not drawn at random but trained from a 32-bit seed; anyone "
                           "with the public encoder encrypts images of their choice (unlimited chosen pairs) "
                           "and can invert it by gradient descent; deterministic")

    #: Adam steps of :meth:`dedicated_attack`'s inversion (the benchmark's ``--inversion-steps`` sets it)
    inversion_steps = 200

    def dedicated_attack(self, known_plains, test_ciphertext, steps: int | None = None):
        """The break this design invites: the encoder is the *public* key, a differentiable function that anyone
        holds, so the attacker inverts it by gradient descent (:func:`invert_encoder`, ``steps`` Adam steps per
        batch; :attr:`inversion_steps` where None) and needs no known pairs at all. ``known_plains`` (float32
        (k, H, W), possibly k = 0) is only checked, for the interface; ``test_ciphertext``: uint8 cipher images (N, H, W). Returns the recovered
        float32 (N, H, W) images. On the shipped model the inversion finds images whose encryption matches the
        cipher images far better than grey does but which are not the plaintexts; run 1000 steps from grey,
        noise or an oracle start near the plaintext, the mismatch keeps falling without reaching the plaintext's
        zero and the images do not approach the plaintexts (``utils.ciphers.saae_inversion``, stored in
        ``utils/results/saae_inversion``, shown in notebook 08). This attack fails where the substitute
        decoder succeeds."""
        known = np.asarray(known_plains)
        if known.size:
            check_images(known, name="known_plains", multiple=self.multiple)
        cipher = self._check_cipher(test_ciphertext)
        return invert_encoder(self.model.encoder, cipher, steps=steps or self.inversion_steps)["images"]


class PublicEncryption(Cipher):
    """What the public key gives anyone: an SAAE's encryption, and no decryption.

    Built from the encoder alone (:meth:`SAAECipher.public`); ``encrypt``, ``cipher_image`` and ``features``
    work as in :class:`SAAECipher`, ``decrypt`` refuses. The attacks of this module take one of these, so
    that they provably use nothing but the public key.
    """

    name, kind = "saae (public key only)", "learned"
    image_size = None
    multiple = 4

    def __init__(self, encoder: keras.Model):
        self.encoder = encoder
        self.trained_size = encoder.input_shape[1]

    def encrypt(self, images) -> np.ndarray:
        from .evaluation import as_uint8

        return as_uint8(run_image_network(self.encoder, check_images(images, multiple=self.multiple), 64))

    def decrypt(self, ciphertext) -> np.ndarray:
        raise PermissionError("the public key only encrypts: decryption needs the private key (the decoder)")

    def cipher_image(self, ciphertext) -> np.ndarray:
        return check_cipher_images(ciphertext, self.multiple)


def check_cipher_images(ciphertext, multiple: int) -> np.ndarray:
    """uint8 cipher images (N, H, W) with H and W multiples of ``multiple``, or a ValueError saying so."""
    array = check_batch(ciphertext, "u", 3)
    if array.shape[1] % multiple or array.shape[2] % multiple:
        raise ValueError(f"ciphertext must be uint8 cipher images (N, H, W) with H and W multiples of {multiple}, "
                         f"got shape {array.shape}; pass what encrypt() returned")
    return array


# ------------------------------------------------------------------------------------------------------
# pretrained models
# ------------------------------------------------------------------------------------------------------

def save_pretrained(model: SAAE, folder, card: dict) -> None:
    """Write ``model.weights.h5`` (encoder and decoder), ``critic.weights.h5``, ``model_card.json`` and ``README.md``."""
    folder = Path(folder)
    model.save_weights(folder)
    card = record_files(folder, {"config": asdict(model.config), **card})
    (folder / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    _write_card_markdown(folder, card)


def _write_card_markdown(folder: Path, card: dict) -> None:
    m = card["test_metrics"]
    rows = [f"| {label} | {m[key]} |" for key, label in (
        ("psnr", "PSNR of the decryption (dB)"), ("ssim", "SSIM of the decryption"),
        ("entropy", "cipher entropy (bits, ideal 8)"), ("chi_square", "cipher histogram chi-square (pass < 293.25)"),
        ("correlation_horizontal", "cipher adjacent-pixel correlation, horizontal (ideal 0)"),
        ("npcr", "NPCR, one pixel changed (%, pass >= 99.4491)"), ("uaci", "UACI (%, pass 32.7389-34.1882)"))
        if key in m]
    lines = [f"# Model card: {folder.name}", "",
             "The scrambling adversarial autoencoder (Bao, Xue and Jin, MTAP 2021) as the course rebuilds it at "
             "CPU scale (`utils.ciphers.saae`): encoder and decoder are Cycle-GAN ResNet generators, a PatchGAN "
             "critic tells cipher images from uniform noise; loss = L1 reconstruction + lambda x LSGAN adversarial. "
             "The decoder reads the cipher image rounded to 8 bits.", "",
             f"- Command: `{card['command']}`", f"- Date: {card['date']}", f"- Machine: {card['machine']}",
             f"- Configuration: {card['config']}", f"- Networks: {card['networks']}",
             f"- Data: {card['data']}",
             f"- Training: {card['steps']} steps of {card['batch']} images, Adam {card['learning_rate']} "
             f"(beta1 0.5; {card['lr_schedule']}) for encoder+decoder and for the critic; weights kept: {card['kept']}",
             f"- Wall time: {card['wall_time_minutes']} min of training ({card['cpu_minutes']} CPU-minutes; "
             f"{card['images_per_second']} images per second; the CPU was shared with other jobs)", "",
             f"Test metrics ({card['test_description']}; mean [95 % bootstrap interval over source images]):", "",
             "| measure | value |", "| --- | --- |", *rows, "",
             f"What limits the quality: {card['limits']}", "",
             "Validation curve: `curve` in model_card.json.", ""]
    (folder / "README.md").write_text("\n".join(lines))


def load_model(name_or_path=DEFAULT_MODEL) -> SAAE:
    """A trained :class:`SAAE`: a pretrained model's name (``"saae_64"``, ``"saae_64_seed1"``) or a folder
    written by :func:`save_pretrained`; its card is in ``.card``."""
    def build(card, folder):
        model = SAAE(SAAEConfig(**card["config"]))
        model.load_weights(folder)
        return model

    return cards.load_model(name_or_path, build, family="SAAE model", prefix="saae",
                            train="python -m utils.ciphers.saae --out utils/pretrained/<name>",
                            needs=("model_card.json", "model.weights.h5"))


def load(model=DEFAULT_MODEL) -> SAAECipher:
    """The ``saae`` cipher with the shipped weights (``model``: another pretrained name, folder or :class:`SAAE`)."""
    return SAAECipher(model if isinstance(model, SAAE) else load_model(model))


# ------------------------------------------------------------------------------------------------------
# the chosen-plaintext attack: the public encoder is an encryption oracle
# ------------------------------------------------------------------------------------------------------

#: The kinds of plaintext an attacker may choose (see :func:`chosen_plaintexts`).
PLAINTEXT_KINDS = ("medical", "natural", "noise", "smooth noise")


def chosen_plaintexts(kind: str, n: int, size: int = 64, seed: int = 0, data="auto") -> np.ndarray:
    """``n`` plaintexts (float32 (n, size, size) in [0, 1]) an attacker chooses to feed the public encoder.

    * ``"medical"``: patches of the train and validation medical sources (:func:`utils.ciphers.attacks.attacker_images`),
      never the test set;
    * ``"natural"``: patches of the train and validation natural photographs (grey), no medical image at all;
    * ``"noise"``: independent uniform noise per pixel;
    * ``"smooth noise"``: uniform noise blurred at random scales and stretched to [0, 1] (blobs and ramps,
      image-like statistics without any image).
    """
    if kind not in PLAINTEXT_KINDS:
        raise ValueError(f"kind must be one of {PLAINTEXT_KINDS}, got {kind!r}")
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    if kind == "medical":
        from .attacks import attacker_images

        return attacker_images(size, n, seed=seed, data=data)
    if kind == "natural":
        from ..data import image_set

        half = n // 2
        train = image_set("train", size=size, n=n - half, kind="natural", seed=seed, data=data).images
        parts = [train]
        if half:
            parts.append(image_set("val", size=size, n=half, kind="natural", seed=seed + 1, data=data).images)
        out = np.concatenate(parts)
        return out[rng.permutation(len(out))]
    if kind == "noise":
        return rng.random((n, size, size), dtype=np.float32)
    from scipy.ndimage import gaussian_filter

    out = np.empty((n, size, size), np.float32)
    for i in range(n):
        field = gaussian_filter(rng.random((size, size)), sigma=float(rng.uniform(0.5, size / 6)), mode="wrap")
        field = (field - field.min()) / max(field.max() - field.min(), 1e-12)
        out[i] = field ** float(rng.uniform(0.5, 2.0))
    return out


class SubstituteDecoder:
    """An attacker's decoder: a ResNet generator from the cipher image to the plain image, trained on pairs.

    The same network and optimiser as :func:`utils.ciphers.attacks.train_substitute_decoder` (width 16, 2
    residual blocks, Adam 2e-3, mean squared error), trained by a plain ``GradientTape`` loop that can be
    resumed (for curves against training time) and counts its own wall and CPU seconds. (Keras's ``fit``
    and ``predict`` go through ``tf.data``, whose start-up notes TensorFlow 2.21 writes to the notebook's
    stderr; this loop has none.)
    """

    def __init__(self, size: int = 64, channels: int = 1, width: int = 16, blocks: int = 2,
                 learning_rate: float = 2e-3, seed: int = 0):
        import tensorflow as tf

        from ..layers.blocks import resnet_generator

        keras.utils.set_random_seed(seed)
        self.network = resnet_generator(channels, 1, width=width, blocks=blocks, size=size, name="substitute_decoder")
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.rng = np.random.default_rng(seed)
        self.steps, self.seconds, self.cpu_seconds = 0, 0.0, 0.0
        variables = self.network.trainable_variables

        @tf.function(reduce_retracing=True)
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = ops.mean(ops.square(self.network(x, training=True) - y))
            self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        self._step = step

    def train(self, features, plains, steps: int, batch: int = 16) -> "SubstituteDecoder":
        """``steps`` more Adam steps on batches drawn at random from the pairs (``features`` (N, H, W, C) from
        :meth:`Cipher.features`, ``plains`` (N, H, W))."""
        x = np.asarray(features, np.float32)
        y = np.asarray(plains, np.float32)[..., None]
        if x.ndim != 4 or x.shape[:3] != y.shape[:3]:
            raise ValueError(f"features must be (N, H, W, C) matching plains (N, H, W); got {x.shape} and {y.shape[:3]}")
        size = min(batch, len(x))
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(int(steps)):
            index = self.rng.integers(len(x), size=size)
            self._step(x[index], y[index])
        self.steps += int(steps)
        self.seconds += time.perf_counter() - t0
        self.cpu_seconds += time.process_time() - c0
        return self

    def decode(self, features, batch: int = 64) -> np.ndarray:
        """Plain images (N, H, W) in [0, 1] read from ``features``."""
        x = np.asarray(features, np.float32)
        out = [ops.convert_to_numpy(self.network(x[i:i + batch], training=False)) for i in range(0, len(x), batch)]
        return np.clip(np.concatenate(out)[..., 0], 0.0, 1.0)


def chosen_plaintext_curve(cipher: Cipher, plains: np.ndarray, test_set, ks=(0, 16, 64, 256), steps: int = 300,
                           batch: int = 16, seed: int = 0, **network_kwargs) -> dict[int, dict]:
    """Recovered quality of the test images against the number k of chosen pairs.

    The attacker feeds their first k plaintexts ``plains`` to the public encryption (``cipher.encrypt``;
    pass :meth:`SAAECipher.public`) and trains a fresh :class:`SubstituteDecoder` for ``steps`` steps on
    the pairs, as :func:`utils.ciphers.attacks.known_plaintext_curve` does with intercepted pairs. k = 0 is
    the constant guess at the mean grey level of the attacker's images. Returns, per k, ``psnr``,
    ``ssim``, ``mse`` (Intervals over the test sources) and ``seconds`` / ``cpu_seconds`` of training.
    """
    from .attacks import curve_over_k

    plains = np.asarray(plains, np.float32)
    if max(ks) > len(plains):
        raise ValueError(f"ks go up to {max(ks)} pairs but only {len(plains)} plaintexts were given")

    def attack(chosen, features, test_features):
        attacker = SubstituteDecoder(size=test_set.images.shape[1], seed=seed, **network_kwargs)
        attacker.train(features, chosen, steps, batch)
        return attacker.decode(test_features), {"seconds": attacker.seconds, "cpu_seconds": attacker.cpu_seconds}

    return curve_over_k(cipher, plains, test_set, ks, attack, at_zero={"seconds": 0.0, "cpu_seconds": 0.0})


def attack_time_curve(cipher: Cipher, plains: np.ndarray, test_set, steps: int = 600, checkpoints: int = 6,
                      batch: int = 16, seed: int = 0, **network_kwargs) -> list[dict]:
    """One :class:`SubstituteDecoder` trained on all the chosen pairs, measured on the test set as it trains.

    Returns one row per checkpoint: ``step``, ``seconds`` and ``cpu_seconds`` of training so far (the
    measurements excluded), and ``psnr`` / ``ssim`` / ``mse`` Intervals of the test images it recovers;
    the last row also holds the trained attacker (``decoder``, a :class:`SubstituteDecoder`).
    """
    from .evaluation import _quality, as_uint8

    plains = np.asarray(plains, np.float32)
    features = cipher.features(cipher.encrypt(plains))
    test_features = cipher.features(cipher.encrypt(test_set.images))
    target = as_uint8(test_set.images)
    groups = getattr(test_set, "ids", None)
    attacker = SubstituteDecoder(size=plains.shape[1], seed=seed, **network_kwargs)
    marks = sorted({max(1, round(steps * (j + 1) / checkpoints)) for j in range(checkpoints)})
    rows = []
    for mark in marks:
        attacker.train(features, plains, mark - attacker.steps, batch)
        rows.append({"step": mark, "seconds": attacker.seconds, "cpu_seconds": attacker.cpu_seconds,
                     **_quality(target, as_uint8(attacker.decode(test_features)), groups)})
    rows[-1]["decoder"] = attacker
    return rows


def invert_encoder(encoder: keras.Model, cipher8: np.ndarray, steps: int = 200, learning_rate: float = 0.05,
                   batch: int = 64, start: np.ndarray | None = None, checkpoints=()) -> dict:
    """Decrypt without any decoder: find x with E(x) = c by gradient descent through the public encoder.

    x = sigmoid(z); z starts at 0 (a grey image), or at the logit of ``start`` (float32 (N, H, W) images in
    [0, 1], clipped to [0.001, 0.999]); Adam on z minimises the mean squared difference between E(x) and the
    cipher image c (uint8 (N, H, W)). Returns ``images`` (float32 (N, H, W)), ``seconds``, ``cpu_seconds``,
    and ``trace``: the images after each step count in ``checkpoints`` (a dict step -> images).
    """
    import tensorflow as tf

    c = np.asarray(cipher8)
    if c.dtype != np.uint8 or c.ndim != 3:
        raise TypeError(f"cipher8 must be uint8 cipher images (N, H, W), got {c.dtype} {c.shape}")
    if start is not None:
        start = np.asarray(start, np.float32)
        if start.shape != c.shape:
            raise ValueError(f"start must have the cipher images' shape {c.shape}, got {start.shape}")
    net = encoder if tuple(encoder.input_shape[1:3]) == c.shape[1:3] else any_size(encoder)
    marks = sorted({int(m) for m in checkpoints if 0 <= int(m) <= steps})
    t0, c0 = time.perf_counter(), time.process_time()
    out, trace = [], {m: [] for m in marks}
    for i in range(0, len(c), batch):
        target = tf.constant(c[i:i + batch, ..., None].astype(np.float32) / 255.0)
        if start is None:
            z = tf.Variable(tf.zeros_like(target))
        else:
            x0 = np.clip(start[i:i + batch, ..., None], 1e-3, 1 - 1e-3)
            z = tf.Variable(np.log(x0 / (1 - x0)).astype(np.float32))
        opt = keras.optimizers.Adam(learning_rate)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(net(tf.sigmoid(z), training=False) - target))
            opt.apply_gradients([(tape.gradient(loss, z), z)])
            return loss

        for k in range(steps + 1):
            if k in trace:
                trace[k].append(tf.sigmoid(z).numpy()[..., 0])
            if k < steps:
                step()
        out.append(tf.sigmoid(z).numpy()[..., 0])
    return {"images": np.concatenate(out).astype(np.float32), "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0,
            "trace": {m: np.concatenate(v).astype(np.float32) for m, v in trace.items()}}


# ------------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------------

LIMITS = ("a CPU budget: generators of width {width} with {blocks} residual blocks (the paper's Cycle-GAN "
          "generators have 64 channels and 6-9 blocks at 256x256), {steps} steps of {batch} images, "
          "and a training set of patches from only {sources} medical source images; and the design itself: a "
          "convolutional encoder maps equal neighbourhoods to equal outputs, so flat regions of the plaintext "
          "stay visible as texture in the cipher image, and a one-pixel change stays local (see the avalanche row).")


def _main(argv=None) -> None:
    import argparse
    import platform

    from ..data import image_set
    from ..runtime import machine_summary, seed_everything
    from . import evaluation as ev

    parser = argparse.ArgumentParser(prog="python -m utils.ciphers.saae",
                                     description="Train a scrambling adversarial autoencoder and write weights + model card.")
    parser.add_argument("--out", type=Path, required=True, help="folder for the weights and the model card")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--constant-lr", action="store_true", help="no cosine decay of the learning rate")
    parser.add_argument("--pool", type=int, default=2048, help="training patches (train split)")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--critic-width", type=int, default=16)
    parser.add_argument("--adv-weight", type=float, default=0.05, help="lambda, the weight of the adversarial loss")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--eval-every", type=int, default=0, help="validation every N steps (default steps/20)")
    parser.add_argument("--n-val", type=int, default=64)
    parser.add_argument("--n-test", type=int, default=224)
    parser.add_argument("--keep", default="best", choices=["best", "last"],
                        help="keep the weights with the best validation PSNR, or the last ones")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    seed_everything(args.seed)
    config = SAAEConfig(image_size=args.size, width=args.width, blocks=args.blocks, critic_width=args.critic_width,
                        adv_weight=args.adv_weight, seed=args.seed)
    model = SAAE(config)
    pool = image_set("train", size=args.size, n=args.pool, seed=args.seed)
    val = image_set("val", size=args.size, n=args.n_val)
    eval_every = args.eval_every or max(1, args.steps // 20)
    history = train(model, pool.images, args.steps, args.batch, args.lr, val=val.images, eval_every=eval_every,
                    keep=args.keep, decay=not args.constant_lr, progress=not args.quiet)
    test = image_set("test", size=args.size, n=args.n_test)
    cipher = SAAECipher(model)
    ct = cipher.encrypt(test.images)
    measured = {**ev.reconstruction(cipher, test, ct), **ev.cipher_statistics(cipher, test, ct),
                **{k: v for k, v in ev.avalanche(cipher, test).items() if k in ("npcr", "uaci")}}
    metrics_text = {k: v.format(4 if k in ("npcr", "uaci") else 3) for k, v in measured.items()
                    if k in ("psnr", "ssim", "entropy", "chi_square", "correlation_horizontal", "npcr", "uaci")}
    argv_text = " ".join(argv if argv is not None else sys.argv[1:])
    card = {"command": f"python -m utils.ciphers.saae {argv_text}",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_summary(),
            "platform": platform.platform(), "networks": model.describe(),
            "data": f"training: {pool.description}; flips and quarter turns at random. Validation (monitoring, "
                    f"choice of the kept weights): {val.description}. Test: {test.description}",
            "steps": args.steps, "batch": args.batch, "learning_rate": args.lr,
            "lr_schedule": "constant" if args.constant_lr else "cosine decay to 10 %", "pool": args.pool,
            "kept": f"step {history['kept_step']} ({args.keep} validation PSNR)" if args.keep == "best" else "last step",
            "wall_time_minutes": round(history["seconds"] / 60, 1),
            "cpu_minutes": round(history["cpu_seconds"] / 60, 1),
            "images_per_second": round(history["images_per_second"], 1),
            "test_description": f"{len(test)} test images from {len(set(test.ids))} source images",
            "test_metrics": metrics_text,
            "test_metrics_values": {k: [round(v.mean, 4), round(v.low, 4), round(v.high, 4), v.n] for k, v in measured.items()},
            "limits": LIMITS.format(width=args.width, blocks=args.blocks, steps=args.steps, batch=args.batch,
                                    sources=len(set(pool.ids))),
            "curve": [{k: round(v, 4) if isinstance(v, float) else v for k, v in e.items()} for e in history["evals"]],
            "losses_every_10_steps": {k: [round(float(np.mean(history[k][i:i + 10])), 5)
                                          for i in range(0, len(history[k]), 10)]
                                      for k in ("reconstruction", "adversarial", "critic")}}
    save_pretrained(model, args.out, card)
    print(json.dumps({k: card[k] for k in ("wall_time_minutes", "cpu_minutes", "kept", "test_metrics")}, indent=2))


if __name__ == "__main__":
    _main()
