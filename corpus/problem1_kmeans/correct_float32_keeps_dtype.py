"""Works in the input's own dtype (float32 stays float32) and stops once an update no longer moves the centres."""
import numpy as np


def assign_clusters(X, centers):
    dist = np.linalg.norm(X[:, None, :] - centers[None, :, :], axis=-1)
    return dist.argmin(-1).astype(np.int32)


def update_centers(X, labels, centers):
    out = centers.copy()
    for k in np.unique(labels):
        out[k] = X[labels == k].mean(axis=0)
    return out


def kmeans(X, init_centers, max_iter=100):
    centers = init_centers.copy()
    labels = assign_clusters(X, centers)
    centers = update_centers(X, labels, centers)
    n_iter = 1
    while n_iter < max_iter:
        labels = assign_clusters(X, centers)
        new_centers = update_centers(X, labels, centers)
        n_iter += 1
        if np.array_equal(new_centers, centers):
            break
        centers = new_centers
    return new_centers if n_iter > 1 else centers, labels, n_iter


hand_centers = np.array([[0.3333333, 0.6666667], [5.0, 1.0]])
hand_iterations = 2
