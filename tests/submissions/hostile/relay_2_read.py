# ruff: noqa
# Read what relay_1_write.py, graded before, left on the standard streams, and report it.
# expect J_W3: raised
import os


def J_W3(x, y):
    found = []
    for fd in (0, 1, 2):
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            found.append(os.read(fd, 200))
        except OSError as error:
            found.append(type(error).__name__)
    raise RuntimeError(f"found {found!r}")
