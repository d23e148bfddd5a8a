# ruff: noqa
# Take the teacher's memory: one huge allocation, NumPy's, a slow climb, threads that each
# allocate, memory outside the address space; the process must still work afterwards.
# expect J_W3: raised
# expect J_b3: raised
# expect J_W2: raised
# expect J_b2: raised
# expect J_W1: raised
# expect J_b1: pass
import mmap
import os
import threading

import numpy as np

hoard = []


def J_W3(x, y):
    return bytearray(8 << 30)


def J_b3(x, y):
    return np.ones((1 << 31,))


def J_W2(x, y):
    try:
        while True:
            hoard.append(np.empty(1 << 25))  # 256 MiB at a time
    finally:
        hoard.clear()


def J_b2(x, y):
    errors = []

    def grab():
        try:
            hoard.append(np.ones((1 << 27,)))
        except MemoryError as error:
            errors.append(error)

    threads = [threading.Thread(target=grab) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    hoard.clear()
    raise MemoryError(f"{len(errors)} of 16 threads could not allocate")


def J_W1(x, y):
    fd = os.memfd_create("@@MARKER@@")
    os.ftruncate(fd, 8 << 30)
    return mmap.mmap(fd, 8 << 30)


def J_b1(x, y):
    a0, z1, a1, z2, a2, z3, a3 = network_function(x)
    J = 2 * (a3 - y) * d_sigma(z3)
    J = (J.T @ W3).T * d_sigma(z2)
    J = (J.T @ W2).T * d_sigma(z1)
    return np.sum(J, axis=1, keepdims=True) / x.size
