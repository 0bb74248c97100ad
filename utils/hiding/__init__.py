"""Steganography (notebooks 01-04): hiding a secret image inside a cover image, and attacking that.

    utils.hiding.stego            Baluja's prep / hide / reveal networks, training, pretrained models
    utils.hiding.manual_backprop  the same networks trained with hand-written (and dilated) gradients
    utils.hiding.lsb              LSB substitution, the classic baseline
    utils.hiding.steganalysis     detecting containers: chi-square attack, noise level, a CNN detector
    utils.hiding.attacks          a known-plaintext attacker's substitute reveal network
"""
