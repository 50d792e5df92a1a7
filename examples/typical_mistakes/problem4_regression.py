import numpy as np


def ols_smoother_matrix(H, H_new):
    w_part = np.linalg.inv(H.T @ H) @ H.T
    return H_new @ w_part


def kernel_smoother_matrix(X, X_new, sigma):
    m = X_new.shape[0]
    n = X.shape[0]
    S = np.zeros((m, n))
    for j in range(m):
        for i in range(n):
            S[j, i] = np.exp(-np.sum((X[i] - X_new[j]) ** 2) / (2 * sigma))
        S[j] = S[j] / np.sum(S[j])
    return S


def kernel_regression(X, Y, X_new, sigma):
    S = kernel_smoother_matrix(X, X_new, sigma)
    return S @ Y


ols_is_linear_smoother = True

kernel_is_linear_smoother = False
