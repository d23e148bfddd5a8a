"""``check_rule``: property-check a forward-mode rule (and, given one, its tie to a backward)
on drawn cases, in a user's own pytest suite.

Cases are ``check.vjp.strategies``' ``layer_cases`` of a spec (shapes by dimension name,
``Floats``, ``Integers``, anything else passed as is); each is checked by ``check_jvp`` and,
with ``backward=``, by ``check_pair``. A failure is made smaller as ``check_layer``'s are
(``smaller``: dimensions not fixed by ``dims=`` halved, then scale 1, kinks off, float64,
keeping the failure's kind) and reported with its runnable ``LayerCase`` and table.
``rule_cases`` is the strategy itself, for a ``@given`` of one's own.
"""

from __future__ import annotations

from autodiff.check.jvp.check import check_jvp
from autodiff.check.jvp.pair import check_pair
from autodiff.check.vjp.strategies import LayerCase, _fixed, falsify, kind, layer_cases

__all__ = ["check_case", "check_rule", "rule_cases"]


def rule_cases(spec, **options):
    """Cases for ``spec`` (``layer_cases``'s options: ``dims``, ``max_batch``, ``max_width``,
    ``dtype``, ``scale``, ``kinks``)."""
    return layer_cases(spec, **options)


def check_case(case: LayerCase, forward, rule, backward=None, **options):
    """``check_jvp`` of the rule on ``case`` (in its dtype, tangents seeded by it); with a
    ``backward``, ``check_pair`` too where that passes. Returns the failing result, or the
    last one."""
    result = check_jvp(forward, rule, *case.build(), dtype=case.dtype, seed=case.seed,
                       **options)
    if result.passed and backward is not None:
        pair_options = {k: v for k, v in options.items() if k in ("wrt", "names")}
        result = check_pair(forward, rule, backward, *case.build(), dtype=case.dtype,
                            seed=case.seed, **pair_options)
    return result


def _kind(result) -> tuple:
    return kind(result) if hasattr(result, "arguments") else ("dot-product identity",)


def check_rule(forward, rule, spec, *, backward=None, max_examples: int = 20,
               derandomize: bool = True, check_options: dict | None = None,
               **case_options) -> None:
    """Property-check ``rule`` (``rule(primals, tangents) -> (out, tangent_out)``) on
    ``max_examples`` drawn cases; raises AssertionError with a small failing case and its
    table. Hypothesis settings are given here (no deadline, no database, deterministic unless
    ``derandomize=False``); ``check_options`` go to ``check_jvp``, ``case_options`` to
    ``rule_cases``."""
    __tracebackhide__ = True
    check_options = check_options or {}
    falsify(lambda case: check_case(case, forward, rule, backward, **check_options),
            rule_cases(spec, **case_options), kind_of=_kind,
            fixed=_fixed(case_options.get("dims")), max_examples=max_examples,
            derandomize=derandomize)
