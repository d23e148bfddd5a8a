"""What every check does to its inputs before it runs anything: the dtype it checks in, the
upstream gradient it draws, and the copies each call gets.

A check runs the user's code in float32 or float64 (``resolve_dtype``) and compares it with
oracles in float64 on the very same numbers. Where the caller gives no upstream gradient, one
is drawn standard normal (``random_dout``): a uniform one hides the paths that sum it away
(batch norm's mean path, softmax's Σ term). Every call of user code gets fresh deep copies
(``fresh``), so code that writes into what it is given changes nothing the check relies on.
"""

from __future__ import annotations

import copy

import numpy as np

FLOAT_DTYPES = {"float64": np.dtype(np.float64), "float32": np.dtype(np.float32)}


def resolve_dtype(dtype, like=None) -> np.dtype:
    """``dtype`` ("float64"/"float32" or those NumPy dtypes) as a NumPy dtype. ``None`` means
    the dtype of the array ``like`` (float32 stays float32, anything else is float64); with no
    ``like`` it is an error, as is any other dtype."""
    if dtype is None and like is not None:
        return FLOAT_DTYPES["float32" if np.asarray(like).dtype == np.float32 else "float64"]
    resolved = FLOAT_DTYPES.get(dtype) if isinstance(dtype, str) else None
    if resolved is None and dtype is not None and not isinstance(dtype, str):
        try:
            resolved = np.dtype(dtype)
        except TypeError:
            resolved = None
    if resolved is None or resolved not in FLOAT_DTYPES.values():
        raise ValueError(f"dtype: expected 'float64' or 'float32', got {dtype!r}")
    return resolved


def random_dout(out, rng: np.random.Generator, dtype):
    """A standard normal upstream gradient shaped like ``out`` (a tuple or list of outputs gets
    a tuple), in ``dtype``; an output that carries no gradient (integers, booleans) gets
    ``None`` and draws nothing."""
    if isinstance(out, (tuple, list)):
        return tuple(random_dout(o, rng, dtype) for o in out)
    if not np.issubdtype(np.asarray(out).dtype, np.inexact):
        return None
    return rng.standard_normal(np.shape(out)).astype(dtype)


def fresh(value):
    """A deep copy of ``value`` (arrays, dicts of hyper-parameters, tuples of them)."""
    return copy.deepcopy(value)
