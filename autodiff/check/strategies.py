"""Hypothesis strategies for networks, so anyone can property-test their own gradients.

Every strategy draws ``autodiff.check.cases.NetworkCase`` values (or their parts): a case is a few
numbers that rebuild params, inputs and targets, so a failure shrinks to a small network and
its repr is a runnable reproduction. Typical use::

    from hypothesis import given
    from autodiff.check.strategies import network_cases

    @given(network_cases())
    def test_my_gradient(case):
        assert case.check(manual=my_gradient).passed   # my_gradient(params, x, y)
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from autodiff.check.cases import MAX_BATCH, MAX_DEPTH, MAX_IO, MAX_SCALE, MAX_WIDTH, MIN_SCALE
from autodiff.check.cases import NetworkCase as NetworkCase  # re-exported for users
from reference.activations import ACTIVATIONS

ACTIVATION_NAMES = tuple(ACTIVATIONS)
DTYPE_NAMES = ("float64", "float32")


def layer_sizes(max_depth: int = MAX_DEPTH, max_width: int = MAX_WIDTH,
                max_io: int = MAX_IO) -> st.SearchStrategy[tuple[int, ...]]:
    """``(n_in, n_1, …, n_out)``: depth 1..max_depth, hidden widths 1..max_width, input and
    output widths 1..max_io. Shrinks toward one layer of one unit."""
    io = st.integers(1, max_io)
    hidden = st.lists(st.integers(1, max_width), min_size=0, max_size=max_depth - 1)
    return st.builds(lambda n_in, h, n_out: (n_in, *h, n_out), io, hidden, io)


def weight_scales(low: float = MIN_SCALE, high: float = MAX_SCALE) -> st.SearchStrategy[float]:
    """Log-uniform scales from tiny (near-linear units) to saturating (σ' ≈ 0), shrinking
    toward 1 (the exponent shrinks toward 0), rounded to 3 digits so reproductions read well."""
    exponent = st.floats(math.log10(low), math.log10(high))
    return exponent.map(lambda e: float(f"{10.0 ** e:.3g}"))


def activations() -> st.SearchStrategy[str]:
    return st.sampled_from(ACTIVATION_NAMES)


def dtypes() -> st.SearchStrategy[str]:
    return st.sampled_from(DTYPE_NAMES)


def network_cases(
    max_depth: int = MAX_DEPTH,
    max_width: int = MAX_WIDTH,
    max_io: int = MAX_IO,
    max_batch: int = MAX_BATCH,
    activation: str | st.SearchStrategy[str] | None = None,
    dtype: str | st.SearchStrategy[str] | None = None,
    scales: st.SearchStrategy[float] | None = None,
) -> st.SearchStrategy[NetworkCase]:
    """Whole cases: sizes, a batch of 1..max_batch, a seed, a weight scale, an activation and
    a dtype. Pass a name to fix the activation or dtype, or a strategy to draw it."""

    def fixed_or_drawn(value, default):
        if value is None:
            return default
        return value if isinstance(value, st.SearchStrategy) else st.just(value)

    return st.builds(
        NetworkCase,
        sizes=layer_sizes(max_depth, max_width, max_io),
        batch=st.integers(1, max_batch),
        seed=st.integers(0, 2**32 - 1),
        scale=scales or weight_scales(),
        activation=fixed_or_drawn(activation, activations()),
        dtype=fixed_or_drawn(dtype, dtypes()),
    )


def networks(**options) -> st.SearchStrategy[tuple]:
    """``(params, x, y)`` triples built from ``network_cases(**options)``."""
    return network_cases(**options).map(lambda case: case.build())


from autodiff.check.layer_strategies import *  # noqa: E402, F403  (any layer, for check_vjp)
