"""A first-order running-error bound for any JAX computation, read off its jaxpr.

``evaluate(closed_jaxpr, *args)`` runs the jaxpr and, next to every value ``v``, a bound ``e``
on how far ``v`` computed in floating point can be from its exact value, in units of the unit
roundoff ``u`` (multiply by ``u`` of the dtype that matters). The inputs are taken as exact.
The rules are the classic ones (Higham, *Accuracy and Stability of Numerical Algorithms*, ch. 3),
the same as ``autodiff.core.tolerance`` applies to the worksheet's network by hand:

* ``a ± b``: ``e_a + e_b + |a ± b|`` — cancellation keeps the inputs' absolute errors;
* ``a · b``: ``e_a |b| + |a| e_b + |a b|``; ``a / b``: ``e_a / |b| + |a| e_b / b² + |a / b|``;
* a sum of n terms (``reduce_sum``, the contraction of ``dot_general``): the sum of the terms'
  errors plus ``n · Σ|terms|``;
* an elementwise function ``f`` (exp, log, tanh, logistic, …): ``|f'(x)| e_x`` (by ``jax.jvp``)
  plus ``ELEMENTWISE_ULPS · |f(x)|`` for its own evaluation;
* moving, selecting and reshaping values (transpose, slice, pad, select, gather, …) moves
  their errors the same way and adds none; comparisons and integers carry none;
  ``scatter-add`` is a sum of the updates landing on an entry.

Nested jaxprs (``jit`` inside) are followed. A primitive without a rule raises, rather than
being silently trusted. The bound is worst case (every rounding aligned), so real errors are
usually far below it; it is first order, which is what rounding in float64 and float32 needs.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.extend.core import Literal

# Accuracy of one evaluation of exp, log, tanh, logistic, sqrt, … in units of roundoff: XLA's
# CPU kernels were measured within 7 ulp (see autodiff.core.tolerance); 8 covers them.
ELEMENTWISE_ULPS = 8

_MOVES = {  # linear in their array operands, exact: errors move like the values
    "broadcast_in_dim", "reshape", "transpose", "squeeze", "expand_dims", "slice",
    "dynamic_slice", "concatenate", "split", "unstack", "rev", "copy", "copy_p", "pad",
    "select_n", "gather", "dynamic_update_slice", "reduce_precision", "stack",
    "real", "imag", "conj",
}
_SUMS = {"add", "add_any", "sub"}
_NO_ERROR = {"eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "iota", "argmax",
             "argmin", "sign", "floor", "ceil", "round", "stop_gradient", "is_finite"}
_ELEMENTWISE = {"exp", "exp2", "log", "log1p", "expm1", "tanh", "logistic", "sqrt", "rsqrt",
                "integer_pow", "pow", "sin", "cos", "abs", "max", "min", "erf", "square",
                "cbrt", "atan2", "neg", "reduce_max", "reduce_min", "cummax", "clamp"}


def _is_float(x) -> bool:
    return jnp.issubdtype(jnp.result_type(x), jnp.floating)


def _zero_like(x):
    return jnp.zeros(jnp.shape(x), jnp.result_type(x)) if _is_float(x) else None


def _bind(eqn, *args):
    out = eqn.primitive.bind(*args, **eqn.primitive.get_bind_params(eqn.params))
    return list(out) if eqn.primitive.multiple_results else [out]


def _dot_terms(eqn, a, b) -> int:
    """``n``, the number of products each output element of a ``dot_general`` sums."""
    (contract_a, _), _ = eqn.params["dimension_numbers"]
    return math.prod(jnp.shape(a)[d] for d in contract_a)


def _rule(eqn, values, errors, outs):
    """The error bounds of ``outs``, the results of ``eqn`` on ``values`` with ``errors``."""
    name = eqn.primitive.name
    floats = [i for i, v in enumerate(values) if _is_float(v)]
    abs_values = [jnp.abs(v) if _is_float(v) else v for v in values]
    zeros = [e if e is not None else _zero_like(v) for v, e in zip(values, errors, strict=True)]
    if name in _NO_ERROR or not any(_is_float(o) for o in outs):
        return [_zero_like(o) for o in outs]
    if name == "convert_element_type":  # from integers or booleans: exact
        return [zeros[0].astype(outs[0].dtype) if floats else _zero_like(outs[0])]
    if name == "scatter-add":  # sums the updates that land on one entry: up to all of them
        moved = _bind(eqn, *[zeros[i] if i in floats else v for i, v in enumerate(values)])[0]
        n = math.prod(jnp.shape(values[1])[:-1]) + 1
        return [moved + n * _bind(eqn, *abs_values)[0]]
    if name in _MOVES:
        # errors go where the values go; non-float operands (indices, predicates) stay as they are
        return _bind(eqn, *[zeros[i] if i in floats else v for i, v in enumerate(values)])
    if name in _SUMS:
        return [zeros[0] + zeros[1] + jnp.abs(outs[0])]
    if name == "mul":
        (a, b), (ea, eb) = abs_values, zeros
        return [ea * b + a * eb + jnp.abs(outs[0])]
    if name == "div":
        (a, b), (ea, eb) = abs_values, zeros
        return [ea / b + a * eb / (b * b) + jnp.abs(outs[0])]
    if name == "dot_general":
        (a, b), (ea, eb) = abs_values, zeros
        terms = _bind(eqn, a, b)[0]
        return [_bind(eqn, ea, b)[0] + _bind(eqn, a, eb)[0] + _dot_terms(eqn, a, b) * terms]
    if name in ("reduce_sum", "cumsum"):
        n = max(jnp.shape(values[0])[axis] for axis in (
            eqn.params["axes"] if name == "reduce_sum" else (eqn.params["axis"],)))
        return [_bind(eqn, zeros[0])[0] + n * _bind(eqn, abs_values[0])[0]]
    if name in _ELEMENTWISE:
        def f(*xs):
            full = list(values)
            for i, x in zip(floats, xs, strict=True):
                full[i] = x
            return _bind(eqn, *full)[0]
        propagated = 0.0
        for i in floats:
            tangents = [zeros[j] if j == i else _zero_like(values[j]) for j in floats]
            propagated = propagated + jnp.abs(jax.jvp(f, [values[j] for j in floats],
                                                      tangents)[1])
        exact = name in ("neg", "abs", "max", "min", "reduce_max", "reduce_min", "clamp",
                         "cummax")
        return [propagated + (0.0 if exact else ELEMENTWISE_ULPS * jnp.abs(outs[0]))]
    raise NotImplementedError(f"running error: no rule for the primitive {name!r}")


def evaluate(closed, *args):
    """``(outputs, bounds)``: the jaxpr's outputs and, for each, its error bound in units of u
    (zeros where a value is exact, ``None`` for non-floating outputs)."""
    outs, bounds = _run(closed.jaxpr, closed.consts, list(args), [None] * len(args))
    return outs, [_zero_like(o) if b is None else b for o, b in zip(outs, bounds, strict=True)]


def _run(jaxpr, consts, args, arg_errors):
    values, errors = {}, {}

    def read(v):
        return (v.val, None) if isinstance(v, Literal) else (values[v], errors[v])

    for var, value in zip(jaxpr.constvars, consts, strict=True):
        values[var], errors[var] = value, None
    for var, value, error in zip(jaxpr.invars, args, arg_errors, strict=True):
        values[var], errors[var] = value, error
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        in_values = [v for v, _ in ins]
        in_errors = [e for _, e in ins]
        inner = eqn.params.get("jaxpr", eqn.params.get("call_jaxpr"))
        if inner is not None and hasattr(inner, "consts"):  # a nested jit: follow it
            outs, out_errors = _run(inner.jaxpr, inner.consts, in_values, in_errors)
        else:
            with eqn.ctx.manager:
                outs = _bind(eqn, *in_values)
            name = eqn.primitive.name
            if all(e is None for e in in_errors) and (name in _MOVES or name in _NO_ERROR):
                out_errors = [None] * len(outs)  # exact values moved about stay exact
            else:
                out_errors = _rule(eqn, in_values, in_errors, outs)
        for var, value, error in zip(eqn.outvars, outs, out_errors, strict=True):
            values[var], errors[var] = value, error
    return [read(v)[0] for v in jaxpr.outvars], [read(v)[1] for v in jaxpr.outvars]
