# ruff: noqa
# Derived by no one: every Jacobian is the central finite difference of the student's own cost,
# ||a3 - y||² / N: right to about 1e-7, not to rounding. The grader judges answers, not
# derivations: this fails, diagnosed as an approximation (README, "Grade a worksheet submission").
import numpy as np

H = 1e-5


def _cost(params, x, y):
    a = x
    for W, b in params:
        a = 1 / (1 + np.exp(-(W @ a + b)))
    return np.sum((a - y) ** 2) / x.shape[1]


def _central_difference(layer, which, x, y):
    params = [[W1, b1], [W2, b2], [W3, b3]]
    target = params[layer][which]
    gradient = np.zeros(target.shape)
    for index in np.ndindex(target.shape):
        costs = []
        for step in (H, -H):
            shifted = [[np.array(p, dtype=float) for p in pair] for pair in params]
            shifted[layer][which][index] += step
            costs.append(_cost(shifted, x, y))
        gradient[index] = (costs[0] - costs[1]) / (2 * H)
    return gradient


def J_W3(x, y):
    return _central_difference(2, 0, x, y)


def J_b3(x, y):
    return _central_difference(2, 1, x, y)


def J_W2(x, y):
    return _central_difference(1, 0, x, y)


def J_b2(x, y):
    return _central_difference(1, 1, x, y)


def J_W1(x, y):
    return _central_difference(0, 0, x, y)


def J_b1(x, y):
    return _central_difference(0, 1, x, y)
