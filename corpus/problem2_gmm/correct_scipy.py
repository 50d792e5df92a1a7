"""Correct: scipy.stats.multivariate_normal.logpdf with logsumexp, einsum for the M-step, a while loop for EM."""
import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal


def probabilities(data, weights, means, covariances):
    x = np.asarray(data, dtype=np.float64)
    lw = np.stack([np.log(weights[k]) + np.reshape(multivariate_normal(np.atleast_1d(means[k]), covariances[k]).logpdf(x), len(x))
                   for k in range(len(weights))], axis=1)
    return np.exp(lw - logsumexp(lw, axis=1)[:, None])


def updates(data, prob_matrix, weights, means, covariances):
    x = np.asarray(data, dtype=np.float64)
    r = np.asarray(prob_matrix, dtype=np.float64)
    nk = r.sum(0)
    mu = np.einsum("nk,nd->kd", r, x) / nk[:, None]
    diff = x[None, :, :] - mu[:, None, :]                 # (K, N, D)
    sigma = np.einsum("nk,kni,knj->kij", r, diff, diff) / nk[:, None, None]
    return nk / x.shape[0], mu, sigma


def log_likelihood(data, weights, means, covariances):
    x = np.asarray(data, dtype=np.float64)
    total = 0.0
    per_component = [multivariate_normal(np.atleast_1d(means[k]), covariances[k]).logpdf(x) for k in range(len(weights))]
    lw = np.log(np.asarray(weights))[None, :] + np.reshape(np.array(per_component), (len(weights), len(x))).T
    total = logsumexp(lw, axis=1).sum()
    return total


def em(data, weights, means, covariances, tol=1e-3, max_iter=1000):
    lls = [log_likelihood(data, weights, means, covariances)]
    done = False
    while not done:
        h = probabilities(data, weights, means, covariances)
        weights, means, covariances = updates(data, h, weights, means, covariances)
        lls.append(log_likelihood(data, weights, means, covariances))
        done = (lls[-1] - lls[-2] < tol) or (len(lls) - 1 >= max_iter)
    return weights, means, covariances, lls
