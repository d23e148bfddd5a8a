# ruff: noqa
# Reach past Python to the kernel with ctypes: new namespaces, a mount, ptrace, io_uring
# (whose operations seccomp cannot see), bpf, and a way out of the view via /proc.
# expect J_W3: raised
# expect J_b3: raised
# expect J_W2: raised
# expect J_b2: raised
# expect J_W1: raised
# expect J_b1: raised
import ctypes
import os
import platform

import numpy as np

libc = ctypes.CDLL(None, use_errno=True)
NUMBERS = {"x86_64": {"ptrace": 101, "bpf": 321, "pivot_root": 155},
           "aarch64": {"ptrace": 117, "bpf": 280, "pivot_root": 41}}[platform.machine()]


def _refused(result, what):
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")
    return np.zeros((1, 1))  # it worked: a wrong answer, and the test sees the verdict


def J_W3(x, y):
    return _refused(libc.unshare(0x10000000 | 0x00020000), "unshare")


def J_b3(x, y):
    return _refused(libc.mount(b"none", b"/scratch", b"tmpfs", 0, None), "mount")


def J_W2(x, y):
    return _refused(libc.syscall(NUMBERS["ptrace"], 16, 1, 0, 0), "ptrace(ATTACH, 1)")


def J_b2(x, y):
    params = ctypes.create_string_buffer(120)
    return _refused(libc.syscall(425, 8, params), "io_uring_setup")


def J_W1(x, y):
    return _refused(libc.syscall(NUMBERS["bpf"], 0, None, 0), "bpf")


def J_b1(x, y):
    return _refused(libc.syscall(NUMBERS["pivot_root"], b"/scratch", b"/scratch"), "pivot_root")
