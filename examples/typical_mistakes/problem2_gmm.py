import numpy as np


def probabilities(data, weights, means, covariances):
    # straight from the formula: pi_k N(x | mu_k, Sigma_k) / sum_j pi_j N(x | mu_j, Sigma_j)
    num_data = len(data)
    num_clusters = len(means)
    dim = len(data[0])
    prob_matrix = np.zeros((num_data, num_clusters))
    for l in range(num_data):
        for i in range(num_clusters):
            diff = data[l] - means[i]
            expo = -0.5 * diff @ np.linalg.inv(covariances[i]) @ diff
            norm = 1 / np.sqrt((2 * np.pi) ** dim * np.linalg.det(covariances[i]))
            prob_matrix[l, i] = weights[i] * norm * np.exp(expo)
        prob_matrix[l] = prob_matrix[l] / np.sum(prob_matrix[l])
    return prob_matrix


def updates(data, prob_matrix, weights, means, covariances):
    num_clusters = len(means)
    num_data, dim = data.shape
    prob_sum = np.sum(prob_matrix, axis=0)
    weights = prob_sum / num_data
    for i in range(num_clusters):
        means[i] = prob_matrix[:, i] @ data / prob_sum[i]
        numerator = np.zeros((dim, dim))
        for l in range(num_data):
            diff = np.expand_dims(data[l] - means[i], axis=1)
            numerator += prob_matrix[l, i] * (diff @ diff.T)
        covariances[i] = numerator / prob_sum[i]
    return weights, means, covariances


def log_likelihood(data, weights, means, covariances):
    total = 0
    for x in data:
        p = 0
        for i in range(len(weights)):
            diff = x - means[i]
            p += weights[i] * np.exp(-0.5 * diff @ np.linalg.inv(covariances[i]) @ diff) / np.sqrt(
                (2 * np.pi) ** len(x) * np.linalg.det(covariances[i]))
        total += np.log(p)
    return total


def em(data, weights, means, covariances, tol=1e-3, max_iter=1000):
    log_likelihoods = []
    old = log_likelihood(data, weights, means, covariances)
    for it in range(max_iter):
        prob_matrix = probabilities(data, weights, means, covariances)
        weights, means, covariances = updates(data, prob_matrix, weights, means, covariances)
        new = log_likelihood(data, weights, means, covariances)
        log_likelihoods.append(new)
        if abs(new - old) < tol:
            break
        old = new
    return weights, means, covariances, log_likelihoods
