"""Takes the mean of every cluster without checking that it has points, so an empty cluster's centre becomes nan."""
import numpy as np

LOSES = ("update_centers", "kmeans")


def update_centers(X, labels, centers):
    return np.array([X[labels == k].mean(axis=0) for k in range(len(centers))])
