"""The loop runs while it <= max_iter, so it can do one iteration more than max_iter allows."""
import numpy as np

LOSES = ("kmeans",)


def kmeans(X, init_centers, max_iter=100):
    centers = np.array(init_centers, dtype=float)
    labels = None
    it = 0
    while it <= max_iter:
        new_labels = assign_clusters(X, centers)
        centers = update_centers(X, new_labels, centers)
        it += 1
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
    return centers, new_labels, it
