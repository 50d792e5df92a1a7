"""Computes the responsibilities once before the loop and never refreshes them, so the M-step repeats itself."""
LOSES = ("em",)


def em(data, weights, means, covariances, tol=1e-3, max_iter=1000):
    lls = [log_likelihood(data, weights, means, covariances)]
    resp = probabilities(data, weights, means, covariances)
    for _ in range(max_iter):
        weights, means, covariances = updates(data, resp, weights, means, covariances)
        lls.append(log_likelihood(data, weights, means, covariances))
        if lls[-1] - lls[-2] < tol:
            break
    return weights, means, covariances, lls
