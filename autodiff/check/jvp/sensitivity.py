"""How far a correct tangent may move when its inputs are rounded: the tolerance a failure
against an exact oracle is judged again with.

The rounding bound of ``vjp.tolerance`` is read from the sizes the scan along ``t`` sees, but a
problem may be worse conditioned than anything on that line shows: batch norm of inputs whose
spread is a hundredth of their size (``x − μ`` in float32). What a correct rule
computes is, at best, the exact tangent at inputs moved by a few roundings — so the oracle is
asked again at primals and tangents each moved by ``u`` of the rule's dtype (uniform random
relative moves, ``DRAWS`` times), and ``SENSITIVITY_SLACK`` times the largest change, element
by element, is added to the tolerance. A real mistake (a term missing, a factor, a relative
error of 1e-6 in float64) moves the tangent by far more than rounding the inputs does.

A rule may also be less accurate than its inputs' rounding explains: attention's
``P ⊙ (dS − Σ P dS)`` on a softmax saturated to within ``1e-15`` (scores 35 apart) rounds
``1 − P`` to a tenth of itself, in any implementation of that formula. So a rule still failing
is run once more one precision up (float64 for a float32 check, NumPy's extended
``longdouble`` for a float64 one, where the platform has it: ``raised``). If there it agrees
with the oracle within the float64 bound, the formula is right and the gap is the rule's own
rounding, which is then allowed — up to ``√u`` of the tangent's scale: a rule that inaccurate
fails, as would a wrong formula, which stays wrong in any precision.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from autodiff.check.jvp import oracles as jvp_oracles
from autodiff.check.jvp.direction import Direction
from autodiff.check.jvp.rule import call_rule, split_result
from autodiff.check.vjp.args import Layout
from autodiff.check.vjp.tolerance import UNIT_ROUNDOFF

DRAWS = 2
_LONG = np.dtype(np.longdouble)
# One precision up from each checked dtype (none above float64 where longdouble is double).
RAISED = {np.dtype(np.float32): np.float64,
          np.dtype(np.float64): np.longdouble if np.finfo(_LONG).eps < np.finfo(
              np.float64).eps else None}
# A rounding moves a value by at most u; a correct rule rounds along each of its paths a few
# times, and the moves add: 8 roundings' worth, as SLACK_OPS allows elementwise chains.
SENSITIVITY_SLACK = 8


def sensitivity(forward, layout: Layout, tangents: list, name: str, rng) -> list | None:
    """The largest change of ``J·t`` per output (``None`` elsewhere) by oracle ``name`` when
    every primal and tangent element moves by up to ``u`` relative; ``None`` when the oracle
    does not answer at the moved points."""
    base = jvp_oracles.ask(forward, Direction(forward, layout, tangents), name)
    if base is None:
        return None
    largest = [None if b is None else np.zeros(np.shape(b)) for b in base]
    for values, moved in _moves(layout, tangents, rng, np.float64):
        try:
            direction = Direction(forward, replace(layout, values=values), moved)
        except (ValueError, ArithmeticError):  # the forward refuses the moved point
            return None
        answer = jvp_oracles.ask(forward, direction, name)
        if answer is None:
            return None
        largest = [None if b is None else np.maximum(m, np.abs(a - b))
                   for m, a, b in zip(largest, answer, base, strict=True)]
    return largest


def _moves(layout: Layout, tangents: list, rng, dtype):
    """``DRAWS`` pairs ``(argument values, tangents)`` moved by up to ``u`` of the layout's
    dtype, element by element, in ``dtype``."""
    u = UNIT_ROUNDOFF[np.dtype(layout.dtype)]
    for _ in range(DRAWS):
        values = list(layout.values)
        for position in layout.wrt:
            x = np.asarray(values[position], np.float64)
            values[position] = (x * (1 + u * rng.uniform(-1, 1, x.shape))).astype(dtype)
        yield values, [(np.asarray(t, np.float64) * (1 + u * rng.uniform(
            -1, 1, np.shape(t)))).astype(dtype) for t in tangents]


def raised(rule, layout: Layout, tangents: list, count: int, is_tuple: bool) -> list | None:
    """The rule's tangents (float64 arrays, ``None`` where it gave none) with its primals and
    tangents cast one precision up, or ``None`` where there is none or the rule fails there."""
    up = RAISED.get(np.dtype(layout.dtype))
    if up is None:
        return None
    values = [np.asarray(v).astype(up) if i in layout.wrt else v
              for i, v in enumerate(layout.values)]
    try:
        _, _, result = call_rule(rule, replace(layout, values=values, dtype=np.dtype(up)),
                                 [np.asarray(t).astype(up) for t in tangents])
        _, answer, _ = split_result(result, count, is_tuple, "rule")
    except Exception:  # the rule cannot run in that precision (JAX, a cast): no verdict
        return None
    return answer


def within_noise(got: np.ndarray, higher: np.ndarray, dtype) -> bool:
    """Whether the rule's gap to itself one precision up stays within ``√u`` of its scale."""
    u = UNIT_ROUNDOFF[np.dtype(dtype)]
    scale = float(np.max(np.abs(higher), initial=0.0))
    return bool(np.all(np.abs(got - higher) <= np.sqrt(u) * scale))
