"""np.histogram on explicit edges 0, h, 2h, ... past the largest sample; J from its closed form."""
import numpy as np


def histogram_density(x, samples, h):
    samples = np.asarray(samples)
    edges = h * np.arange(int(np.floor(samples.max() / h)) + 2)
    counts, _ = np.histogram(samples, bins=edges)
    x = np.asarray(x, dtype=float)
    j = np.floor(x / h).astype(int)
    inside = (j >= 0) & (j < len(counts))
    values = np.where(inside, counts[np.clip(j, 0, len(counts) - 1)], 0)
    return values / (len(samples) * h)


def l_prime(samples, h):
    samples = np.asarray(samples)
    edges = h * np.arange(int(np.floor(samples.max() / h)) + 2)
    counts, _ = np.histogram(samples, bins=edges)
    n = len(samples)
    return -np.sum(counts ** 2) / (n ** 2 * h)


def loo_cv_risk(samples, h):
    samples = np.asarray(samples)
    edges = h * np.arange(int(np.floor(samples.max() / h)) + 2)
    counts, _ = np.histogram(samples, bins=edges)
    n = len(samples)
    return 2 / ((n - 1) * h) - (n + 1) / ((n - 1) * n ** 2 * h) * np.sum(counts ** 2)
