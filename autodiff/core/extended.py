"""A jaxpr run one precision up: every primitive evaluated by NumPy in ``longdouble``.

``evaluate(closed_jaxpr, *args)`` runs the same program JAX would — the same operations, in
the same order — but with floating values held in NumPy's extended ``longdouble`` (64-bit
mantissa on x86: each rounding 2048 times smaller than float64's). A derivative program that
cancels inside (JAX's derivative of ``tanh`` forms ``1 − tanh²``: terms of size 1 leaving
1e-9) is then accurate where its float64 run is not, so a checker can tell an oracle's own
rounding from a mistake in the code it checks. ``available()`` says whether ``longdouble`` is
wider than float64 here.

Only the primitives a checked function commonly reaches have a rule (arithmetic, the
elementwise functions NumPy has in ``longdouble``, comparisons and selects, broadcasts,
reshapes, transposes, slices, reductions, ``dot_general``) and calls are followed into (``jit``,
``custom_jvp_call``, ``custom_vjp_call``, …); any other primitive raises ``Unsupported``, and
the caller goes without.
"""

from __future__ import annotations

import string

import numpy as np

LONG = np.longdouble


class Unsupported(Exception):
    """The jaxpr uses a primitive without a rule here."""


def available() -> bool:
    return np.finfo(LONG).eps < np.finfo(np.float64).eps


def _long(x):
    x = np.asarray(x)
    return x.astype(LONG) if np.issubdtype(x.dtype, np.floating) else x


def _logistic(x):
    return 1 / (1 + np.exp(-x))


_ELEMENTWISE = {
    "neg": np.negative, "exp": np.exp, "exp2": np.exp2, "log": np.log, "log1p": np.log1p,
    "expm1": np.expm1, "tanh": np.tanh, "logistic": _logistic, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x), "sin": np.sin, "cos": np.cos, "abs": np.abs,
    "sign": np.sign, "square": np.square, "floor": np.floor, "ceil": np.ceil,
    "not": np.logical_not, "copy": lambda x: x, "copy_p": lambda x: x,
    "reduce_precision": lambda x: x, "stop_gradient": lambda x: x, "cbrt": np.cbrt,
}
_BINARY = {
    "add": np.add, "add_any": np.add, "sub": np.subtract, "mul": np.multiply,
    "max": np.maximum, "min": np.minimum, "pow": np.power, "atan2": np.arctan2,
    "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
    "gt": np.greater, "ge": np.greater_equal, "and": np.logical_and, "or": np.logical_or,
    "rem": np.fmod,
}
_CALLS = ("jaxpr", "call_jaxpr", "fun_jaxpr")


def _div(a, b):
    if np.issubdtype(np.result_type(a, b), np.integer):
        return np.trunc(np.true_divide(a, b)).astype(np.result_type(a, b))
    return np.true_divide(a, b)


def _broadcast(x, shape, broadcast_dimensions, **_):
    kept = [1] * len(shape)
    for axis, size in zip(broadcast_dimensions, np.shape(x), strict=True):
        kept[axis] = size
    return np.broadcast_to(np.reshape(x, kept), shape)


def _dot(a, b, dimension_numbers, **_):
    (a_contract, b_contract), (a_batch, b_batch) = dimension_numbers
    letters = iter(string.ascii_letters)
    a_axes, b_axes = [None] * np.ndim(a), [None] * np.ndim(b)
    for i, j in zip(a_batch, b_batch, strict=True):
        a_axes[i] = b_axes[j] = next(letters)
    for i, j in zip(a_contract, b_contract, strict=True):
        a_axes[i] = b_axes[j] = next(letters)
    a_free = [i for i in range(np.ndim(a)) if a_axes[i] is None]
    b_free = [j for j in range(np.ndim(b)) if b_axes[j] is None]
    for i in a_free:
        a_axes[i] = next(letters)
    for j in b_free:
        b_axes[j] = next(letters)
    out = ([a_axes[i] for i in a_batch] + [a_axes[i] for i in a_free]
           + [b_axes[j] for j in b_free])
    return np.einsum(f"{''.join(a_axes)},{''.join(b_axes)}->{''.join(out)}", a, b)


def _convert(x, new_dtype, **_):
    if np.issubdtype(np.dtype(new_dtype), np.floating):
        return np.asarray(x).astype(LONG)
    return np.asarray(x).astype(new_dtype)


