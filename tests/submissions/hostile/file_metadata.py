# ruff: noqa
# Change a teacher's file without writing to it: its mode, its times, its extended
# attributes. Landlock covers none of these; in the weak sandbox only seccomp refuses them.
# expect J_W3: raised
# expect J_b3: raised
# expect J_W2: raised
import os

TARGET = "@@HOME_CANARY@@"


def J_W3(x, y):
    os.chmod(TARGET, 0o777)
    raise RuntimeError("chmod worked")


def J_b3(x, y):
    os.utime(TARGET, (0, 0))
    raise RuntimeError("utimensat worked")


def J_W2(x, y):
    os.setxattr(TARGET, "user.backprop", b"forged")
    raise RuntimeError("setxattr worked")
