"""Sweeps the bins one by one with comparisons j*h <= s < (j+1)*h; J by leaving out with np.delete."""
import numpy as np


def histogram_density(x, samples, h):
    samples = np.asarray(samples, dtype=float)
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    for j in range(int(np.floor(samples.min() / h)), int(np.floor(samples.max() / h)) + 1):
        count = np.sum((samples >= j * h) & (samples < (j + 1) * h))
        in_bin = (x >= j * h) & (x < (j + 1) * h)
        out = np.where(in_bin, count / (len(samples) * h), out)
    return out


def l_prime(samples, h):
    samples = np.asarray(samples, dtype=float)
    n = len(samples)
    total = 0.0
    for j in range(int(np.floor(samples.max() / h)) + 1):
        count = np.count_nonzero((samples >= j * h) & (samples < (j + 1) * h))
        total += count ** 2
    return -total / (n ** 2 * h)


def loo_cv_risk(samples, h):
    samples = np.asarray(samples, dtype=float)
    n = len(samples)
    integral = -l_prime(samples, h)
    loo_sum = 0.0
    for i in range(n):
        rest = np.delete(samples, i)
        j = np.floor(samples[i] / h)
        loo_sum += np.sum((rest >= j * h) & (rest < (j + 1) * h)) / ((n - 1) * h)
    return integral - 2 * loo_sum / n
