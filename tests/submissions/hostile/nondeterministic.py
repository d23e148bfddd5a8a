# ruff: noqa
# Answers that change from call to call: noise, and a function right only for its first
# calls. Hypothesis once raised FlakyFailure on these (exit 3, no report).
# expect J_W3: nondeterministic
# expect J_b3: nondeterministic
# expect J_b1: pass
import numpy as np

calls = []


def J_W3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3) @ a2.T / x.size
    return J + np.random.normal(scale=1e-3, size=J.shape)


def J_b3(x, y):
    calls.append(1)
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = np.sum(2 * (a3 - y) * d_sigma(z3), axis=1, keepdims=True) / x.size
    return J if len(calls) <= 3 else -J


def J_b1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    J = (J.T @ W2).T * d_sigma(z1)
    return np.sum(J, axis=1, keepdims=True) / x.size
