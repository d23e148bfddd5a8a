# ruff: noqa
# Functions that never return a Jacobian: the grader reports each and carries on.
# expect J_W3: timeout
# expect J_b3: crash
# expect J_W2: exit
# expect J_b2: output_limit
# expect J_W1: not_array
# expect J_b1: missing
import os
import sys

import numpy as np


def J_W3(x, y):
    while True:  # never returns
        pass


def J_b3(x, y):
    os._exit(3)  # ends the process without a word


def J_W2(x, y):
    sys.exit("giving up")


def J_b2(x, y):
    while True:
        print("still thinking about J_b2 ...")


def J_W1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    J = (J.T @ W2).T * d_sigma(z1)
    return (J @ a0.T / x.size).tolist()  # a list, not an array


# J_b1 is missing.
