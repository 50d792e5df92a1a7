"""The Gram matrix is built from the query design, H_new (H_new^T H_new)^-1 H^T, which is right only when H_new = H."""
import numpy as np

LOSES = ("ols_smoother_matrix",)


def ols_smoother_matrix(H, H_new):
    return H_new @ np.linalg.inv(H_new.T @ H_new) @ H.T
