"""Divides the count by n only, forgetting the bin width h (a histogram of proportions, not a density)."""
import numpy as np

LOSES = ("histogram_density",)


def histogram_density(x, samples, h):
    samples = np.asarray(samples, dtype=float)
    j = np.floor(np.asarray(x, dtype=float) / h)
    counts = np.sum(j[..., None] == np.floor(samples / h), axis=-1)
    return counts / len(samples)
