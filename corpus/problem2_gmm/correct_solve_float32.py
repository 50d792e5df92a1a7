"""Correct: float32-safe (casts everything to float64), np.linalg.solve and slogdet, a hand-written max-shift, lists returned."""
import numpy as np


def probabilities(data, weights, means, covariances):
    def _log_joint(data, weights, means, covariances):
        X = np.array(data, dtype=np.float64)
        W = np.array(weights, dtype=np.float64)
        M = np.array(means, dtype=np.float64)
        S = np.array(covariances, dtype=np.float64)
        n, d = X.shape
        out = np.zeros((n, len(W)))
        for k in range(len(W)):
            diff = X - M[k]
            maha = np.einsum("nd,nd->n", diff, np.linalg.solve(S[k], diff.T).T)
            logdet = np.linalg.slogdet(S[k])[1]
            out[:, k] = np.log(W[k]) - 0.5 * maha - 0.5 * logdet - 0.5 * d * np.log(2 * np.pi)
        return out

    a = _log_joint(data, weights, means, covariances)
    a = a - a.max(axis=1, keepdims=True)
    e = np.exp(a)
    return e / e.sum(axis=1, keepdims=True)


def updates(data, prob_matrix, weights, means, covariances):
    X = np.array(data, dtype=np.float64)
    H = np.array(prob_matrix, dtype=np.float64)
    counts = H.sum(axis=0)
    new_w = [float(c) / len(X) for c in counts]
    new_m = [H[:, k] @ X / counts[k] for k in range(H.shape[1])]
    new_s = []
    for k in range(H.shape[1]):
        D = X - new_m[k]
        new_s.append((D * H[:, k:k + 1]).T @ D / counts[k])
    return new_w, new_m, new_s


def log_likelihood(data, weights, means, covariances):
    def _log_joint(data, weights, means, covariances):
        X = np.array(data, dtype=np.float64)
        W = np.array(weights, dtype=np.float64)
        M = np.array(means, dtype=np.float64)
        S = np.array(covariances, dtype=np.float64)
        n, d = X.shape
        out = np.zeros((n, len(W)))
        for k in range(len(W)):
            diff = X - M[k]
            maha = np.einsum("nd,nd->n", diff, np.linalg.solve(S[k], diff.T).T)
            logdet = np.linalg.slogdet(S[k])[1]
            out[:, k] = np.log(W[k]) - 0.5 * maha - 0.5 * logdet - 0.5 * d * np.log(2 * np.pi)
        return out

    a = _log_joint(data, weights, means, covariances)
    top = a.max(axis=1)
    return float(np.sum(top + np.log(np.sum(np.exp(a - top[:, None]), axis=1))))


def em(data, weights, means, covariances, tol=1e-3, max_iter=1000):
    history = [log_likelihood(data, weights, means, covariances)]
    for step in range(1, max_iter + 1):
        resp = probabilities(data, weights, means, covariances)
        weights, means, covariances = updates(data, resp, weights, means, covariances)
        history.append(log_likelihood(data, weights, means, covariances))
        gain = history[step] - history[step - 1]
        if gain < tol:
            break
    return weights, means, covariances, np.array(history)
