"""Normalises the responsibilities over the points (each column sums to one) instead of over the components."""
import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

LOSES = ("probabilities", "em")


def probabilities(data, weights, means, covariances):
    logs = np.column_stack([np.log(weights[k]) + multivariate_normal(means[k], covariances[k]).logpdf(data).reshape(len(data))
                            for k in range(len(means))])
    return np.exp(logs - logsumexp(logs, axis=0, keepdims=True))
