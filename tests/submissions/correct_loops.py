# ruff: noqa
# Correct, with explicit loops over examples and units, its own forward pass and
# sigma'(z) written as s * (1 - s).
import math

import numpy as np


def sigma(z):
    return 1 / (1 + np.exp(-z))


def network_function(a0):
    z1 = W1 @ a0 + b1
    a1 = sigma(z1)
    z2 = W2 @ a1 + b2
    a2 = sigma(z2)
    z3 = W3 @ a2 + b3
    a3 = sigma(z3)
    return a0, z1, a1, z2, a2, z3, a3


def _logistic_slope(z):
    s = 1 / (1 + math.exp(-z))
    return s * (1 - s)


def _backward(x, y, layer):
    """Per example, the list of dC_n/dz at `layer` and the activations feeding it."""
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    n_examples = x.shape[1]
    deltas = []
    for n in range(n_examples):
        d = [2 * (a3[i, n] - y[i, n]) * _logistic_slope(z3[i, n]) for i in range(W3.shape[0])]
        for W, z in ((W3, z2), (W2, z1))[: 3 - layer]:
            d = [sum(W[i, j] * d[i] for i in range(W.shape[0])) * _logistic_slope(z[j, n])
                 for j in range(W.shape[1])]
        deltas.append(d)
    return deltas, (a0, a1, a2)[layer - 1]


def _weight_jacobian(x, y, layer):
    deltas, a_prev = _backward(x, y, layer)
    J = np.zeros((len(deltas[0]), a_prev.shape[0]))
    for n, d in enumerate(deltas):
        for i in range(J.shape[0]):
            for j in range(J.shape[1]):
                J[i, j] += d[i] * a_prev[j, n]
    return J / len(deltas)


def _bias_jacobian(x, y, layer):
    deltas, _ = _backward(x, y, layer)
    J = np.zeros((len(deltas[0]), 1))
    for d in deltas:
        for i, value in enumerate(d):
            J[i, 0] += value
    return J / len(deltas)


def J_W3(x, y):
    return _weight_jacobian(x, y, 3)


def J_b3(x, y):
    return _bias_jacobian(x, y, 3)


def J_W2(x, y):
    return _weight_jacobian(x, y, 2)


def J_b2(x, y):
    return _bias_jacobian(x, y, 2)


def J_W1(x, y):
    return _weight_jacobian(x, y, 1)


def J_b1(x, y):
    return _bias_jacobian(x, y, 1)
