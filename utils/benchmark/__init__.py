"""``python -m utils.benchmark``: every cipher and every hider of the course on one medical test set.

    python -m utils.benchmark --out runs/benchmark              # the offline corpus's test images, 64 px
    python -m utils.benchmark --quick --out /tmp/bench          # CI-sized: few images, tiny attack budget
    python -m utils.benchmark --data chestxray14 --out ...      # a real dataset of data/README.md
    python -m utils.benchmark --methods aes_gcm chaotic --out ...
    python -m utils.benchmark --timing-only --out runs/benchmark  # re-time a finished run (an idle machine)
    python -m utils.benchmark --extend --methods all --out runs/benchmark  # add the methods a finished run lacks

The methods are every cipher of :func:`utils.ciphers.available`, AES-GCM misused with one repeated nonce
(``aes_gcm_repeated_nonce``, the insecure control) and, for comparison, the course's grey hiders (the
shipped deep-steganography models and lossless 3-3-2 LSB): a hider "encrypts" an image by hiding it in a
test photograph (the i-th image always in the i-th test cover) and "decrypts" by revealing it. Each is
measured on the same test images (never used in training), every number with a 95 % bootstrap interval
over source images:

* **threat model** (:class:`utils.ciphers.base.ThreatModel`): what is public, what the key is, its size
  in bits; every measurement below is made under it;
* **the distinguishing games** (:mod:`utils.ciphers.games`), security by its definition: the advantage
  of the equality attacker in the left-or-right game (1 for every deterministic method) and of a CNN
  distinguisher in the real-or-random game;
* **known-plaintext attack** at a fixed budget: a substitute decoder trained on ``--attack-k`` pairs of
  the attacker's own images (a hider puts them into covers of the training split, never the test covers),
  and the method's dedicated attack where it has one; the better is kept, with its SSIM, beside the two
  floors of :mod:`utils.metrics.verdicts`: the blind constant (k = 0) and the mean oracle; where the
  dedicated attack decrypts as the key holder does, the fewest pairs with which it does (``pairs_to_exact``);
* **reconstruction**: MSE (the mean of squared differences on the 0-1 scale -- the evaluation report's
  formula takes a square root of the difference by mistake), PSNR, SSIM, share of exact images;
* **memory**: kB of the ciphertext or container as it would be stored or sent, per image, beside the
  plaintext's PNG and AES-GCM over that PNG (the fair row for a file);
* **statistics** of the cipher image: entropy, histogram chi-square, adjacent-pixel correlations --
  descriptions of one picture, not evidence of security;
* **avalanche**: NPCR and UACI after a one-pixel change, and the shares that pass Wu et al.'s critical
  values for each row's cipher-image size (a randomised cipher passes by its nonce, not by diffusion:
  compare ``aes_gcm_repeated_nonce``);
* **key sensitivity**: PSNR of a decryption with another key (or another trained model);
* **speed**: encryption + decryption per image, timed in interleaved rounds (every method, then again),
  key streams and masks generated inside the timed call; the ratio to AES-GCM per round, its median and
  range, and AES-GCM's bare library call as its own row (the rest is the course's wrapper).

It writes ``results.csv`` (one row per method), ``results.md`` (the tables), ``results.json`` (everything,
with the intervals) and figures into ``--out``, and never writes anywhere else (not into the data folder).
While it runs, ``rows.partial.json`` there keeps each finished method's row: run the same command again after
an interruption and it measures only the methods still missing (the file goes when the run completes).
``--extend`` adds methods to a finished run in the same way; each row records the commit that measured it.

The package: :mod:`.methods` (what is measured), :mod:`.measure` (one method), :mod:`.timing` (speed),
:mod:`.resumable` (a whole run, resumable), :mod:`.report` (tables and figures), :mod:`.cli` (the command line).
"""

from ..hiding.as_cipher import HiderMethod  # the hider adapter lives with the hiders
from .cli import main
from .measure import measure, pairs_to_exact
from .methods import CONTROL, HIDERS, method_names, methods
from .report import commits_note, markdown_table
from .resumable import PARTIAL, retime, run
from .timing import AesLibraryCall, interleaved_timing

__all__ = ["HiderMethod", "AesLibraryCall", "CONTROL", "HIDERS", "PARTIAL", "method_names", "methods", "pairs_to_exact",
           "interleaved_timing", "measure", "commits_note", "markdown_table", "run", "retime", "main"]
