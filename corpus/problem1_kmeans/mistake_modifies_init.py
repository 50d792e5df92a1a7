"""Moves the centres in place in the caller's init_centers array (no copy), so the input is overwritten."""
import numpy as np

LOSES = ("kmeans",)


def kmeans(X, init_centers, max_iter=100):
    centers = init_centers
    old_labels = None
    for it in range(1, max_iter + 1):
        labels = assign_clusters(X, centers)
        for k in range(len(centers)):
            if np.any(labels == k):
                centers[k] = X[labels == k].mean(axis=0)
        if old_labels is not None and np.all(labels == old_labels):
            break
        old_labels = labels
    return centers, labels, it
