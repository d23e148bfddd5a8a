# ruff: noqa
# Hostile to the diagnosis: network_function returns its last stage transposed, (N, 2) where
# (2, N) belongs, so the trusted side's own forward pass would broadcast it against y; and
# J_W3 is wrong (sign flipped) so that the diagnosis runs.
import numpy as np


def network_function(a0):
    z1 = W1 @ a0 + b1
    a1 = sigma(z1)
    z2 = W2 @ a1 + b2
    a2 = sigma(z2)
    z3 = W3 @ a2 + b3
    a3 = sigma(z3)
    return a0, z1, a1, z2, a2, z3, a3.T


def J_W3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    delta = 2 * (a3.T - y) * d_sigma(z3)
    return -(delta @ a2.T) / x.shape[1]
