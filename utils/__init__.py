"""Shared code of the course "Deep learning for medical image steganography and encryption".

Modules:
    utils.data      the offline sample corpus, patch sets with a fixed held-out split, real-dataset loaders
    utils.dicom     reading DICOM into [0, 1] images with clear errors; de-identification
    utils.metrics   image quality and cipher-image statistics (PSNR, SSIM, NPCR, UACI, entropy, ...)
    utils.plotting  image grids and animations for the notebooks
    utils.runtime   seeds, op determinism, and a one-line description of the machine
    utils.series    the series runner: ``python -m utils.series``
"""

__version__ = "0.1.0"
