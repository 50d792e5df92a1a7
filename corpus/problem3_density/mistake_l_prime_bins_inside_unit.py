"""Loops over the int(1/h) bins that fit inside [0, 1], dropping the last bin when h does not divide 1."""
import numpy as np

LOSES = ("l_prime",)


def l_prime(samples, h):
    samples = np.asarray(samples)
    n = len(samples)
    total = 0
    for j in range(int(1 / h)):
        c = np.sum((samples >= j * h) & (samples < (j + 1) * h))
        total += c ** 2
    return -total / (n ** 2 * h)
