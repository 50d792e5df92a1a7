"""Measures closeness with the L1 (Manhattan) distance instead of the Euclidean distance."""
import numpy as np

LOSES = ("assign_clusters", "kmeans")


def assign_clusters(X, centers):
    dists = np.abs(X[:, None, :] - centers[None, :, :]).sum(axis=2)
    return np.argmin(dists, axis=1)
