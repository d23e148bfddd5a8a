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

from hypothesis import HealthCheck, Phase, Verbosity, given, settings

from autodiff.check.jvp.check import check_jvp
from autodiff.check.jvp.pair import check_pair
from autodiff.check.vjp.strategies import LayerCase, _fixed, kind, layer_cases, smaller

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


class _Failure(Exception):
    def __init__(self, case: LayerCase, result=None, error: Exception | None = None):
        super().__init__(repr(case))
        self.case, self.result, self.error = case, result, error


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

    def run(case: LayerCase):
        return check_case(case, forward, rule, backward, **check_options)

    @settings(max_examples=max_examples, deadline=None, derandomize=derandomize,
              database=None, print_blob=False, suppress_health_check=list(HealthCheck),
              phases=(Phase.explicit, Phase.generate), verbosity=Verbosity.quiet)
    @given(rule_cases(spec, **case_options))
    def property_holds(case):
        try:
            result = run(case)
        except Exception as error:  # the rule (or its forward) failed on this case
            raise _Failure(case, error=error) from None
        if not result.passed:
            raise _Failure(case, result)

    try:
        property_holds()
    except _Failure as failure:
        if failure.error is not None:
            raise AssertionError(f"{failure.case!r}\nraised {type(failure.error).__name__}: "
                                 f"{failure.error}") from None
        wanted = _kind(failure.result)

        def fails(trial: LayerCase) -> bool:
            try:
                return _kind(run(trial)) == wanted
            except Exception:  # rejected by the forward or rule: not a smaller failure
                return False

        case = smaller(failure.case, fails, _fixed(case_options.get("dims")))
        result = failure.result if case == failure.case else run(case)
        raise AssertionError(f"{case!r}\n{result.table()}") from None
