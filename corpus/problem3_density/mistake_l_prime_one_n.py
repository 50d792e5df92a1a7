"""Divides by n h instead of n^2 h (one factor 1/n lost from p_hat = c / (n h))."""
import numpy as np

LOSES = ("l_prime",)


def l_prime(samples, h):
    _, counts = np.unique(np.floor(np.asarray(samples) / h), return_counts=True)
    return -np.sum(counts ** 2) / (len(samples) * h)
