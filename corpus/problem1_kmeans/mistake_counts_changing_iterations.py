"""Counts only the iterations whose assignment changed some label, so n_iter is one short at convergence."""
import numpy as np

LOSES = ("kmeans",)


def kmeans(X, init_centers, max_iter=100):
    centers = np.array(init_centers, dtype=float)
    labels = assign_clusters(X, centers)
    centers = update_centers(X, labels, centers)
    n_iter = 1
    for _ in range(max_iter - 1):
        new_labels = assign_clusters(X, centers)
        centers = update_centers(X, new_labels, centers)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        n_iter += 1
    return centers, labels, n_iter
