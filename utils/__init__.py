"""Shared code of the course "Deep learning for medical image steganography and encryption".

The folders follow the course's parts; a notebook's method lives in the folder of its part:

    utils.data       the offline corpus, DICOM reading and de-identification, train / validation / test
                     splits, patch and pair sets, loaders of the real datasets          (notebook 00)
    utils.metrics    image quality, cipher-image statistics, bootstrap intervals       (every notebook)
    utils.hiding     steganography: Baluja's networks and their training, hand-written back-propagation,
                     LSB, steganalysis and attacks on hiders                          (notebooks 01-04)
    utils.ciphers    every image cipher of the course behind one interface: AES-GCM, chaotic,
                     DRPE, DeepEDN, BP-network, invertible network, SAAE              (notebooks 05-08)
    utils.runner     the series runner: ``python -m utils.runner``
    utils.plotting   image grids and animations for the notebooks
    utils.runtime    seeds, op determinism, and a one-line description of the machine
    utils.pretrained weights and model cards of the trained models the course ships

``utils/README.md`` maps each notebook to the modules it imports and the tests that cover them.
"""

import os as _os
import sys as _sys

# Bit-identical training from run to run: oneDNN picks its kernels (and so the order of its sums) at run
# time, and parallel graph ops aggregate gradients in a varying order; both are switched off here, before
# TensorFlow is first imported (a setting already in the environment wins). Across machines the last digits
# can still move, so notebooks check numbers of in-notebook training through verdicts (utils.metrics.verdicts).
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
_os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
#: True when TensorFlow was imported before this package, too late for the settings above.
TENSORFLOW_IMPORTED_FIRST = "tensorflow" in _sys.modules

__version__ = "0.2.0"
