# ruff: noqa
# Read the teacher's environment variables (tokens, keys): os.environ and /proc.
# expect J_W3: raised
# expect J_b3: raised
# expect J_W2: raised
# expect J_b2: raised
# expect J_W1: shape
# expect J_b1: pass
import os

import numpy as np


def J_W3(x, y):
    raise RuntimeError(repr(dict(os.environ)))


def J_b3(x, y):
    return os.environ["@@SECRET_ENV_NAME@@"]


def J_W2(x, y):
    raise RuntimeError(open("/proc/self/environ").read())


def J_b2(x, y):
    raise RuntimeError(open(f"/proc/{os.getppid()}/environ").read())


def J_W1(x, y):
    everything = "".join(f"{key}={value}" for key, value in os.environ.items())
    return np.array([[float(byte)] for byte in everything.encode()])


def J_b1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    J = (J.T @ W2).T * d_sigma(z1)
    return np.sum(J, axis=1, keepdims=True) / x.size
