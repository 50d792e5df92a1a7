"""Keeps only the leave-one-out term -(2/n) sum_i p_hat_{-i}(x_i) and drops the integral of p_hat^2."""
import numpy as np

LOSES = ("loo_cv_risk",)


def loo_cv_risk(samples, h):
    _, counts = np.unique(np.floor(np.asarray(samples) / h), return_counts=True)
    n = len(samples)
    return -2 / n * np.sum(counts * (counts - 1)) / ((n - 1) * h)
