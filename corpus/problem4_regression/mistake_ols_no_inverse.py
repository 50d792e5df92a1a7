"""The least squares smoother matrix forgets the inverse of H^T H and returns H_new H^T."""
import numpy as np

LOSES = ("ols_smoother_matrix",)


def ols_smoother_matrix(H, H_new):
    return H_new @ H.T
