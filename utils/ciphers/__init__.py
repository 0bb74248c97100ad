"""Every image cipher of the course behind one interface (notebooks 05-09).

    utils.ciphers.aes_gcm   AES-256-GCM through the ``cryptography`` package: the baseline
"""
