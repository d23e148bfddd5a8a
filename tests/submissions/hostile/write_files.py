# ruff: noqa
# Write, overwrite and delete files: the teacher's home, a shared folder, a classmate's
# submission beside this one, /tmp and /dev/shm; fill the disk. Its own scratch is fine.
# expect J_W3: raised
# expect J_b3: raised
# expect J_W2: raised
# expect J_b2: raised
# expect J_W1: raised
# expect J_b1: pass
import os

import numpy as np


def J_W3(x, y):
    with open("@@HOME_CANARY@@", "w") as handle:
        handle.write("@@MARKER@@")
    return np.zeros((2, 7))


def J_b3(x, y):
    os.remove("@@SHARED_CANARY@@")
    return np.zeros((2, 1))


def J_W2(x, y):
    with open("@@CLASSMATE@@", "w") as handle:
        handle.write("def J_W3(x, y):\n    return None  # @@MARKER@@\n")
    return np.zeros((7, 6))


def J_b2(x, y):
    for folder in ("/tmp", "/dev/shm", "@@CLASS_DIR@@", os.path.dirname("@@HOME_CANARY@@")):
        try:
            open(os.path.join(folder, "@@MARKER@@"), "w").close()
        except OSError:
            pass
    os.makedirs("/tmp/@@MARKER@@")
    return np.zeros((7, 1))


def J_W1(x, y):
    filler = os.path.join(os.environ["HOME"], "filler")
    try:
        with open(filler, "wb") as handle:
            for _ in range(64):
                handle.write(b"\0" * (4 << 20))
    finally:
        os.remove(filler)
    return np.zeros((6, 1))


def J_b1(x, y):
    with open("notes.txt", "w") as handle:  # in the scratch folder: allowed
        handle.write("a student's own notes")
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    J = (J.T @ W2).T * d_sigma(z1)
    return np.sum(J, axis=1, keepdims=True) / x.size
