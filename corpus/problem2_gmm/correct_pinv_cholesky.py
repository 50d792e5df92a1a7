"""Correct: precision matrices by pinv, log-determinants from a Cholesky factor, all components at once by broadcasting."""
import numpy as np
from scipy.special import logsumexp


def probabilities(data, weights, means, covariances):
    def _log_dens(data, weights, means, covariances):
        X = np.asarray(data, dtype=float)
        mu = np.asarray(means, dtype=float)
        cov = np.asarray(covariances, dtype=float)
        prec = np.linalg.pinv(cov)                                     # (K, D, D)
        chol = np.linalg.cholesky(cov)
        logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        diff = X[:, None, :] - mu[None, :, :]                          # (N, K, D)
        quad = np.einsum("nki,kij,nkj->nk", diff, prec, diff)
        return np.log(np.asarray(weights, dtype=float)) - 0.5 * (X.shape[1] * np.log(2 * np.pi) + logdet + quad)

    ld = _log_dens(data, weights, means, covariances)
    return np.exp(ld - logsumexp(ld, axis=1, keepdims=True))


def updates(data, prob_matrix, weights, means, covariances):
    X = np.asarray(data, dtype=float)
    R = np.asarray(prob_matrix, dtype=float)
    Nk = R.sum(axis=0)
    weights = Nk / R.shape[0]
    means = (R.T @ X) / Nk[:, None]
    # E[x x^T] minus mu mu^T would lose digits; centre first
    diff = X[:, None, :] - means[None, :, :]
    covariances = np.einsum("nk,nki,nkj->kij", R, diff, diff) / Nk[:, None, None]
    return weights, means, covariances


def log_likelihood(data, weights, means, covariances):
    def _log_dens(data, weights, means, covariances):
        X = np.asarray(data, dtype=float)
        mu = np.asarray(means, dtype=float)
        cov = np.asarray(covariances, dtype=float)
        prec = np.linalg.pinv(cov)                                     # (K, D, D)
        chol = np.linalg.cholesky(cov)
        logdet = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        diff = X[:, None, :] - mu[None, :, :]                          # (N, K, D)
        quad = np.einsum("nki,kij,nkj->nk", diff, prec, diff)
        return np.log(np.asarray(weights, dtype=float)) - 0.5 * (X.shape[1] * np.log(2 * np.pi) + logdet + quad)

    return float(logsumexp(_log_dens(data, weights, means, covariances), axis=1).sum())


def em(data, weights, means, covariances, tol=1e-3, max_iter=1000):
    lls = [log_likelihood(data, weights, means, covariances)]
    for _ in range(max_iter):
        weights, means, covariances = updates(data, probabilities(data, weights, means, covariances), weights, means, covariances)
        new = log_likelihood(data, weights, means, covariances)
        gain = new - lls[-1]
        lls.append(new)
        if gain < tol:
            break
    return weights, means, covariances, lls
