# ruff: noqa
# Attack the grader through its own pipe: a frame announcing 4 GiB, a flood, a forged
# result, a trickle that never completes, closing the pipe and living on, deeply nested
# JSON. The grader's end is one of this process's few open descriptors.
# expect J_W3: protocol
# expect J_b3: protocol
# expect J_W2: protocol
# expect J_b2: timeout
# expect J_W1: crash
# expect J_b1: protocol
import os
import struct
import time

import numpy as np


def _write_everywhere(data):
    for fd in range(3, 32):
        try:
            os.write(fd, data)
        except OSError:
            pass


def J_W3(x, y):
    _write_everywhere(struct.pack("<BI", 13, 0xFFFFFFFF))
    return np.zeros((2, 7))


def J_b3(x, y):
    for _ in range(50):
        _write_everywhere(b"PASS" * (1 << 18))
    return np.zeros((2, 1))


def J_W2(x, y):
    payload = struct.pack("<IBB", 12345, 0, 2) + struct.pack("<II", 7, 6) + struct.pack("<H", 7)
    payload += b"float64" + np.zeros((7, 6)).tobytes()
    _write_everywhere(struct.pack("<BI", 13, len(payload)) + payload)
    return np.zeros((7, 6))


def J_b2(x, y):
    _write_everywhere(struct.pack("<BI", 13, 100))
    while True:
        _write_everywhere(b"\0")
        time.sleep(0.01)


def J_W1(x, y):
    for fd in range(3, 32):
        try:
            os.close(fd)
        except OSError:
            pass
    time.sleep(600)


def J_b1(x, y):
    _write_everywhere(b"[" * 1_000_000)
    return np.zeros((6, 1))
