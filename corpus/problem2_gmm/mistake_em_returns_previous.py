"""When the gain drops below tol, em returns the parameters from before the last update (the last 'good' ones)."""
LOSES = ("em",)


def em(data, weights, means, covariances, tol=1e-3, max_iter=1000):
    lls = [log_likelihood(data, weights, means, covariances)]
    for _ in range(max_iter):
        resp = probabilities(data, weights, means, covariances)
        new_w, new_m, new_c = updates(data, resp, weights, means, covariances)
        lls.append(log_likelihood(data, new_w, new_m, new_c))
        if lls[-1] - lls[-2] < tol:
            break
        weights, means, covariances = new_w, new_m, new_c
    return weights, means, covariances, lls
