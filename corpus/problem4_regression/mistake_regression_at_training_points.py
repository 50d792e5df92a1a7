"""kernel_regression builds the smoother matrix at the training inputs X instead of the queries X_new."""
import numpy as np

LOSES = ("kernel_regression",)


def kernel_regression(X, Y, X_new, sigma):
    S = kernel_smoother_matrix(X, X, sigma)
    return S @ Y
