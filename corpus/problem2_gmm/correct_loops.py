"""Correct: the original homework's loop style (per point, per component) with in-place M-step updates, in log space."""
import math

import numpy as np


def probabilities(data, weights, means, covariances):
    num_data = len(data)
    num_clusters = len(means)
    dim = len(data[0])
    prob_matrix = np.zeros((num_data, num_clusters))
    cov_inv = []
    log_norm = []
    for i in range(num_clusters):
        cov_inv.append(np.linalg.inv(covariances[i]))
        log_norm.append(-0.5 * dim * math.log(2 * math.pi) - 0.5 * math.log(np.linalg.det(covariances[i])))
    for l in range(num_data):
        log_terms = np.zeros(num_clusters)
        for i in range(num_clusters):
            diff = np.array(data[l], dtype=float) - means[i]
            log_terms[i] = math.log(weights[i]) + log_norm[i] - 0.5 * (diff @ cov_inv[i] @ diff)
        biggest = np.max(log_terms)
        shifted = np.exp(log_terms - biggest)
        prob_matrix[l] = shifted / np.sum(shifted)
    return prob_matrix


def updates(data, prob_matrix, weights, means, covariances):
    data = np.array(data, dtype=float)
    num_clusters = len(means)
    num_data, dim = data.shape
    prob_sum = np.sum(prob_matrix, axis=0)
    weights = prob_sum / num_data
    for i in range(num_clusters):
        means[i] = prob_matrix[:, i] @ data / prob_sum[i]
        numerator = np.zeros((dim, dim))
        for l in range(num_data):
            diff = (data[l] - means[i]).reshape(-1, 1)
            numerator += prob_matrix[l, i] * (diff @ diff.T)
        covariances[i] = numerator / prob_sum[i]
    return weights, means, covariances


def log_likelihood(data, weights, means, covariances):
    dim = len(data[0])
    total = 0.0
    for x in data:
        log_terms = []
        for i in range(len(weights)):
            diff = np.array(x, dtype=float) - means[i]
            sign, logdet = np.linalg.slogdet(covariances[i])
            quad = diff @ np.linalg.inv(covariances[i]) @ diff
            log_terms.append(math.log(weights[i]) - 0.5 * (dim * math.log(2 * math.pi) + logdet + quad))
        top = max(log_terms)
        total += top + math.log(sum(math.exp(t - top) for t in log_terms))
    return total


def em(data, weights, means, covariances, tol=1e-3, max_iter=1000):
    log_likelihoods = [log_likelihood(data, weights, means, covariances)]
    it = 0
    while it < max_iter:
        prob_matrix = probabilities(data, weights, means, covariances)
        weights, means, covariances = updates(data, prob_matrix, weights, means, covariances)
        log_likelihoods.append(log_likelihood(data, weights, means, covariances))
        it += 1
        if log_likelihoods[-1] - log_likelihoods[-2] < tol:
            break
    return weights, means, covariances, log_likelihoods
