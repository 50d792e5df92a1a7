"""Uses the soft counts N_k as the new weights without dividing by N."""
import numpy as np

LOSES = ("updates", "em")


def updates(data, prob_matrix, weights, means, covariances):
    data = np.asarray(data, dtype=float)
    nk = np.sum(prob_matrix, axis=0)
    weights = nk
    means = (prob_matrix.T @ data) / nk[:, None]
    covariances = np.array([np.cov(data.T, aweights=prob_matrix[:, k], bias=True).reshape(data.shape[1], data.shape[1])
                            for k in range(len(nk))])
    return weights, means, covariances
