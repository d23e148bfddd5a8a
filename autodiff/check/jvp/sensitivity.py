"""``check_jvp``'s side of ``autodiff.check.precision``: the oracle's ``J·t`` at moved primals
and tangents, and the rule rerun one precision up."""

from __future__ import annotations

from dataclasses import replace

from autodiff.check import precision
from autodiff.check.jvp import oracles as jvp_oracles
from autodiff.check.jvp.direction import Direction
from autodiff.check.jvp.rule import call_rule, split_result
from autodiff.check.vjp.args import Layout


def sensitivity(forward, layout: Layout, tangents: list, name: str, rng) -> list | None:
    """The largest change of ``J·t`` per output (``None`` elsewhere) by oracle ``name`` when
    every primal and tangent element moves by up to ``u`` relative; ``None`` when the oracle
    does not answer at the moved points."""
    def ask(values, moved):
        try:
            direction = Direction(forward, replace(layout, values=values), moved)
        except (ValueError, ArithmeticError):  # the forward refuses the moved point
            return None
        return jvp_oracles.ask(forward, direction, name)

    return precision.sensitivity(ask, layout, tangents, rng)


def raised(rule, layout: Layout, tangents: list, count: int, is_tuple: bool) -> list | None:
    """The rule's tangents (float64 arrays, ``None`` where it gave none) with its primals and
    tangents cast one precision up, or ``None`` where there is none or the rule fails there."""
    up = precision.raised(layout, tangents)
    if up is None:
        return None
    try:
        _, _, result = call_rule(rule, *up)
        _, answer, _ = split_result(result, count, is_tuple, "rule")
    except Exception:  # the rule cannot run in that precision (JAX, a cast): no verdict
        return None
    return answer
