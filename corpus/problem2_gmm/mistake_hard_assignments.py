"""Turns the responsibilities into hard argmax labels in the M-step (k-means style), so every update is a plain cluster statistic."""
import numpy as np

LOSES = ("updates", "em")


def updates(data, prob_matrix, weights, means, covariances):
    data = np.asarray(data, dtype=float)
    labels = np.argmax(prob_matrix, axis=1)
    k_count = prob_matrix.shape[1]
    new_weights = np.array([np.mean(labels == k) for k in range(k_count)])
    new_means = np.array(means, dtype=float)
    new_covs = np.array(covariances, dtype=float)
    for k in range(k_count):
        members = data[labels == k]
        if len(members) > 1:
            new_means[k] = members.mean(axis=0)
            new_covs[k] = np.cov(members.T, bias=True).reshape(data.shape[1], data.shape[1])
    return new_weights, new_means, new_covs
