"""Correct: scipy.spatial.distance.cdist and scipy.special.softmax for the kernel, lstsq for least squares."""
import numpy as np
from scipy.spatial.distance import cdist
from scipy.special import softmax


def ols_smoother_matrix(H, H_new):
    H = np.asarray(H, dtype=np.float64)
    # least squares coefficients for every unit target at once: the columns of pinv(H)
    coef, *_ = np.linalg.lstsq(H, np.eye(H.shape[0]), rcond=None)
    return np.asarray(H_new, dtype=np.float64) @ coef


def kernel_smoother_matrix(X, X_new, sigma):
    d2 = cdist(np.asarray(X_new, dtype=np.float64), np.asarray(X, dtype=np.float64), "sqeuclidean")
    return softmax(-d2 / (2 * sigma**2), axis=1)


def kernel_regression(X, Y, X_new, sigma):
    d2 = cdist(X_new, X, metric="sqeuclidean")
    W = softmax(-0.5 * d2 / sigma**2, axis=1)
    return W.dot(np.asarray(Y, dtype=np.float64))


ols_is_linear_smoother = True
kernel_is_linear_smoother = True
