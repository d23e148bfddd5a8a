"""Hypothesis strategies that draw arguments for a user's layer, and ``check_layer``, a
property check in one call for a user's own pytest suite.

A *spec* lists the forward's arguments in order, as a dict ``{name: what}`` (or a list):

* a shape, a tuple of ints and dimension names — ``("N", "D")`` — is a float array; every
  name is drawn once per example, ``"N"`` (the batch) from ``1..max_batch``, any other name
  from ``1..max_width`` (``dims={"C": 3}`` or a strategy fixes or redraws one);
* ``Floats(shape, scale=…, kinks=…, positive=…)`` is the same with options of its own;
* ``Integers(shape, high)`` draws integer labels in ``[low, high)``, ``high`` a number or a
  dimension name (``Integers(("N",), "C")``: one class label per example);
* anything else (a dict of hyper-parameters, a number) is passed as it is.

Each example is a ``LayerCase``: the spec and a few numbers (dimensions, seed, dtype, scale,
kinks on or off) that rebuild the arguments, so a failure shrinks to small shapes and its repr
is a runnable reproduction. With kinks on, about a quarter of each float array is set to
exactly 0 (ReLU's and ``abs``'s kink) and a quarter copied from its neighbour along the last
axis (a max-pool tie); with kinks off, every element is at least 5% of the scale away from 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

from autodiff.check.vjp.check import check_vjp, from_cache_style

__all__ = ["Floats", "Integers", "LayerCase", "check_layer", "layer_arguments", "layer_cases"]

BATCH_NAMES = ("N", "batch")


@dataclass(frozen=True)
class Floats:
    """A float array of ``shape``; ``scale``/``kinks`` override the case's, ``positive``
    draws magnitudes only (a variance, a standard deviation)."""

    shape: tuple
    scale: float | None = None
    kinks: bool | None = None
    positive: bool = False


@dataclass(frozen=True)
class Integers:
    """Integers in ``[low, high)`` of ``shape``; ``high`` may name a dimension."""

    shape: tuple
    high: int | str = 2
    low: int = 0


def _entries(spec) -> list:
    return list(spec.values()) if isinstance(spec, dict) else list(spec)


def _as_floats(entry):
    if isinstance(entry, Floats):
        return entry
    if isinstance(entry, tuple) and all(isinstance(d, (int, str)) for d in entry):
        return Floats(entry)
    return None


def dimension_names(spec) -> list[str]:
    """Every dimension name the spec uses, in order of appearance."""
    names: list[str] = []
    for entry in _entries(spec):
        floats = _as_floats(entry)
        shape = floats.shape if floats else entry.shape if isinstance(entry, Integers) else ()
        extra = [entry.high] if isinstance(entry, Integers) else []
        names += [d for d in (*shape, *extra) if isinstance(d, str) and d not in names]
    return names


@dataclass(frozen=True)
class LayerCase:
    """The numbers that rebuild one example's arguments for ``spec``."""

    spec: object
    dims: tuple
    seed: int
    dtype: str = "float64"
    scale: float = 1.0
    kinks: bool = False

    def _size(self, dim) -> int:
        return dim if isinstance(dim, int) else dict(self.dims)[dim]

    def _floats(self, floats: Floats, rng) -> np.ndarray:
        shape = tuple(self._size(d) for d in floats.shape)
        scale = self.scale if floats.scale is None else floats.scale
        values = rng.standard_normal(shape)
        if floats.positive:
            values = np.abs(values) + 0.1
        kinks = self.kinks if floats.kinks is None else floats.kinks
        if kinks and values.size:
            flat = values.reshape(-1)
            if not floats.positive:
                flat[rng.random(flat.size) < 0.25] = 0.0
            if values.shape and values.shape[-1] > 1:
                rows = values.reshape(-1, values.shape[-1])
                tie = rng.random(rows[:, 1:].shape) < 0.25
                rows[:, 1:][tie] = rows[:, :-1][tie]
        elif not floats.positive:
            values = np.where(np.abs(values) < 0.05, np.copysign(0.05, values), values)
        return (scale * values).astype(self.dtype)

    def build(self) -> tuple:
        """The arguments, in the spec's order."""
        rng = np.random.default_rng(self.seed)
        args = []
        for entry in _entries(self.spec):
            floats = _as_floats(entry)
            if floats is not None:
                args.append(self._floats(floats, rng))
            elif isinstance(entry, Integers):
                shape = tuple(self._size(d) for d in entry.shape)
                args.append(rng.integers(entry.low, self._size(entry.high), size=shape))
            else:
                args.append(entry)
        return tuple(args)

    def check(self, forward, backward, **options):
        """``check_vjp`` of the pair on this case's arguments (in its dtype, dout seeded)."""
        return check_vjp(forward, backward, *self.build(), dtype=self.dtype, seed=self.seed,
                         **options)


def _fixed_or_drawn(value, default):
    if value is None:
        return default
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def scales(low: float = 0.1, high: float = 3.0) -> st.SearchStrategy[float]:
    """Log-uniform scales, shrinking toward 1, rounded to 3 digits for readable cases."""
    return st.floats(math.log10(low), math.log10(high)).map(
        lambda e: float(f"{10.0 ** e:.3g}"))


