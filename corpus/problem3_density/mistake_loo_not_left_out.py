"""Evaluates the full histogram at x_i instead of the one built without x_i, so J is just L' again."""
import numpy as np

LOSES = ("loo_cv_risk",)


def loo_cv_risk(samples, h):
    _, counts = np.unique(np.floor(np.asarray(samples) / h), return_counts=True)
    n = len(samples)
    integral = np.sum(counts ** 2) / (n ** 2 * h)
    at_samples = np.sum(counts * counts / (n * h))
    return integral - 2 / n * at_samples
