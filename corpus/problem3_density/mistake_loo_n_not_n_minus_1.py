"""Leaves x_i out of the count but still divides by n h instead of (n - 1) h."""
import numpy as np

LOSES = ("loo_cv_risk",)


def loo_cv_risk(samples, h):
    _, counts = np.unique(np.floor(np.asarray(samples) / h), return_counts=True)
    n = len(samples)
    integral = np.sum(counts ** 2) / (n ** 2 * h)
    held_out = np.sum(counts * (counts - 1)) / (n * h)
    return integral - 2 / n * held_out
