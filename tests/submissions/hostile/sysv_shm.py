# ruff: noqa
# Memory outside every cap: System V shared memory segments, each filled, then detached
# (a detached segment counts against no process's address space) and left behind (without
# an IPC namespace it outlives the process). Six of 128 MiB; a loop of them takes the
# teacher's machine to the OOM killer.
# expect J_W3: raised
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
KEY = int("@@MARKER@@"[6:14], 16)  # the test finds the segments by these keys
IPC_CREAT, SEGMENT = 0o1000, 128 << 20


def J_W3(x, y):
    for index in range(6):
        ident = libc.shmget(KEY + index, SEGMENT, IPC_CREAT | 0o600)
        if ident < 0:
            raise OSError(ctypes.get_errno(), "shmget refused")
        address = libc.shmat(ident, None, 0)
        if address is None or address == ctypes.c_void_p(-1).value:
            raise OSError(ctypes.get_errno(), "shmat refused")
        ctypes.memset(address, 1, SEGMENT)
        libc.shmdt(ctypes.c_void_p(address))
    raise RuntimeError("six segments filled and left")
