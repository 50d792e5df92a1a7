"""The distance uses only the first input coordinate, which is right for d = 1 and wrong for d > 1."""
import numpy as np

LOSES = ("kernel_smoother_matrix", "kernel_regression")


def kernel_smoother_matrix(X, X_new, sigma):
    diff = X_new[:, 0][:, None] - X[:, 0][None, :]
    z = -diff ** 2 / (2 * sigma ** 2)
    z -= z.max(axis=1, keepdims=True)
    w = np.exp(z)
    return w / w.sum(axis=1, keepdims=True)
