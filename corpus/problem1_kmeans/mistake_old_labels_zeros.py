"""Starts the "previous labels" at all zeros, so when the first assignment puts every point in cluster 0 (K = 1) it stops one iteration early."""
import numpy as np

LOSES = ("kmeans",)


def kmeans(X, init_centers, max_iter=100):
    centers = np.array(init_centers, dtype=float)
    old_labels = np.zeros(len(X), dtype=int)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        labels = assign_clusters(X, centers)
        centers = update_centers(X, labels, centers)
        if np.array_equal(labels, old_labels):
            break
        old_labels = labels
    return centers, labels, n_iter
