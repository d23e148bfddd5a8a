# ruff: noqa
# Correct, written with einsum; defines its own sigma and d_sigma (s * (1 - s)).
import numpy as np

sigma = lambda z: 1 / (1 + np.exp(-z))


def d_sigma(z):
    s = sigma(z)
    return s * (1 - s)


def _delta(x, y, layer):
    """dC/dz at `layer`, times N: the error signal walked back from the output."""
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    delta = 2 * (a3 - y) * d_sigma(z3)
    if layer <= 2:
        delta = np.einsum("ji,jn->in", W3, delta) * d_sigma(z2)
    if layer == 1:
        delta = np.einsum("ji,jn->in", W2, delta) * d_sigma(z1)
    return delta, (a0, a1, a2)[layer - 1]


def J_W3(x, y):
    delta, a_prev = _delta(x, y, 3)
    return np.einsum("in,jn->ij", delta, a_prev) / x.size


def J_b3(x, y):
    delta, _ = _delta(x, y, 3)
    return np.einsum("in->i", delta)[:, None] / x.size


def J_W2(x, y):
    delta, a_prev = _delta(x, y, 2)
    return np.einsum("in,jn->ij", delta, a_prev) / x.size


def J_b2(x, y):
    delta, _ = _delta(x, y, 2)
    return np.einsum("in->i", delta)[:, None] / x.size


def J_W1(x, y):
    delta, a_prev = _delta(x, y, 1)
    return np.einsum("in,jn->ij", delta, a_prev) / x.size


def J_b1(x, y):
    delta, _ = _delta(x, y, 1)
    return np.einsum("in->i", delta)[:, None] / x.size
