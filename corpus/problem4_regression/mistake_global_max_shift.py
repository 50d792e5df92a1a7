"""The exponents are shifted by the maximum of the whole matrix instead of each row's maximum, so rows far below it still underflow to 0/0."""
import numpy as np

LOSES = ("kernel_smoother_matrix", "kernel_regression")


def kernel_smoother_matrix(X, X_new, sigma):
    d2 = np.sum((X_new[:, None, :] - X[None, :, :]) ** 2, axis=2)
    z = -d2 / (2 * sigma ** 2)
    w = np.exp(z - np.max(z))
    return w / np.sum(w, axis=1, keepdims=True)
