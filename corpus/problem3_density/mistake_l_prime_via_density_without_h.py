"""histogram_density forgets the 1/h, and l_prime, written as -(1/n) sum_i p_hat(x_i) through it, inherits the error."""
import numpy as np

LOSES = ("histogram_density", "l_prime")


def histogram_density(x, samples, h):
    samples = np.asarray(samples, dtype=float)
    j = np.floor(np.asarray(x, dtype=float) / h)
    return np.sum(j[..., None] == np.floor(samples / h), axis=-1) / len(samples)


def l_prime(samples, h):
    return -np.mean(histogram_density(np.asarray(samples), samples, h))
