"""kernel_regression recomputes the kernel weights itself without the max shift, giving nan for a tiny bandwidth."""
import numpy as np

LOSES = ("kernel_regression",)


def kernel_regression(X, Y, X_new, sigma):
    d2 = ((X_new[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    K = np.exp(-d2 / (2 * sigma ** 2))
    return (K @ Y) / K.sum(axis=1)
