"""Stores the labels in np.zeros(N), so they come back as floats instead of integers."""
import numpy as np

LOSES = ("assign_clusters", "kmeans")


def assign_clusters(X, centers):
    labels = np.zeros(X.shape[0])
    for n in range(X.shape[0]):
        labels[n] = np.argmin(np.sum((centers - X[n]) ** 2, axis=1))
    return labels
