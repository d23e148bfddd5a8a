# ruff: noqa
# Disk outside every cap in the weak sandbox: its scratch is a folder of the teacher's /tmp
# where RLIMIT_FSIZE caps each file at 16 MiB but not their number. J_W3 writes 16 MiB files
# there in a loop (32 of them, 512 MiB, then gives up); J_b3 does the same but deletes each
# file and keeps it open, so that it holds disk space without a name in the folder; J_b2
# keeps each one mapped instead (closed and deleted); J_W2 makes 5000 empty files. In the
# full sandbox the 16 MiB tmpfs, 256 inodes, refuses the second file or the 256th.
# expect J_W3: raised
# expect J_b3: raised
# expect J_b2: raised
# expect J_W2: raised
import ctypes
import os
import tempfile

CHUNK = b"\1" * (16 << 20)
kept = []
libc = ctypes.CDLL(None)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]


def _fill(keep):
    for index in range(32):
        path = os.path.join(tempfile.gettempdir(), f"fill-{keep}-{index}")
        handle = open(path, "w+b")
        handle.write(CHUNK)
        handle.flush()
        if keep == "open":
            kept.append(handle)
        elif keep == "mapped":
            # Python's own mmap would keep a descriptor: the kernel's keeps only the mapping.
            kept.append(libc.mmap(None, len(CHUNK), 1, 1, handle.fileno(), 0))
        if keep != "open":
            handle.close()
        if keep != "named":
            os.remove(path)
    raise RuntimeError("512 MiB written in the scratch")


def J_W3(x, y):
    _fill("named")


def J_b3(x, y):
    _fill("open")


def J_b2(x, y):
    _fill("mapped")


def J_W2(x, y):
    for index in range(5000):
        open(os.path.join(tempfile.gettempdir(), f"empty-{index}"), "w").close()
    raise RuntimeError("5000 files made in the scratch")
