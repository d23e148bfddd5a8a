"""The worksheet's own API, as its support module and graded cells define it.

A 1-6-7-2 network of logistic units whose parameters live in the module globals
``W1, W2, W3, b1, b2, b3`` (set by ``reset_network``). Inputs ``x`` are ``(1, N)``, targets
``y`` are ``(2, N)``, one example per column. Each ``J_*`` re-runs the forward pass and
returns the Jacobian of the cost with respect to one parameter, shaped like it.

``sigma`` and ``d_sigma`` keep the worksheet's formulas exactly. Their overflow behaviour:
for z < -709 (float64), ``exp(-z)`` overflows to inf and ``sigma`` returns the correct limit 0
with a RuntimeWarning; for |z| > ~1420, ``cosh(z/2)`` overflows and ``d_sigma`` returns the
correct limit 0, also with a RuntimeWarning. The general path (``reference.backprop``) is
warning-free for every finite z.

Use it as the worksheet does: ``from reference.worksheet import *`` brings every name.
"""

from __future__ import annotations

import numpy as np

from reference.heart import training_data

__all__ = [
    "J_W1", "J_W2", "J_W3", "J_b1", "J_b2", "J_b3",
    "cost", "d_sigma", "network_function", "reset_network", "sigma", "training_data",
]

# The network's parameters, as module globals; None until reset_network() is called.
W1 = W2 = W3 = b1 = b2 = b3 = None


def sigma(z):
    """The logistic function, as the worksheet writes it."""
    return 1 / (1 + np.exp(-z))


def d_sigma(z):
    """The logistic's derivative, as the worksheet writes it: ``cosh(z/2)⁻² / 4``."""
    return np.cosh(z / 2) ** (-2) / 4


def reset_network(n1=6, n2=7, random=np.random):
    """Draw a fresh 1-n1-n2-2 network: every weight and bias is ``random.randn(...) / 2``."""
    global W1, W2, W3, b1, b2, b3
    W1 = random.randn(n1, 1) / 2
    W2 = random.randn(n2, n1) / 2
    W3 = random.randn(2, n2) / 2
    b1 = random.randn(n1, 1) / 2
    b2 = random.randn(n2, 1) / 2
    b3 = random.randn(2, 1) / 2


def network_function(a0):
    """Feed ``a0`` forward; return every stage ``a0, z1, a1, z2, a2, z3, a3``."""
    if W1 is None:
        raise RuntimeError("network_function: the network has no weights yet; call reset_network()")
    z1 = W1 @ a0 + b1
    a1 = sigma(z1)
    z2 = W2 @ a1 + b2
    a2 = sigma(z2)
    z3 = W3 @ a2 + b3
    a3 = sigma(z3)
    return a0, z1, a1, z2, a2, z3, a3


def cost(x, y):
    """``||a3 - y||² / x.size`` — the squared error averaged over the examples."""
    return np.linalg.norm(network_function(x)[-1] - y) ** 2 / x.size


# The six Jacobians: one chain-rule factor per line, in the worksheet's order.

def J_W3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)            # dC/da3
    J = J * d_sigma(z3)         # · da3/dz3
    J = J @ a2.T / x.size       # · dz3/dW3, averaged over the examples
    return J


def J_b3(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = np.sum(J, axis=1, keepdims=True) / x.size   # dz3/db3 = 1
    return J


def J_W2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T            # · dz3/da2
    J = J * d_sigma(z2)
    J = J @ a1.T / x.size
    return J


def J_b2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = np.sum(J, axis=1, keepdims=True) / x.size
    return J


def J_W1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y)
    J = J * d_sigma(z3)
    J = (J.T @ W3).T
    J = J * d_sigma(z2)
    J = (J.T @ W2).T            # · dz2/da1
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
    J = np.sum(J, axis=1, keepdims=True) / x.size
    return J


def get_params():
    """The current globals as a general ``[(W1, b1), (W2, b2), (W3, b3)]`` network."""
    return [(W1, b1), (W2, b2), (W3, b3)]


def set_params(params):
    """Set the globals from a general 3-layer ``[(W1, b1), (W2, b2), (W3, b3)]`` network."""
    global W1, W2, W3, b1, b2, b3
    (W1, b1), (W2, b2), (W3, b3) = params
