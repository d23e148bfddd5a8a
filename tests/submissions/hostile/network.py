# ruff: noqa
# Reach the network: a TCP connection to the teacher's loopback, UDP, an abstract socket.
# expect J_W3: raised
# expect J_b3: raised
# expect J_W2: raised
# expect J_b2: pass
import socket

import numpy as np


def J_W3(x, y):
    with socket.create_connection(("127.0.0.1", int("@@PORT@@")), timeout=1) as connection:
        connection.sendall(b"@@MARKER@@")
    return np.zeros((2, 7))


def J_b3(x, y):
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"@@MARKER@@", ("127.0.0.1", int("@@PORT@@")))
    return np.zeros((2, 1))


def J_W2(x, y):
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.connect("\0@@MARKER@@")
    return np.zeros((7, 6))


def J_b2(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    return np.sum(J, axis=1, keepdims=True) / x.size
