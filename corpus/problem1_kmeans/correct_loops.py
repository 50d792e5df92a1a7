"""Plain Python loops, squared distances compared one by one, while loop with a flag."""
import numpy as np


def assign_clusters(X, centers):
    n_points = len(X)
    n_centers = len(centers)
    labels = np.zeros(n_points, dtype=int)
    for i in range(n_points):
        best_k = 0
        best_d = None
        for k in range(n_centers):
            d = 0.0
            for j in range(len(X[i])):
                d += (float(X[i][j]) - float(centers[k][j])) ** 2
            if best_d is None or d < best_d:
                best_d = d
                best_k = k
        labels[i] = best_k
    return labels


def update_centers(X, labels, centers):
    K = len(centers)
    D = len(centers[0])
    new_centers = np.zeros((K, D))
    for k in range(K):
        total = np.zeros(D)
        count = 0
        for i in range(len(X)):
            if labels[i] == k:
                total += np.asarray(X[i], dtype=float)
                count += 1
        if count == 0:
            new_centers[k] = np.asarray(centers[k], dtype=float)
        else:
            new_centers[k] = total / count
    return new_centers


def kmeans(X, init_centers, max_iter=100):
    centers = np.array(init_centers, dtype=float)
    old_labels = None
    labels = None
    it = 0
    converged = False
    while not converged and it < max_iter:
        labels = assign_clusters(X, centers)
        centers = update_centers(X, labels, centers)
        it += 1
        if old_labels is not None and np.array_equal(labels, old_labels):
            converged = True
        old_labels = labels
    return centers, labels, it


hand_centers = np.array([[1 / 3, 2 / 3], [5.0, 1.0]])
hand_iterations = 2
