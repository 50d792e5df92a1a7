"""scipy's cdist for the distances, np.add.at and bincount for the means, a for-loop with break."""
import numpy as np
from scipy.spatial.distance import cdist


def assign_clusters(X, centers):
    return cdist(np.atleast_2d(X), np.atleast_2d(centers)).argmin(axis=1)


def update_centers(X, labels, centers):
    X = np.asarray(X)
    old = np.asarray(centers, dtype=np.float64)
    K = old.shape[0]
    sums = np.zeros_like(old)
    np.add.at(sums, labels, X)
    counts = np.bincount(labels, minlength=K)
    return np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], old)


def kmeans(X, init_centers, max_iter=100):
    centers = np.asarray(init_centers, dtype=np.float64)
    previous = np.full(len(X), -1)
    for step in range(1, max_iter + 1):
        labels = assign_clusters(X, centers)
        centers = update_centers(X, labels, centers)
        if (labels == previous).all():
            break
        previous = labels
    return centers, labels, step


hand_centers = [[1 / 3, 2 / 3], [5, 1]]
hand_iterations = 2
