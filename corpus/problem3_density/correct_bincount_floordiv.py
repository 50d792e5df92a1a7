"""Python floor division x // h, np.bincount of shifted bin indices, float32 input accepted."""
import numpy as np


def histogram_density(x, samples, h):
    s = np.array(samples, dtype=np.float64).ravel()
    xs = np.array(x, dtype=np.float64)
    sample_bins = s // h
    x_bins = xs // h
    flat = x_bins.reshape(-1)
    counts = (flat[:, None] == sample_bins[None, :]).sum(axis=1)
    dens = counts.reshape(xs.shape) / (s.size * h)
    if xs.ndim == 0:
        return float(dens)
    return dens


def l_prime(samples, h):
    idx = (np.array(samples, dtype=np.float64) // h).astype(np.int64)
    c = np.bincount(idx - idx.min())
    n = c.sum()
    return -(c @ c) / (n ** 2 * h)


def loo_cv_risk(samples, h):
    idx = (np.array(samples, dtype=np.float64) // h).astype(np.int64)
    c = np.bincount(idx - idx.min()).astype(float)
    n = c.sum()
    integral = (c ** 2).sum() / (n ** 2 * h)
    held_out = (c * (c - 1)).sum() / ((n - 1) * h)
    return integral - 2.0 / n * held_out
