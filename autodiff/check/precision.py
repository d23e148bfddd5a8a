"""Judging again a rule that fails against an exact oracle: how far a correct one may stray
when its inputs are rounded, and whether it is right one precision up. Shared by
``check_vjp`` (a backward, moved with its ``dout``) and ``check_jvp`` (a rule, moved with its
tangents); each supplies how to ask its oracle and how to run its rule.

The rounding bound of ``vjp.tolerance`` is read from the sizes the finite-difference scan
sees, but a problem may be worse conditioned than anything the scan shows: batch norm of
inputs whose spread is a hundredth of their size (``x − μ`` in float32). What a correct rule
computes is, at best, the exact answer at inputs moved by a few roundings — so the oracle is
asked again at primals and cotangents (or tangents) each moved by ``u`` of the rule's dtype
(uniform random relative moves, ``DRAWS`` times), and ``SENSITIVITY_SLACK`` times the largest
change, element by element, is added to the tolerance. A real mistake (a term missing, a
factor, a relative error of 1e-6 in float64) moves the answer by far more than rounding the
inputs does.

A rule may also be less accurate than its inputs' rounding explains: attention's
``P ⊙ (dS − Σ P dS)`` on a softmax saturated to within ``1e-15`` (scores 35 apart) rounds
``1 − P`` to a tenth of itself, in any implementation of that formula. So a rule still failing
is run once more one precision up (float64 for a float32 check, NumPy's extended
``longdouble`` for a float64 one, where the platform has it: ``RAISED``). If there it agrees
with the oracle within the float64 bound, the formula is right and the gap is the rule's own
rounding, which is then allowed — up to ``√u`` of the answer's scale (``within_noise``): a
rule that inaccurate fails, as does a wrong formula, which stays wrong in any precision, and
a rule that rounds to a lower precision inside, or casts its inputs to float64 itself (so
``longdouble`` changes nothing).
"""

from __future__ import annotations

import numpy as np

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


def sensitivity(ask, layout: Layout, extras: list, rng) -> list | None:
    """The largest change of ``ask(values, extras)`` (a list of arrays, ``None`` where there is
    no answer) when every differentiable argument and every ``extras`` array (the cotangents
    or tangents; ``None`` entries stay) moves by up to ``u`` of the layout's dtype, relative,
    element by element; ``None`` when ``ask`` gives no answer at some point."""
    base = ask(layout.values, extras)
    if base is None:
        return None
    largest = [None if b is None else np.zeros(np.shape(b)) for b in base]
    u = UNIT_ROUNDOFF[np.dtype(layout.dtype)]

    def moved(x):
        x = np.asarray(x, np.float64)
        return x * (1 + u * rng.uniform(-1, 1, x.shape))

    for _ in range(DRAWS):
        values = [moved(v) if i in layout.wrt else v for i, v in enumerate(layout.values)]
        answer = ask(values, [None if e is None else moved(e) for e in extras])
        if answer is None:
            return None
        largest = [None if b is None else np.maximum(m, np.abs(a - b))
                   for m, a, b in zip(largest, answer, base, strict=True)]
    return largest


def raised(layout: Layout, extras: list) -> tuple[Layout, list] | None:
    """The layout and ``extras`` (``None`` entries stay) cast one precision up, or ``None``
    where the platform has none above the layout's dtype."""
    up = RAISED.get(np.dtype(layout.dtype))
    if up is None:
        return None
    values = [np.asarray(v).astype(up) if i in layout.wrt else v
              for i, v in enumerate(layout.values)]
    return (Layout(values, layout.wrt, layout.names, np.dtype(up)),
            [None if e is None else np.asarray(e).astype(up) for e in extras])


def within_noise(got: np.ndarray, higher: np.ndarray, dtype, scale: float = 0.0) -> bool:
    """Whether the rule's gap to itself one precision up stays within ``√u`` of its scale:
    the larger of ``higher``'s largest element and ``scale`` (the size of the terms it is
    formed from, where the caller knows it)."""
    u = UNIT_ROUNDOFF[np.dtype(dtype)]
    scale = max(float(np.max(np.abs(higher), initial=0.0)), scale)
    return bool(np.all(np.abs(got - higher) <= np.sqrt(u) * scale))
