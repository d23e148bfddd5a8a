# ruff: noqa
# Chain-rule sheet A: the wrong activation, two mistakes in one function, a weight not
# transposed (possible only when the widths are equal), sigma' at the wrong layer in a J_W,
# the bias Jacobian built like the weight one. Expected diagnoses, all of them named:
# expect J_W3: wrong_activation
# expect J_b3: sign missing_1/N
# expect J_W2: sigma_prime_missing half
# expect J_b2: weight_not_transposed
# expect J_W1: sigma_prime_wrong_layer
# expect J_b1: bias_like_weight
import numpy as np


def J_W3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = J @ a1.T / x.size  # MISTAKE: a1 where a2 belongs
    return J


def J_b3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (y - a3)  # MISTAKE 1: the residual the wrong way round
    J = J * d_sigma(z3)
    J = np.sum(J, axis=1, keepdims=True)  # MISTAKE 2: no average over the examples
    return J


def J_W2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = a3 - y  # MISTAKE 1: the 2 of d(r^2)/dr dropped
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J @ a1.T / x.size  # MISTAKE 2: sigma'(z2) dropped
    return J


def J_b2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3.T).T  # MISTAKE: W3 where W3.T belongs (runs only when W3 is square)
    J = J * d_sigma(z2)
    J = np.sum(J, axis=1, keepdims=True) / x.size
    return J


def J_W1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = (J.T @ W2).T
    J = J * d_sigma(z2)  # MISTAKE: sigma'(z2) where sigma'(z1) belongs
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
    J = J @ a0.T / x.size  # MISTAKE: times a0 like J_W1; the right shape, since a0 has one row
    return J