def _select(which, *cases):
    if np.asarray(which).dtype == bool:
        return np.where(which, cases[1], cases[0])
    return np.choose(which, cases)


def _slice(x, start_indices, limit_indices, strides=None, **_):
    strides = strides or (1,) * len(start_indices)
    return x[tuple(slice(s, e, k) for s, e, k in zip(start_indices, limit_indices, strides,
                                                     strict=True))]


def _pad(x, padding, padding_config, **_):
    if any(interior or low < 0 or high < 0 for low, high, interior in padding_config):
        raise Unsupported("pad (interior or negative)")
    return np.pad(x, [(low, high) for low, high, _ in padding_config],
                  constant_values=padding)


def _iota(dtype, shape, dimension, **_):
    values = np.arange(shape[dimension], dtype=_convert(0, dtype).dtype)
    kept = [1] * len(shape)
    kept[dimension] = shape[dimension]
    return np.broadcast_to(values.reshape(kept), shape)


_STRUCTURAL = {
    "broadcast_in_dim": _broadcast,
    "reshape": lambda x, new_sizes, **_: np.reshape(x, new_sizes),
    "transpose": lambda x, permutation, **_: np.transpose(x, permutation),
    "squeeze": lambda x, dimensions, **_: np.squeeze(x, tuple(dimensions)),
    "expand_dims": lambda x, dimensions, **_: np.expand_dims(x, tuple(dimensions)),
    "reduce_sum": lambda x, axes, **_: np.sum(x, axis=tuple(axes)),
    "reduce_max": lambda x, axes, **_: np.max(x, axis=tuple(axes)),
    "reduce_min": lambda x, axes, **_: np.min(x, axis=tuple(axes)),
    "argmax": lambda x, axes, index_dtype, **_: np.argmax(x, axis=axes[0]).astype(index_dtype),
    "argmin": lambda x, axes, index_dtype, **_: np.argmin(x, axis=axes[0]).astype(index_dtype),
    "integer_pow": lambda x, y, **_: x ** y,
    "convert_element_type": _convert,
    "dot_general": _dot,
    "slice": _slice,
    "concatenate": lambda *xs, dimension, **_: np.concatenate(xs, axis=dimension),
    "pad": _pad,
    "clamp": lambda low, x, high, **_: np.clip(x, low, high),
    "rev": lambda x, dimensions, **_: np.flip(x, tuple(dimensions)),
}


def _apply(eqn, values: list) -> list:
    name, params = eqn.primitive.name, eqn.params
    inner = next((params[key] for key in _CALLS if key in params), None)
    if inner is not None:
        closed = inner if hasattr(inner, "consts") else None
        jaxpr = inner.jaxpr if closed is not None else inner
        consts = closed.consts if closed is not None else []
        return _run(jaxpr, consts, values)
    if name in _ELEMENTWISE:
        out = _ELEMENTWISE[name](*values)
    elif name in _BINARY:
        out = _BINARY[name](*values)
    elif name == "div":
        out = _div(*values)
    elif name == "select_n":
        out = _select(*values)
    elif name == "iota":
        out = _iota(**params)
    elif name in _STRUCTURAL:
        out = _STRUCTURAL[name](*values, **params)
    else:
        raise Unsupported(name)
    return list(out) if eqn.primitive.multiple_results else [out]


def _run(jaxpr, consts, args) -> list:
    from jax.extend.core import Literal

    env = {}

    def read(var):
        return _long(var.val) if isinstance(var, Literal) else env[var]

    for var, value in zip(jaxpr.constvars, consts, strict=True):
        env[var] = _long(value)
    for var, value in zip(jaxpr.invars, args, strict=True):
        env[var] = _long(value)
    with np.errstate(all="ignore"):
        for eqn in jaxpr.eqns:
            outs = _apply(eqn, [read(v) for v in eqn.invars])
            for var, value in zip(eqn.outvars, outs, strict=True):
                env[var] = np.asarray(value)
    return [read(v) for v in jaxpr.outvars]


def evaluate(closed, *args) -> list:
    """The outputs of ``closed`` (a ``ClosedJaxpr``) at ``args``, computed in ``longdouble``
    (non-floating values keep their types); raises ``Unsupported`` naming a primitive it has
    no rule for."""
    return _run(closed.jaxpr, closed.consts, list(args))