def layer_cases(spec, dims=None, max_batch: int = 4, max_width: int = 4, dtype=None,
                scale=None, kinks=None) -> st.SearchStrategy[LayerCase]:
    """Cases for ``spec``: dimensions (``dims`` fixes or redraws some by name), a seed, a
    dtype (float64 or float32), a scale (0.1–3) and kinks on or off — each a value to fix it
    or a strategy to draw it."""
    dims = dims or {}
    drawn = {name: _fixed_or_drawn(dims.get(name), st.integers(
        1, max_batch if name in BATCH_NAMES else max_width)) for name in dimension_names(spec)}
    return st.builds(
        LayerCase, spec=st.just(spec),
        dims=st.fixed_dictionaries(drawn).map(lambda d: tuple(d.items())),
        seed=st.integers(0, 2**32 - 1),
        dtype=_fixed_or_drawn(dtype, st.sampled_from(("float64", "float32"))),
        scale=_fixed_or_drawn(scale, scales()),
        kinks=_fixed_or_drawn(kinks, st.booleans()))


def layer_arguments(spec, **options) -> st.SearchStrategy[tuple]:
    """The argument tuples themselves, from ``layer_cases(spec, **options)``."""
    return layer_cases(spec, **options).map(LayerCase.build)


class _LayerFailure(Exception):
    """A drawn case the backward fails on (carried out of hypothesis to be made smaller)."""

    def __init__(self, case: LayerCase, result=None, error: Exception | None = None):
        super().__init__(repr(case))
        self.case, self.result, self.error = case, result, error


def kind(result) -> tuple:
    """What a failure looks like: the failing arguments and their diagnoses' keys, sizes left
    out (``factor_3`` and ``factor_2`` are one kind) — a smaller case must keep it, or it may
    show another mistake than the one found (a coincidence of small sizes)."""
    return tuple((a.name, tuple(sorted({re.sub(r"_\d+$", "", d.key) for d in a.diagnosis})))
                 for a in result.arguments if not a.passed)


def smaller(case: LayerCase, fails, fixed=()) -> LayerCase:
    """A smaller case on which ``fails(case)`` still holds: each dimension not in ``fixed``
    tried at 1 then at half its size, then scale 1, kinks off and float64 — one check per
    attempt, greedily (hypothesis's own shrinking would run hundreds of whole checks)."""
    attempts = []
    for name, size in case.dims:
        if name not in fixed:
            attempts += [(name, 1), (name, max(1, size // 2))]
    for name, value in attempts:
        dims = dict(case.dims)
        if dims[name] > value:
            trial = replace(case, dims=tuple({**dims, name: value}.items()))
            case = trial if fails(trial) else case
    for change in ({"scale": 1.0}, {"kinks": False}, {"dtype": "float64"}):
        trial = replace(case, **change)
        if trial != case and fails(trial):
            case = trial
    return case


def _fixed(dims: dict | None) -> set[str]:
    """The dimensions ``dims`` gives a value (not a strategy): the user's, kept as they are."""
    return {name for name, value in (dims or {}).items()
            if not isinstance(value, st.SearchStrategy)}


def check_layer(forward, backward, spec, *, cache_style: bool = False, max_examples: int = 20,
                derandomize: bool = True, check_options: dict | None = None,
                **case_options) -> None:
    """Property-check a backward pass on ``max_examples`` drawn cases; raises AssertionError
    with a small failing case (a runnable ``LayerCase``) and its table.

    Works in any pytest suite as it is: the hypothesis settings are given here (no deadline,
    no example database, deterministic unless ``derandomize=False``), not taken from a
    profile. The first failure is made smaller by ``smaller``, not by hypothesis's shrinking:
    dimensions fixed by ``dims=`` stay, a smaller case on which the layer itself raises is
    not taken, nor one whose failure is of another kind (``kind``). A drawn case on which
    the layer raises is reported with its error. ``cache_style=True`` takes a CS231n pair
    (``from_cache_style``); ``check_options`` go to ``check_vjp``, ``case_options`` to
    ``layer_cases``.
    """
    __tracebackhide__ = True  # pytest shows the user's call, not this helper's insides
    if cache_style:
        forward, backward = from_cache_style(forward, backward)
    check_options = check_options or {}
    falsify(lambda case: case.check(forward, backward, **check_options),
            layer_cases(spec, **case_options), fixed=_fixed(case_options.get("dims")),
            max_examples=max_examples, derandomize=derandomize)


def falsify(run, cases, *, kind_of=kind, fixed=(), max_examples: int = 20,
            derandomize: bool = True) -> None:
    """Call ``run(case) -> result`` on ``max_examples`` cases drawn from ``cases``; the first
    failing one raises AssertionError with a smaller case of the same failure (``smaller``,
    ``kind_of``) and its table, and a case on which ``run`` raises with that error."""
    __tracebackhide__ = True

    @settings(max_examples=max_examples, deadline=None, derandomize=derandomize,
              database=None, print_blob=False, suppress_health_check=list(HealthCheck),
              phases=(Phase.explicit, Phase.generate), verbosity=Verbosity.quiet)
    @given(cases)
    def property_holds(case):
        try:
            result = run(case)
        except Exception as error:  # the checked code (or its arguments) failed on this case
            raise _LayerFailure(case, error=error) from None
        if not result.passed:
            raise _LayerFailure(case, result)

    try:
        property_holds()
    except _LayerFailure as failure:
        if failure.error is not None:
            error = failure.error
            raise AssertionError(f"{failure.case!r}\nraised {type(error).__name__}: "
                                 f"{error}") from None
        wanted = kind_of(failure.result)

        def fails(trial: LayerCase) -> bool:
            try:
                return kind_of(run(trial)) == wanted
            except Exception:  # the code rejects this smaller case: not a smaller failure
                return False

        case = smaller(failure.case, fails, fixed)
        result = failure.result if case == failure.case else run(case)
        raise AssertionError(f"{case!r}\n{result.table()}") from None
