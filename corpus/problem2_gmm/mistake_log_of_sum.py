"""Takes the log of a sum of densities in log_likelihood, which is -inf once a point's densities underflow."""
import numpy as np
from scipy.stats import multivariate_normal

LOSES = ("log_likelihood",)


def log_likelihood(data, weights, means, covariances):
    total = np.zeros(len(data))
    for k in range(len(weights)):
        total += weights[k] * multivariate_normal(means[k], covariances[k]).pdf(data).reshape(len(data))
    return np.sum(np.log(total))
