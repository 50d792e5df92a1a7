"""Expanded squared distances |x|^2 - 2 x.c + |c|^2, one-hot matrix for the means, centres updated in place like the original's code."""
import numpy as np


def assign_clusters(X, centers):
    X = np.asarray(X)
    C = np.asarray(centers)
    d2 = (X ** 2).sum(axis=1)[:, None] - 2 * X @ C.T + (C ** 2).sum(axis=1)[None, :]
    return np.argmin(d2, axis=1)


def update_centers(X, labels, centers):
    # moves the centres in place (the array passed in) and returns it
    X = np.asarray(X)
    K = centers.shape[0]
    B = (np.asarray(labels)[:, None] == np.arange(K)[None, :]).astype(X.dtype)
    counts = B.sum(axis=0)
    sums = B.T @ X
    for k in range(K):
        if counts[k] > 0:
            centers[k] = sums[k] / counts[k]
    return centers


def kmeans(X, init_centers, max_iter=100):
    m = np.array(init_centers, dtype=float)  # own copy, then moved in place
    b = None
    n = 0
    for n in range(1, max_iter + 1):
        b_new = assign_clusters(X, m)
        update_centers(X, b_new, m)
        if b is not None and np.all(b_new == b):
            b = b_new
            break
        b = b_new
    return m, b, n


hand_centers = np.array([[1.0, 2.0], [15.0, 3.0]]) / np.array([[3.0], [3.0]])
hand_iterations = 2
