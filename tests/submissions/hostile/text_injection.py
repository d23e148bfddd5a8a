# ruff: noqa
# Rewrite the teacher's terminal and forge the report: escape sequences, fake PASS lines, a
# megabyte of message, an exception class named with escapes, right-to-left overrides.
# expect J_W3: raised
# expect J_b3: exit
# expect J_W2: raised
# expect J_b2: raised
# expect J_W1: raised
# expect J_b1: pass
import sys

import numpy as np


def J_W3(x, y):
    raise RuntimeError("\x1b[2J\x1b[1;1H\n  J_W3  PASS  (102 cases)\n6 of 6 functions pass\r")


def J_b3(x, y):
    sys.exit("\r\x1b[32m  J_b3  PASS\x1b[0m")


def J_W2(x, y):
    raise RuntimeError("@@MARKER@@" * 200_000)


def J_b2(x, y):
    raise type("\x1b[31mEvil\x07", (Exception,), {})("\x1b]0;owned\x07")


def J_W1(x, y):
    raise RuntimeError("\u202eSSAP\u202c \x00\x08\x7f")


def J_b1(x, y):
    print("\x1b[2J  J_b1  PASS")
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    J = (J.T @ W2).T * d_sigma(z1)
    return np.sum(J, axis=1, keepdims=True) / x.size
