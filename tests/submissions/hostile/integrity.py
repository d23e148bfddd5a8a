# ruff: noqa
# Pass without hand-derived maths: jax.grad, a fallback after a refused import, the
# project's own reference gradients, torch through importlib, the autodiff package.
# expect J_W3: integrity
# expect J_b3: integrity
# expect J_W2: integrity
# expect J_b2: integrity
# expect J_W1: integrity
# expect J_b1: pass
import importlib

import numpy as np


def _by_hand(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    return np.sum(2 * (a3 - y) * d_sigma(z3), axis=1, keepdims=True) / x.size


def J_W3(x, y):
    import jax

    return np.asarray(jax.grad(lambda W: W.sum())(W3))


def J_b3(x, y):
    try:
        import jax  # only if it happens to be there
    except ImportError:
        return _by_hand(x, y)
    return np.asarray(jax.numpy.zeros((2, 1)))


def J_W2(x, y):
    from reference.backprop import gradients

    return gradients([(W1, b1), (W2, b2), (W3, b3)], x, y)[1][0]


def J_b2(x, y):
    return np.asarray(importlib.import_module("torch").zeros(7, 1))


def J_W1(x, y):
    return __import__("autodiff").grad


def J_b1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    J = (J.T @ W2).T * d_sigma(z1)
    return np.sum(J, axis=1, keepdims=True) / x.size
