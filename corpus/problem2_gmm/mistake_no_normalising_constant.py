"""Drops the (2 pi)^(-D/2) factor of the Gaussian density in log_likelihood (harmless in the E-step, wrong here)."""
import numpy as np
from scipy.special import logsumexp

LOSES = ("log_likelihood", "em")


def log_likelihood(data, weights, means, covariances):
    data = np.asarray(data, dtype=float)
    logs = []
    for k in range(len(weights)):
        diff = data - means[k]
        quad = np.sum(diff * np.linalg.solve(covariances[k], diff.T).T, axis=1)
        logs.append(np.log(weights[k]) - 0.5 * np.log(np.linalg.det(covariances[k])) - 0.5 * quad)
    return np.sum(logsumexp(np.array(logs).T, axis=1))
