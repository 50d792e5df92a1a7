"""Takes argmax of the distances, so every point goes to its farthest centre."""
import numpy as np

LOSES = ("assign_clusters", "kmeans")


def assign_clusters(X, centers):
    dists = np.linalg.norm(X[:, None, :] - centers[None, :, :], axis=2)
    return np.argmax(dists, axis=1)
