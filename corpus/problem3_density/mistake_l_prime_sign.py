"""Returns +sum_j c_j^2 / (n^2 h): the two terms of L' subtracted the wrong way round."""
import numpy as np

LOSES = ("l_prime",)


def l_prime(samples, h):
    _, counts = np.unique(np.floor(np.asarray(samples) / h), return_counts=True)
    n = len(samples)
    integral = np.sum(counts ** 2) / (n ** 2 * h)
    fit = 2 * np.sum(counts ** 2) / (n ** 2 * h)
    return fit - integral
