"""The softmax is taken over the queries (axis 0) instead of over the training points, as if the matrix were transposed."""
import numpy as np

LOSES = ("kernel_smoother_matrix", "kernel_regression")


def kernel_smoother_matrix(X, X_new, sigma):
    d2 = np.sum((X_new[:, None, :] - X[None, :, :]) ** 2, axis=2)
    z = -d2 / (2 * sigma ** 2)
    z = z - z.max(axis=0)
    e = np.exp(z)
    return e / e.sum(axis=0)
