"""The exponent uses the distance ||x_i - x|| instead of its square."""
import numpy as np

LOSES = ("kernel_smoother_matrix", "kernel_regression")


def kernel_smoother_matrix(X, X_new, sigma):
    dist = np.linalg.norm(X_new[:, None, :] - X[None, :, :], axis=2)
    z = -dist / (2 * sigma ** 2)
    z -= z.max(axis=1, keepdims=True)
    w = np.exp(z)
    return w / w.sum(axis=1, keepdims=True)
