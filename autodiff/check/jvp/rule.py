"""The contract of a forward-mode rule, and its result read back as arrays.

``rule(primals, tangents) -> (out, tangent_out)``, the signature of a ``jax.custom_jvp`` rule:
``primals`` is the tuple of every argument, ``tangents`` a tuple aligned with it holding a
float array (shaped and typed like its primal) at each differentiable position and ``None``
elsewhere — a dict of hyper-parameters, integer labels and Python numbers carry no tangent.
``out`` is what the forward returns (an array or a tuple of them) and ``tangent_out`` matches
it; an output that carries no tangent (integers, booleans) may have ``None`` there. Both are
called on fresh copies, as in ``check_vjp``.
"""

from __future__ import annotations

import numpy as np

from autodiff.check.vjp.args import Layout, as_outputs


def make_tangents(layout: Layout, tangents, rng) -> list:
    """One tangent per differentiable argument in ``layout.dtype``: standard normal where not
    given, else the given ones (a sequence aligned with the arguments, ``None`` elsewhere, or
    with the differentiable ones) checked against their primals' shapes."""
    if tangents is None:
        return [rng.standard_normal(np.shape(layout.values[i])).astype(layout.dtype)
                for i in layout.wrt]
    if not isinstance(tangents, (tuple, list)):
        raise TypeError(f"tangents: expected a tuple (one per argument, None where not "
                        f"differentiable), got {type(tangents).__name__}")
    items = list(tangents)
    if len(items) == len(layout.values) and len(items) != len(layout.wrt):
        items = [items[i] for i in layout.wrt]
    if len(items) != len(layout.wrt):
        raise ValueError(f"tangents: expected {len(layout.values)} (one per argument) or "
                         f"{len(layout.wrt)} (one per float argument), got {len(items)}")
    result = []
    for i, item in zip(layout.wrt, items, strict=True):
        array = np.asarray(item, np.float64) if item is not None else None
        shape = np.shape(layout.values[i])
        if array is None or array.shape != shape:
            got = "None" if array is None else f"shape {array.shape}"
            raise ValueError(f"tangents: the tangent of {layout.names[i]} is {got}, expected "
                             f"shape {shape} (nothing is broadcast)")
        result.append(array.astype(layout.dtype))
    return result


def call_rule(rule, layout: Layout, tangents: list) -> tuple[list, tuple, list]:
    """``(primals given, tangents given, result)``: the rule called on fresh copies."""
    primals = layout.call_args()
    given = [None] * len(layout.values)
    for i, t in zip(layout.wrt, tangents, strict=True):
        given[i] = t.copy()
    result = rule(tuple(primals), tuple(given))
    return primals, tuple(given), result


def split_result(result, count: int, is_tuple: bool, name: str) -> tuple[list, list, list]:
    """``(outs, tangent_outs, notes)`` from a rule's result, aligned with the forward's
    ``count`` outputs; ``None`` with a note where a tangent is missing or misshapen. A result
    of the wrong form raises TypeError."""
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(f"{name}: expected (out, tangent_out), the result of a jax.custom_jvp "
                        f"rule, got {type(result).__name__}"
                        + (f" of length {len(result)}" if isinstance(result, (tuple, list))
                           else ""))
    out, tangent = result
    outs, _ = as_outputs(out, f"{name}'s primal")
    if len(outs) != count:
        raise TypeError(f"{name}: returned {len(outs)} primal outputs, the forward {count}")
    items = list(tangent) if is_tuple and isinstance(tangent, (tuple, list)) else [tangent]
    if len(items) != count:
        raise TypeError(f"{name}: returned {len(items)} tangents, the forward has {count} "
                        "outputs")
    tangents, notes = [], []
    for index, item in enumerate(items):
        label = f"tangent of out[{index}]" if is_tuple else "tangent of out"
        try:
            array = None if item is None else np.asarray(item, np.float64)
        except (TypeError, ValueError):
            array = None
        tangents.append(array)
        shape = np.shape(outs[index])
        notes.append(f"the {label} is missing (None)" if item is None else
                     f"the {label} is {type(item).__name__}, not an array" if array is None else
                     "" if array.shape == shape else
                     f"the {label} has shape {array.shape}, expected {shape}")
    return outs, tangents, notes
