# ruff: noqa
# Functions that change what they were given, raise, crash the interpreter, or work in
# float32. J_b1 is correct: the grader must still grade it after the crash in J_W1.
# expect J_W3: mutated
# expect J_b3: mutated
# expect J_W2: mutated
# expect J_b2: raised
# expect J_W1: crash
# expect J_b1: pass
import ctypes

import numpy as np


def J_W3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    y -= a3  # in place: the caller's targets are gone
    J = -2 * y * d_sigma(z3)
    return J @ a2.T / x.size


def J_b3(x, y):
    global W3
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    W3 = W3 * 1.0  # rebinds the network's global
    J = 2 * (a3 - y) * d_sigma(z3)
    return np.sum(J, axis=1, keepdims=True) / x.size


def J_W2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    W2[...] -= 0.1 * (J @ a1.T / x.size)  # a training step inside the Jacobian
    return J @ a1.T / x.size


def J_b2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    return sum_over_examples(J) / x.size  # never defined


def J_W1(x, y):
    return ctypes.string_at(0)  # reads address 0: a segfault


def J_b1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    J = (J.T @ W2).T * d_sigma(z1)
    return np.sum(J, axis=1, keepdims=True) / x.size
