"""Kernel regression is declared not a linear smoother, because its weights are divided by a sum of kernels."""

LOSES = ("kernel_is_linear_smoother",)

kernel_is_linear_smoother = False
