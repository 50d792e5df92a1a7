"""The nearest-centre loop uses <= so a tie goes to the highest index instead of the lowest."""
import numpy as np

LOSES = ("assign_clusters",)


def assign_clusters(X, centers):
    labels = np.zeros(len(X), dtype=int)
    for n in range(len(X)):
        best = np.inf
        for k in range(len(centers)):
            d = np.sum((X[n] - centers[k]) ** 2)
            if d <= best:
                best = d
                labels[n] = k
    return labels
