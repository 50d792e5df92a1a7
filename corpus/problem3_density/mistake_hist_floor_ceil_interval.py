"""Counts the samples in [floor(x/h) h, ceil(x/h) h), the original write-up's interval, which is empty when x is on a bin edge."""
import numpy as np

LOSES = ("histogram_density",)


def histogram_density(x, samples, h):
    samples = np.asarray(samples, dtype=float)
    x = np.asarray(x, dtype=float)
    lo = np.floor(x / h) * h
    hi = np.ceil(x / h) * h
    inside = (samples >= lo[..., None]) & (samples < hi[..., None])
    return inside.sum(axis=-1) / (len(samples) * h)
