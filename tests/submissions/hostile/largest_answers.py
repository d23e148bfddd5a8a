# ruff: noqa
# The largest answer the grader accepts (2**16 elements), on every call: a wrong shape, but
# a fair one, never a protocol error (the grader's bound is per frame, however many frames
# of them stream back at once).
# expect J_W3: shape
# expect J_b3: shape
# expect J_W2: shape
# expect J_b2: shape
# expect J_W1: shape
# expect J_b1: shape
import numpy as np


def _largest(x, y):
    return np.full((256, 256), 0.5)


J_W3 = J_b3 = J_W2 = J_b2 = J_W1 = J_b1 = _largest
