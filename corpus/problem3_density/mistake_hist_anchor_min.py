"""Anchors the bins at the smallest sample (as np.histogram does) instead of at 0."""
import numpy as np

LOSES = ("histogram_density",)


def histogram_density(x, samples, h):
    samples = np.asarray(samples, dtype=float)
    start = samples.min()
    j = np.floor((np.asarray(x, dtype=float) - start) / h)
    counts = np.sum(j[..., None] == np.floor((samples - start) / h), axis=-1)
    return counts / (len(samples) * h)
