"""Returns the average log-likelihood per point instead of the total (like scikit-learn's score)."""
import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

LOSES = ("log_likelihood", "em")


def log_likelihood(data, weights, means, covariances):
    logs = np.column_stack([np.log(weights[k]) + multivariate_normal(means[k], covariances[k]).logpdf(data)
                            for k in range(len(weights))])
    return np.mean(logsumexp(logs, axis=1))
