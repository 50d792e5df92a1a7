"""Counts by binary search on the sorted samples; L' and J written through p_hat at the samples."""
import numpy as np


def histogram_density(x, samples, h):
    data = np.sort(np.asarray(samples, dtype=float))
    j = np.floor(np.asarray(x, dtype=float) / h)
    left = np.searchsorted(data, j * h, side="left")
    right = np.searchsorted(data, (j + 1) * h, side="left")
    return (right - left) / (len(data) * h)


def l_prime(samples, h):
    # integral of p_hat^2 = (1/n) sum_i p_hat(x_i), so L' = -(1/n) sum_i p_hat(x_i)
    values = histogram_density(np.asarray(samples), samples, h)
    return -np.mean(values)


def loo_cv_risk(samples, h):
    n = len(samples)
    at_samples = histogram_density(np.asarray(samples), samples, h)
    integral = np.mean(at_samples)
    left_out = (n * h * at_samples - 1) / ((n - 1) * h)
    return integral - 2 * np.mean(left_out)
