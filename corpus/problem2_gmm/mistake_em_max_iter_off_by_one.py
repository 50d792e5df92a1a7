"""Counts the initial log-likelihood as an iteration, so em does only max_iter - 1 iterations."""
LOSES = ("em",)


def em(data, weights, means, covariances, tol=1e-3, max_iter=1000):
    lls = [log_likelihood(data, weights, means, covariances)]
    while len(lls) < max_iter:
        resp = probabilities(data, weights, means, covariances)
        weights, means, covariances = updates(data, resp, weights, means, covariances)
        lls.append(log_likelihood(data, weights, means, covariances))
        if lls[-1] - lls[-2] < tol:
            break
    return weights, means, covariances, lls
