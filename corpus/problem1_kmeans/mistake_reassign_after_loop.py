"""Recomputes the labels from the final centres after the loop, which differs from the last assignment when max_iter stops the run."""
import numpy as np

LOSES = ("kmeans",)


def kmeans(X, init_centers, max_iter=100):
    centers = np.array(init_centers, dtype=float)
    labels = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        new_labels = assign_clusters(X, centers)
        centers = update_centers(X, new_labels, centers)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
    labels = assign_clusters(X, centers)
    return centers, labels, n_iter
