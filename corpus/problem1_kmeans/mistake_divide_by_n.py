"""Divides each cluster's sum by the total number of points N instead of the cluster's size."""
import numpy as np

LOSES = ("update_centers", "kmeans")


def update_centers(X, labels, centers):
    new_centers = np.array(centers, dtype=float)
    for k in range(len(centers)):
        if np.any(labels == k):
            new_centers[k] = X[labels == k].sum(axis=0) / len(X)
    return new_centers
