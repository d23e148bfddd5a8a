"""Name the pattern behind a wrong gradient of ``check_vjp``, when there is one.

The array-level slips — a sign, 2, ½, the batch size N or 1/N, a transpose, a reshape, zeros,
an unnamed constant factor — are ``autodiff.core.diagnose``'s. What is VJP-specific is added
here as that engine's candidates: the gradient of another argument (arguments or returned
gradients swapped), ``dout`` summed over other axes than the gradient sums it (a bias's wrong
axis), and a factor equal to another dimension than the batch; plus two patterns that are not
values: a mistake confined to one index along an axis (a loop bound, padding) or to a few
elements; a wrong term constant along an axis (a mean path dropped); a backward that ignores
``dout`` (written for ``dout = 1``). A gradient of the wrong size that no candidate explains
gets none: its note says the shape. Each diagnosis is a ``core.diagnose.Diagnosis`` ``(key, text)``.

The batch size N is axis 0 of the first differentiable argument (rows are examples, as in
CS231n's layers). Elements the comparison does not hold to a value — on kinks, or not computed
by a sampling oracle — are left out of the match.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from autodiff.core.diagnose import Candidate, Diagnosis, match, unrecognised


@dataclass
class Context:
    """What a diagnosis may refer to: ``batch`` (N), ``dims`` (a name for every other size a
    factor may be, e.g. ``{"axis 1 of x": 5}``), ``others`` (each other argument's expected
    gradient, by name) and ``douts`` (float64, ``None`` for non-float outputs)."""

    batch: int | None
    dims: dict
    others: dict
    douts: list


def _dout_sums(douts: list):
    """``(output, axes, dout summed over axes)`` for every output of 2+ axes and every proper
    subset of its axes."""
    for index, dout in enumerate(douts):
        if dout is None or np.ndim(dout) < 2:
            continue
        for size in range(1, dout.ndim):
            for axes in itertools.combinations(range(dout.ndim), size):
                yield index, axes, dout.sum(axis=axes)


def _close(a, b, tolerance: float) -> bool:
    return np.shape(a) == np.shape(b) and bool(np.all(np.abs(a - b) <= tolerance))


def candidates(expected: np.ndarray, tolerance: float, context: Context) -> list[Candidate]:
    """The VJP-specific candidates for one argument's gradient."""
    found = [Candidate("swapped", f"this is the gradient of {name}: arguments (or the returned "
                                  "gradients) swapped", other, exact_shape=True)
             for name, other in context.others.items()]
    right = [(i, axes) for i, axes, total in _dout_sums(context.douts)
             if total.size == expected.size and _close(total.reshape(expected.shape), expected,
                                                       tolerance)]
    if right:
        label = "dout" if len(context.douts) == 1 else f"dout[{right[0][0]}]"
        found += [Candidate("wrong_axis", f"sums {label} over axis {_axes(axes)}; the gradient "
                                          f"sums it over axis {_axes(right[0][1])}", total,
                            exact_shape=total.shape != expected.shape)
                  for i, axes, total in _dout_sums(context.douts) if (i, axes) not in right]
    found += _ignored_dout(expected, context.douts)
    for where, size in context.dims.items():
        if size > 2 and size != context.batch:
            found += [Candidate(f"factor_{size}", f"{size} times the gradient ({size} = {where}: "
                                                  f"a sum where a mean belongs?)",
                                size * expected, scale=size),
                      Candidate(f"over_{size}", f"1/{size} of the gradient ({size} = {where}: "
                                                f"divided by it once too often?)",
                                expected / size)]
    return found


def _ignored_dout(expected: np.ndarray, douts: list) -> list[Candidate]:
    """The gradient a backward written for ``dout = 1`` returns: ``expected / dout`` where the
    one float output is a scalar (a loss) or has the argument's shape (elementwise)."""
    carried = [d for d in douts if d is not None]
    if len(carried) != 1 or not (carried[0].size == 1 or carried[0].shape == expected.shape):
        return []
    dout = carried[0].reshape(()) if carried[0].size == 1 else carried[0]
    if np.any(dout == 0) or np.all(dout == 1):
        return []
    return [Candidate("ignores_dout", "ignores dout: the gradient for dout = 1 (written for a "
                                      "loss that ends the network?); multiply by dout",
                      expected / dout, exact_shape=True)]


