# ruff: noqa
# Rig the verdict: edit the grader's installed files, drop a .pth file into the
# environment's site-packages (both attempts harmless if they got through: the test looks
# for them), and return None everywhere, which the old grader once passed as "6 of 6".
# expect J_W3: raised
# expect J_b3: raised
# expect J_W2: not_array
# expect J_b2: not_array
# expect J_W1: not_array
# expect J_b1: not_array
import os

import numpy as np


def J_W3(x, y):
    with open("@@JUDGE_PY@@", "a") as handle:
        handle.write("")
    raise RuntimeError("opened the grader's judge.py for writing")


def J_b3(x, y):
    site_packages = os.path.dirname(os.path.dirname(np.__file__))
    with open(os.path.join(site_packages, "@@MARKER@@.pth"), "w") as handle:
        handle.write("# harmless\n")
    raise RuntimeError("dropped a .pth file")


def J_W2(x, y):
    return None


def J_b2(x, y):
    return None


def J_W1(x, y):
    return None


def J_b1(x, y):
    return None
