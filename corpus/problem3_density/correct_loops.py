"""Plain Python loops over the samples, math.floor for the bin index, np.ndindex for array x."""
import math

import numpy as np


def histogram_density(x, samples, h):
    n = len(samples)

    def density_at(point):
        j = math.floor(point / h)
        count = 0
        for s in samples:
            if math.floor(s / h) == j:
                count += 1
        return count / (n * h)

    if np.ndim(x) == 0:
        return density_at(float(x))
    x = np.asarray(x, dtype=float)
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        out[idx] = density_at(x[idx])
    return out


def l_prime(samples, h):
    counts = {}
    for s in samples:
        j = math.floor(s / h)
        counts[j] = counts.get(j, 0) + 1
    n = len(samples)
    total = 0
    for c in counts.values():
        total += c * c
    return -total / (n * n * h)


def loo_cv_risk(samples, h):
    n = len(samples)
    bins = [math.floor(s / h) for s in samples]
    integral = 0.0
    for j in set(bins):
        c = bins.count(j)
        integral += h * (c / (n * h)) ** 2
    loo = 0.0
    for i in range(n):
        others = 0
        for k in range(n):
            if k != i and bins[k] == bins[i]:
                others += 1
        loo += others / ((n - 1) * h)
    return integral - 2 * loo / n
