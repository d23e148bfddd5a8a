"""Hypothesis strategies for Hessian-vector products, usable in a user's own suite.

``hvp_cases`` draws ``HVPCase`` values — a ``NetworkCase`` and the seed of a direction ``v`` —
for an hvp of the project's network (``reference.hvp``'s signature); ``case.check(hvp=…)`` is
``check_network_hvp`` on it, and a failing case's repr rebuilds it. ``check_hvp_property``
property-tests any scalar ``f`` with its ``hvp`` on arguments drawn from a ``check_layer``
spec (shapes with named dimensions), off kinks, since a Hessian is not defined on them::

    from autodiff.check.hvp.strategies import check_hvp_property

    def test_my_hvp():
        check_hvp_property(f, my_hvp, {"A": ("D", "D"), "x": ("D",)})
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from autodiff.check.cases import NetworkCase
from autodiff.check.strategies import network_cases
from autodiff.check.vjp.strategies import LayerCase, layer_cases

__all__ = ["HVPCase", "check_hvp_property", "hvp_cases"]


@dataclass(frozen=True)
class HVPCase:
    """A network, a batch and a direction: ``build()`` gives ``(params, x, y, v)``, ``v`` standard
    normal from ``direction_seed``, laid out like ``params`` and in its dtype."""

    network: NetworkCase
    direction_seed: int = 0

    def build(self):
        params, x, y = self.network.build()
        rng = np.random.default_rng(self.direction_seed)
        v = [(rng.standard_normal(W.shape).astype(W.dtype),
              rng.standard_normal(b.shape).astype(b.dtype)) for W, b in params]
        return params, x, y, v

    def check(self, hvp=None, **options):
        """``check_network_hvp`` of ``hvp`` (default ``reference.hvp``) on this case."""
        from autodiff.check.hvp.network import check_network_hvp

        params, x, y, v = self.build()
        return check_network_hvp(params, x, y, self.network.activation, hvp, v=v,
                                 dtype=self.network.dtype, **options)


def hvp_cases(direction_seeds: st.SearchStrategy[int] | None = None,
              **network_options) -> st.SearchStrategy[HVPCase]:
    """``HVPCase`` values; ``network_options`` are ``network_cases``' (``sizes=``, ``depth=``,
    ``activation=``, ``dtype=``, ``scales=`` …), except that the dtype is float64 unless given:
    a float32 hvp of a saturated network is held to float32's bound, which is rarely what a
    property test of the mathematics wants."""
    network_options.setdefault("dtype", "float64")
    return st.builds(HVPCase, network_cases(**network_options),
                     st.integers(0, 2**32 - 1) if direction_seeds is None else direction_seeds)


def check_hvp_property(f, hvp, spec, *, max_examples: int = 10, dims=None,
                       dtype="float64", **options) -> None:
    """Run ``check_hvp(f, hvp, *args)`` on arguments drawn from ``spec`` (as ``check_layer``'s:
    ``{name: shape}``, ``dims`` fixing sizes), off kinks; a failure raises AssertionError with the
    drawn ``LayerCase`` and the report. The first failing case is reported as drawn (its
    dimensions are at most 4): shrinking would rerun the check dozens of times."""
    from autodiff.check.hvp.check import check_hvp

    @settings(max_examples=max_examples, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow])
    @given(layer_cases(spec, dims=dims, dtype=dtype, kinks=False))
    def property_holds(case: LayerCase):
        result = check_hvp(f, hvp, *case.build(), **options)
        assert result.passed, f"{case!r}\n{result.table()}"

    property_holds()
