# ruff: noqa
# Mistakes sheet B: transposes, 1/N, sigma' at the wrong layer or point, flat bias.
# One mistake per function; the grader must name each. Expected diagnoses ("hidden": the
# worksheet's own network and heart data do not reveal it):
# expect J_W3: transposed
# expect J_b3: missing_1/N
# expect J_W2: transposed hidden
# expect J_b2: sigma_prime_wrong_layer
# expect J_W1: sigma_prime_at_a
# expect J_b1: flattened
import numpy as np


def J_W3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = a2 @ J.T / x.size  # MISTAKE: the outer product the wrong way round
    return J


def J_b3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = np.sum(J, axis=1, keepdims=True)  # MISTAKE: no average
    return J


def J_W2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = a1 @ J.T / x.size
    if J.shape != W2.shape:
        J = J.T  # MISTAKE: transpose 'fixed' by the shape: wrong when W2 is square
    return J


def J_b2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z1)  # MISTAKE: sigma' of the layer below (broadcasts only at equal widths)
    J = np.sum(J, axis=1, keepdims=True) / x.size
    return J


def J_W1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = (J.T @ W2).T
    J = J * d_sigma(a1)  # MISTAKE: sigma' at the activation
    J = J @ a0.T / x.size
    return J


def J_b1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = (J.T @ W2).T
    J = J * d_sigma(z1)
    J = np.sum(J, axis=1) / x.size  # MISTAKE: no keepdims
    return J
