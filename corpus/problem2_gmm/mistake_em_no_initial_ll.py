"""Records the log-likelihood only after each iteration, so log_likelihoods misses the value at the start."""
LOSES = ("em",)


def em(data, weights, means, covariances, tol=1e-3, max_iter=1000):
    log_likelihoods = []
    previous = log_likelihood(data, weights, means, covariances)
    for _ in range(max_iter):
        resp = probabilities(data, weights, means, covariances)
        weights, means, covariances = updates(data, resp, weights, means, covariances)
        current = log_likelihood(data, weights, means, covariances)
        log_likelihoods.append(current)
        if current - previous < tol:
            break
        previous = current
    return weights, means, covariances, log_likelihoods
