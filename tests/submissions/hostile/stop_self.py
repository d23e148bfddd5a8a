# ruff: noqa
# Make the grader wait: stop itself, ignore the polite signals and spin, spin inside NumPy.
# expect J_W3: timeout
# expect J_b3: timeout
# expect J_W2: timeout
# expect J_b2: pass
import os
import signal

import numpy as np


def J_W3(x, y):
    os.kill(os.getpid(), signal.SIGSTOP)
    return np.zeros((2, 7))


def J_b3(x, y):
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGALRM"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    while True:
        pass


def J_W2(x, y):
    big = np.ones(1 << 22)
    while True:
        big = np.sqrt(big + 1.0)


def J_b2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    return np.sum(J, axis=1, keepdims=True) / x.size
