# ruff: noqa
# Chain-rule sheet C: arithmetic in float32 (close, never within rounding), zeros, and a
# factor no known slip explains. Expected diagnoses:
# expect J_W3: close_not_equal
# expect J_b3: zeros
# expect J_W2: constant_factor
import numpy as np


def J_W3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = J.astype(np.float32) @ a2.T.astype(np.float32) / x.size  # MISTAKE: float32
    return J


def J_b3(x, y):
    return np.zeros((2, 1))  # MISTAKE: left unfinished


def J_W2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = 3 * J @ a1.T / x.size  # MISTAKE: a stray factor 3
    return J
