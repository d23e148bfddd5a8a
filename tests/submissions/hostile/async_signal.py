# ruff: noqa
# Signal a process of the teacher's without kill(): make it the owner of the grader's own
# pipe (F_SETOWN, or ioctl FIOSETOWN), choose the signal (F_SETSIG: SIGKILL) and ask for
# one on every event (O_ASYNC): the grader's next request would kill the owner. Where
# Landlock cannot scope signals (ABI below 6), only seccomp stands in the way.
# expect J_W3: raised
# expect J_b3: raised
import ctypes
import fcntl
import os
import signal

TARGET = int("@@TEACHER_PID@@")
F_SETSIG, FIOSETOWN, FIOASYNC = 10, 0x8901, 0x5452
libc = ctypes.CDLL(None, use_errno=True)


def _each_descriptor(attempt):
    done, refused = 0, set()
    for fd in range(3, 64):
        try:
            attempt(fd)
            done += 1
        except OSError as error:
            refused.add(error.errno)
    raise RuntimeError(f"armed {done} descriptors; refused with {sorted(refused)}")


def _fcntl(fd):
    fcntl.fcntl(fd, fcntl.F_SETOWN, TARGET)
    fcntl.fcntl(fd, F_SETSIG, signal.SIGKILL)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)


def _ioctl(fd):
    for request, value in ((FIOSETOWN, TARGET), (FIOASYNC, 1)):
        argument = ctypes.c_int(value)
        if libc.ioctl(fd, request, ctypes.byref(argument)) != 0:
            raise OSError(ctypes.get_errno(), "ioctl refused")


def J_W3(x, y):
    _each_descriptor(_fcntl)


def J_b3(x, y):
    _each_descriptor(_ioctl)
