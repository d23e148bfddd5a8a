# ruff: noqa
# Mistakes sheet C: sigma for sigma', sums over everything, z for a, 1/N twice, factor 2, sigma'(z3) dropped.
# One mistake per function; the grader must name each. Expected diagnoses ("hidden": the
# worksheet's own network and heart data do not reveal it):
# expect J_W3: sigma_instead
# expect J_b3: sum_all
# expect J_W2: z_not_a
# expect J_b2: double_1/N
# expect J_W1: factor_2
# expect J_b1: sigma_prime_missing
import numpy as np


def J_W3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * sigma(z3)  # MISTAKE: sigma instead of its derivative
    J = J @ a2.T / x.size
    return J


def J_b3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = np.sum(J) / x.size * np.ones((2, 1))  # MISTAKE: summed over outputs and examples
    return J


def J_W2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = J @ z1.T / x.size  # MISTAKE: weighted sums instead of activations
    return J


def J_b2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = np.mean(J, axis=1, keepdims=True) / x.size  # MISTAKE: mean and / N
    return J


def J_W1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * 2  # MISTAKE: the 2 applied twice
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = (J.T @ W2).T
    J = J * d_sigma(z1)
    J = J @ a0.T / x.size
    return J


def J_b1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * 1  # MISTAKE: sigma'(z3) dropped
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = (J.T @ W2).T
    J = J * d_sigma(z1)
    J = np.sum(J, axis=1, keepdims=True) / x.size
    return J
