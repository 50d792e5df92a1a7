"""Correct: plain Python loops throughout, math.exp with the max shift, and an explicit inverse for least squares."""
import math

import numpy as np


def ols_smoother_matrix(H, H_new):
    H = np.array(H, dtype=float)
    H_new = np.array(H_new, dtype=float)
    gram_inv = np.linalg.inv(H.T @ H)
    n, m = H.shape[0], H_new.shape[0]
    S = np.zeros((m, n))
    for j in range(m):
        v = gram_inv @ H_new[j]
        for i in range(n):
            S[j, i] = H[i] @ v
    return S


def kernel_smoother_matrix(X, X_new, sigma):
    X = np.array(X, dtype=float)
    X_new = np.array(X_new, dtype=float)
    n, m = len(X), len(X_new)
    S = np.zeros((m, n))
    for j in range(m):
        exponents = []
        for i in range(n):
            dist2 = 0.0
            for k in range(X.shape[1]):
                dist2 += (X[i, k] - X_new[j, k]) ** 2
            exponents.append(-dist2 / (2 * sigma * sigma))
        top = max(exponents)
        ws = [math.exp(e - top) for e in exponents]
        total = sum(ws)
        for i in range(n):
            S[j, i] = ws[i] / total
    return S


def kernel_regression(X, Y, X_new, sigma):
    S = kernel_smoother_matrix(X, X_new, sigma)
    preds = []
    for row in S:
        preds.append(sum(w * y for w, y in zip(row, Y)))
    return preds


ols_is_linear_smoother = True

kernel_is_linear_smoother = True
