import math

import numpy as np


def histogram_density(x, samples, h):
    # the bin of x is [floor(x/h) h, ceil(x/h) h)
    n = len(samples)
    lower = math.floor(x / h) * h
    upper = math.ceil(x / h) * h
    count = 0
    for s in samples:
        if lower <= s < upper:
            count += 1
    return count / (n * h)


def l_prime(samples, h):
    bins = np.floor(np.array(samples) / h)
    total = 0
    for b in np.unique(bins):
        total += np.sum(bins == b) ** 2
    return -total / (len(samples) ** 2 * h)


def loo_cv_risk(samples, h):
    n = len(samples)
    bins = np.floor(np.array(samples) / h)
    counts = np.array([np.sum(bins == b) for b in bins])
    integral = np.sum(np.unique(bins, return_counts=True)[1] ** 2) / (n ** 2 * h)
    loo = np.sum((counts - 1) / (n * h))
    return integral - 2 / n * loo
