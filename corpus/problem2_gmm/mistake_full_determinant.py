"""Uses |Sigma| instead of |Sigma|^(1/2) in the Gaussian density of the E-step."""
import numpy as np
from scipy.special import logsumexp

LOSES = ("probabilities", "em")


def probabilities(data, weights, means, covariances):
    data = np.asarray(data, dtype=float)
    logs = np.zeros((len(data), len(weights)))
    for k in range(len(weights)):
        diff = data - means[k]
        quad = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(covariances[k]), diff)
        logs[:, k] = np.log(weights[k]) - np.log(np.linalg.det(covariances[k])) - 0.5 * quad
    return np.exp(logs - logsumexp(logs, axis=1, keepdims=True))
