"""Correct: pseudo-inverse for least squares; the expanded squared distance, logsumexp and in-place updates for the kernel."""
import numpy as np
from scipy.special import logsumexp


def ols_smoother_matrix(H, H_new):
    return np.matmul(H_new, np.linalg.pinv(H))


def kernel_smoother_matrix(X, X_new, sigma):
    A = np.asarray(X_new, dtype=float)
    B = np.asarray(X, dtype=float)
    logits = (A ** 2).sum(1)[:, None] + (B ** 2).sum(1)[None, :] - 2.0 * A @ B.T
    np.maximum(logits, 0.0, out=logits)
    logits *= -1.0 / (2.0 * sigma * sigma)
    logits -= logsumexp(logits, axis=1, keepdims=True)
    np.exp(logits, out=logits)
    return logits


def kernel_regression(X, Y, X_new, sigma):
    return np.einsum("ji,i->j", kernel_smoother_matrix(X, X_new, sigma), np.asarray(Y, dtype=float))


ols_is_linear_smoother = bool(1)
kernel_is_linear_smoother = np.True_