def _constant_along(difference: np.ndarray, limit: float, batch: int | None) -> list[Diagnosis]:
    """A wrong term that is the same for every index along an axis: the gradient through a
    mean or sum over that axis dropped (batch norm's mean path) or added."""
    if difference.ndim < 2:
        return []
    for axis in range(difference.ndim):
        if difference.shape[axis] < 2:
            continue
        first = np.take(difference, [0], axis=axis)
        if np.all(np.abs(difference - first) <= limit) and np.any(np.abs(first) > limit):
            name = "the batch" if axis == 0 and batch == difference.shape[0] else "it"
            return [Diagnosis("mean_path", f"wrong by a term constant along axis {axis} (every "
                                           f"index of {name} off by the same amount): the "
                                           f"gradient through a mean over axis {axis} missing "
                                           "(batch norm's mean path)?")]
    return []


def _axes(axes) -> str:
    return ", ".join(map(str, axes))


def few_elements(failing: np.ndarray) -> list[Diagnosis]:
    """A mistake confined to one index along an axis, or to fewer than half the elements."""
    count, total = int(np.count_nonzero(failing)), failing.size
    if count == 0 or count * 2 > total:
        return []
    where = np.argwhere(failing)
    for axis in range(failing.ndim):
        values = np.unique(where[:, axis])
        if failing.shape[axis] > 1 and values.size == 1:
            edge = {0: " (the first)", failing.shape[axis] - 1: " (the last)"}.get(
                int(values[0]), "")
            return [Diagnosis("slice", f"wrong only at index {int(values[0])}{edge} of axis "
                                       f"{axis} ({count} of {total} elements): a loop bound, "
                                       "padding or boundary mistake?")]
    first = ", ".join(str(tuple(int(i) for i in row)) for row in where[:3])
    return [Diagnosis("few", f"wrong in {count} of {total} elements (first: {first}); the "
                             "others agree: an index, stride or boundary mistake?")]


def _fewest(found: list[Diagnosis], expected, got, limit: float,
            context: Context) -> list[Diagnosis]:
    """The fewest scalar slips among ``found`` that explain ``got`` on their own (a factor 2
    rather than "½ and N" when N = 4, ½ rather than "1/4 and 2" when a dimension is 4);
    ``found`` as it is when candidates other than factors are involved."""
    factors = {"sign": -1.0, "factor_2": 2.0, "half": 0.5}
    for size in context.dims.values():  # the factor candidates of ``candidates``
        factors.update({f"factor_{size}": float(size), f"over_{size}": 1.0 / size})
    if context.batch:
        factors.update({"missing_1/N": float(context.batch), "double_1/N": 1.0 / context.batch})
    if got.shape != expected.shape or any(d.key not in factors for d in found):
        return found
    for size in range(1, len(found) + 1):
        for combo in itertools.combinations(found, size):
            factor = float(np.prod([factors[d.key] for d in combo]))
            if np.all(np.abs(got - factor * expected) <= limit * max(1.0, abs(factor))):
                return list(combo)
    return found


def diagnose_argument(got: np.ndarray, expected: np.ndarray, tolerance: np.ndarray,
                      held: np.ndarray, failing: np.ndarray, context: Context) -> list[Diagnosis]:
    """Diagnoses of a failing gradient: ``held`` marks the elements held to ``expected`` (off
    kinks, computed by the oracle); ``failing`` the elements outside their tolerance."""
    limit = float(np.max(tolerance[held], initial=0.0)) if got.shape == expected.shape else (
        float(np.max(tolerance)))
    extra = candidates(expected, limit, context)
    if got.shape == expected.shape and not np.all(held):
        # Compare only the held elements: flatten them, and the candidates of that shape.
        extra = [Candidate(c.key, c.text, np.asarray(c.value)[held], c.scale)
                 for c in extra if np.shape(c.value) == expected.shape]
        got, expected = got[held], expected[held]
    whole = got.shape == expected.shape and got.ndim == len(held.shape) and np.all(held)
    found = match(expected, got, limit, batch=context.batch, candidates=extra)
    if found:
        return [_said_for_a_vjp(d, context.batch) for d in _fewest(found, expected, got, limit,
                                                                    context)]
    if got.size != expected.size:
        return []  # the note says the shape; no more can be read from it
    if whole:
        found = _constant_along(got - expected, limit, context.batch)
    if not found and failing is not None:
        found = few_elements(failing)
    return found or [unrecognised(expected, got)]


def _said_for_a_vjp(diagnosis: Diagnosis, batch: int | None) -> Diagnosis:
    """``double_1/N`` in this setting's words: a backward has no 1/N of its own to double."""
    if diagnosis.key != "double_1/N":
        return diagnosis
    return Diagnosis(diagnosis.key, f"1/N of the right value (N = {batch}, the number of "
                                    "examples): divides by N once where the gradient has no "
                                    "1/N (a mean where the sum belongs?)")
