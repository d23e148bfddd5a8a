# ruff: noqa
# Mistakes sheet A: batch size, sign, sigma', hard-coded width, factor 2, summing axis.
# One mistake per function; the grader must name each. Expected diagnoses ("hidden": the
# worksheet's own network and heart data do not reveal it):
# expect J_W3: only_worksheet_batch hidden
# expect J_b3: sign
# expect J_W2: sigma_prime_missing
# expect J_b2: only_worksheet_widths hidden
# expect J_W1: half
# expect J_b1: sum_axis
import numpy as np


def J_W3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = J @ a2.T / 100  # MISTAKE: the worksheet's 100 examples, hard-coded
    return J


def J_b3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (y - a3)  # MISTAKE: residual the wrong way round
    J = J * d_sigma(z3)
    J = np.sum(J, axis=1, keepdims=True) / x.size
    return J


def J_W2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * 1  # MISTAKE: sigma'(z2) dropped
    J = J @ a1.T / x.size
    return J


def J_b2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = np.sum(J, axis=1).reshape(7, 1) / x.size  # MISTAKE: reshaped to the worksheet's width
    return J


def J_W1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = (a3 - y)  # MISTAKE: the 2 of d(r^2)/dr dropped
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
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = (J.T @ W2).T
    J = J * d_sigma(z1)
    J = np.sum(J, axis=0, keepdims=True) / x.size  # MISTAKE: summed over the units
    return J
