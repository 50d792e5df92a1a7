"""Computes the new covariances around the old means passed in, not around the new means."""
import numpy as np

LOSES = ("updates", "em")


def updates(data, prob_matrix, weights, means, covariances):
    data = np.asarray(data, dtype=float)
    nk = prob_matrix.sum(axis=0)
    new_weights = nk / len(data)
    new_means = prob_matrix.T @ data / nk[:, None]
    new_covs = np.zeros_like(covariances, dtype=float)
    for k in range(len(nk)):
        diff = data - means[k]
        new_covs[k] = (prob_matrix[:, k, None] * diff).T @ diff / nk[k]
    return new_weights, new_means, new_covs
