"""Works for a single number x only: with an array x it sums the matches over all points into one number."""
import numpy as np

LOSES = ("histogram_density",)


def histogram_density(x, samples, h):
    samples = np.asarray(samples, dtype=float)
    j = np.floor(np.asarray(x) / h)
    count = np.sum(np.floor(samples / h) == j)
    return count / (len(samples) * h)
