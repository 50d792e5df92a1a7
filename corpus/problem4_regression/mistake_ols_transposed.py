"""The least squares smoother matrix is returned transposed, with shape (n, m): H (H^T H)^-1 H_new^T."""
import numpy as np

LOSES = ("ols_smoother_matrix",)


def ols_smoother_matrix(H, H_new):
    return H @ np.linalg.solve(H.T @ H, H_new.T)
