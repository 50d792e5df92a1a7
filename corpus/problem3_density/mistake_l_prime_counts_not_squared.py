"""Sums the counts instead of their squares, which always gives -1/(n h)."""
import numpy as np

LOSES = ("l_prime",)


def l_prime(samples, h):
    _, counts = np.unique(np.floor(np.asarray(samples) / h), return_counts=True)
    n = len(samples)
    return -np.sum(counts) / (n ** 2 * h)
