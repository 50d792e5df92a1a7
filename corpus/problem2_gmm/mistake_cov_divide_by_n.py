"""Divides the weighted scatter by the number of points N instead of the soft count N_k."""
import numpy as np

LOSES = ("updates", "em")


def updates(data, prob_matrix, weights, means, covariances):
    data = np.asarray(data, dtype=float)
    n = len(data)
    nk = prob_matrix.sum(axis=0)
    weights = nk / n
    means = prob_matrix.T @ data / nk[:, None]
    covariances = np.array([(prob_matrix[:, k] * (data - means[k]).T) @ (data - means[k]) / n
                            for k in range(len(nk))])
    return weights, means, covariances
