"""Correct: Cholesky solve of the normal equations, and a per-query loop with numpy vector operations for the kernel."""
import numpy as np
from scipy.linalg import cho_factor, cho_solve


def ols_smoother_matrix(H, H_new):
    H = np.asarray(H, dtype=float)
    factor = cho_factor(H.T @ H)
    # S^T = H (H^T H)^{-1} H_new^T
    return (H @ cho_solve(factor, np.asarray(H_new, dtype=float).T)).T


def kernel_smoother_matrix(X, X_new, sigma):
    X = np.atleast_2d(np.asarray(X, dtype=float))
    rows = []
    for q in np.atleast_2d(np.asarray(X_new, dtype=float)):
        a = -np.linalg.norm(X - q, axis=1) ** 2 / (2 * sigma ** 2)
        e = np.exp(a - np.max(a))
        rows.append(e / np.sum(e))
    return np.vstack(rows)


def kernel_regression(X, Y, X_new, sigma):
    Y = np.asarray(Y, dtype=float)
    out = np.empty(len(X_new))
    for j, q in enumerate(np.asarray(X_new, dtype=float)):
        a = -np.sum((np.asarray(X, dtype=float) - q) ** 2, axis=1) / (2 * sigma ** 2)
        a -= a.max()
        w = np.exp(a)
        out[j] = np.dot(w, Y) / w.sum()
    return out


ols_is_linear_smoother = True
kernel_is_linear_smoother = True
