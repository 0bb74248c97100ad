"""Building blocks in backend-agnostic Keras 3, shared by the hiders (01-04) and the ciphers (05-08).

    utils.layers.wavelets  Haar wavelet transform and space-to-depth, exactly invertible
    utils.layers.coupling  affine coupling blocks (Real NVP, HiNet), exactly invertible
    utils.layers.blocks    residual blocks, ResNet generators (Cycle-GAN) and PatchGAN discriminators

Only ``keras.ops``, ``keras.layers`` and ``keras.random`` are used, so the same code trains under
TensorFlow, JAX or PyTorch (``KERAS_BACKEND``), and weights move between them.
"""
