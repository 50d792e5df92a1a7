"""Forgets the 1/h: returns -sum_j c_j^2 / n^2, so L' no longer blows up as h -> 0."""
import numpy as np

LOSES = ("l_prime",)


def l_prime(samples, h):
    _, counts = np.unique(np.floor(np.asarray(samples) / h), return_counts=True)
    n = len(samples)
    return -np.sum(counts ** 2) / n ** 2
