# ruff: noqa
# Chain-rule sheet B: sigma' approximated (a Taylor polynomial, a finite difference), the
# argument x ignored for a global, a mistake with no known pattern, two mistakes in one
# function, and one right function. Expected diagnoses:
# expect J_W3: sigma_prime_approximated
# expect J_b3: sigma_prime_approximated
# expect J_W2: ignores_x ignores_y worksheet_data
# expect J_b2: unrecognised
# expect J_W1: sigma_prime_at_a missing_1/N
# expect J_b1: pass
import numpy as np

x_data, y_data = training_data(100)


def J_W3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * (1 / 4 - z3**2 / 16)  # MISTAKE: sigma'(z3) by its Taylor polynomial at 0
    J = J @ a2.T / x.size
    return J


def J_b3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * (sigma(z3 + 1e-6) - sigma(z3)) / 1e-6  # MISTAKE: sigma'(z3) by a finite difference
    J = np.sum(J, axis=1, keepdims=True) / x.size
    return J


def J_W2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x_data)  # MISTAKE: the global data, not x
    J = 2 * (a3 - y_data)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = J @ a1.T / x_data.size
    return J


def J_b2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2) + 0.01  # MISTAKE: a stray constant, no known pattern
    J = np.sum(J, axis=1, keepdims=True) / x.size
    return J


def J_W1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = (J.T @ W2).T
    J = J * d_sigma(a1)  # MISTAKE 1: sigma' at the activation
    J = J @ a0.T  # MISTAKE 2: no average over the examples
    return J


def J_b1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = (J.T @ W2).T
    J = J * d_sigma(z1)
    J = np.sum(J, axis=1, keepdims=True) / x.size
    return J
