import numpy as np


def assign_clusters(X, centers):
    # loop over points, keep the closest centre seen so far
    labels = np.zeros(len(X), dtype=int)
    for i in range(len(X)):
        best = float("inf")
        for k in range(len(centers)):
            dist = np.sqrt(np.sum((X[i] - centers[k]) ** 2))
            if dist <= best:
                best = dist
                labels[i] = k
    return labels


def update_centers(X, labels, centers):
    new_centers = []
    for k in range(len(centers)):
        new_centers.append(np.mean(X[labels == k], axis=0))
    return np.array(new_centers)


def kmeans(X, init_centers, max_iter=100):
    centers = init_centers
    labels = assign_clusters(X, centers)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        centers[:] = update_centers(X, labels, centers)
        new_labels = assign_clusters(X, centers)
        if np.all(new_labels == labels):
            break
        labels = new_labels
    return centers, labels, n_iter


hand_centers = np.array([[1 / 3, 2 / 3], [5, 1]])
hand_iterations = 1
