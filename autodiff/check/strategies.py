"""Hypothesis strategies for networks, so anyone can property-test their own gradients.

Every strategy draws ``autodiff.check.cases.NetworkCase`` values (or their parts): a case is a few
numbers that rebuild params, inputs and targets, so a failure shrinks to a small network and
its repr is a runnable reproduction. Typical use::

    from hypothesis import given, settings
    from autodiff.check.strategies import network_cases

    @settings(deadline=None, max_examples=20)
    @given(network_cases(sizes=(1, 6, 7, 2)))  # or depth=3, min_depth=2, activation="tanh"
    def test_my_gradient(case):
        assert case.check(manual=my_gradient).passed   # my_gradient(params, x, y)

Drawing a case is cheap, but checking it compiles ``jax.grad`` for each new network shape,
which takes longer than hypothesis' default 200 ms deadline per example: a strategy cannot
lift a deadline (only the test's settings can), hence ``deadline=None`` above.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from autodiff.check.cases import MAX_BATCH, MAX_DEPTH, MAX_IO, MAX_SCALE, MAX_WIDTH, MIN_SCALE
from autodiff.check.cases import NetworkCase as NetworkCase  # re-exported for users
from reference.activations import ACTIVATIONS

ACTIVATION_NAMES = tuple(ACTIVATIONS)
DTYPE_NAMES = ("float64", "float32")


def _at_least(value, minimum: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


def layer_sizes(max_depth: int = MAX_DEPTH, max_width: int = MAX_WIDTH,
                max_io: int = MAX_IO, min_depth: int = 1) -> st.SearchStrategy[tuple[int, ...]]:
    """``(n_in, n_1, …, n_out)``: depth (number of layers) min_depth..max_depth, hidden widths
    1..max_width, input and output widths 1..max_io. Shrinks toward the fewest layers of one
    unit."""
    _at_least(min_depth, 1, "min_depth")
    _at_least(max_depth, min_depth, "max_depth")
    io = st.integers(1, _at_least(max_io, 1, "max_io"))
    hidden = st.lists(st.integers(1, _at_least(max_width, 1, "max_width")),
                      min_size=min_depth - 1, max_size=max_depth - 1)
    return st.builds(lambda n_in, h, n_out: (n_in, *h, n_out), io, hidden, io)


def _fixed_sizes(sizes, depth: int | None) -> tuple[int, ...]:
    if (not isinstance(sizes, (list, tuple)) or len(sizes) < 2
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)):
        raise ValueError(f"sizes: expected at least two positive widths (n_in, …, n_out) like "
                         f"(1, 6, 7, 2), got {sizes!r}")
    if depth is not None and depth != len(sizes) - 1:
        raise ValueError(f"depth: sizes={tuple(sizes)!r} has {len(sizes) - 1} layers, "
                         f"got depth={depth!r}")
    return tuple(sizes)


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
    sizes: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    depth: int | None = None,
    min_depth: int = 1,
) -> st.SearchStrategy[NetworkCase]:
    """Whole cases: sizes, a batch of 1..max_batch, a seed, a weight scale, an activation and
    a dtype. Pass a name to fix the activation or dtype, or a strategy to draw it.

    ``sizes=(1, 6, 7, 2)`` fixes the architecture (for a gradient written for one network);
    ``depth=3`` fixes only the number of layers, ``min_depth`` bounds it below; otherwise the
    depth runs from ``min_depth`` to ``max_depth``. ValueError names a bad argument.
    """

    def fixed_or_drawn(value, default):
        if value is None:
            return default
        return value if isinstance(value, st.SearchStrategy) else st.just(value)

    for name, value, known in (("activation", activation, ACTIVATION_NAMES),
                               ("dtype", dtype, DTYPE_NAMES)):
        if not (value is None or isinstance(value, st.SearchStrategy) or value in known):
            raise ValueError(f"{name}: expected one of {', '.join(known)} or a strategy, "
                             f"got {value!r}")
    if depth is not None:
        _at_least(depth, 1, "depth")
        if sizes is None and depth < min_depth:
            raise ValueError(f"depth: expected at least min_depth={min_depth}, got {depth!r}")
    if sizes is not None and not isinstance(sizes, st.SearchStrategy):
        sizes = _fixed_sizes(sizes, depth)
    elif sizes is None:
        sizes = layer_sizes(max_depth if depth is None else depth, max_width, max_io,
                            min_depth if depth is None else depth)
    return st.builds(
        NetworkCase,
        sizes=fixed_or_drawn(sizes, None),
        batch=st.integers(1, _at_least(max_batch, 1, "max_batch")),
        seed=st.integers(0, 2**32 - 1),
        scale=weight_scales() if scales is None else scales,
        activation=fixed_or_drawn(activation, activations()),
        dtype=fixed_or_drawn(dtype, dtypes()),
    )


def networks(**options) -> st.SearchStrategy[tuple]:
    """``(params, x, y)`` triples built from ``network_cases(**options)``."""
    return network_cases(**options).map(lambda case: case.build())


from autodiff.check.vjp.strategies import *  # noqa: E402, F403  (any layer, for check_vjp)
