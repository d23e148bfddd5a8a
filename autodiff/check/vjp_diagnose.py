"""Name the pattern behind a wrong gradient of ``check_vjp``, when there is one.

Array-level patterns — a flipped sign, a constant factor (2, ½, a dimension N or 1/N), a
transpose, a zero gradient — need only the gradient got and the one expected. The rest are
VJP-specific: the gradient of another argument (swapped arguments or outputs), ``dout`` summed
over the wrong axis (a bias), and a mistake confined to a few elements or to one slice along an
axis (a loop's boundary, padding or stride). Each diagnosis is ``(key, text)``.

The array-level patterns are meant to move into a shared engine (``autodiff/core/diagnose.py``)
once it exists; ``array_patterns`` is the seam: same inputs, same ``(key, text)`` output.
"""

from __future__ import annotations

import itertools

import numpy as np

Diagnosis = tuple[str, str]


def _close(got, candidate, tolerance) -> bool:
    """``got`` equals ``candidate`` to within rounding (4 tolerances, or 1e-9 of its scale)."""
    if np.shape(got) != np.shape(candidate):
        return False
    scale = float(np.max(np.abs(candidate), initial=0.0))
    return bool(np.all(np.abs(got - candidate) <= 4 * tolerance + 1e-9 * scale))


def _factor_text(factor: float, dims: dict[str, int]) -> str | None:
    """Words for a recognised constant factor, or ``None``."""
    magnitude = abs(factor)
    named = {2.0: "twice the gradient (a factor 2)",
             0.5: "half the gradient (a 2 from d(x²)/dx missing?)"}
    for size, where in sorted(((s, w) for w, s in dims.items() if s > 2), reverse=True):
        named.setdefault(float(size), f"{size} times the gradient ({size} = {where}: a sum "
                                      f"where a mean belongs, or a 1/{size} missing)")
        named.setdefault(1.0 / size, f"1/{size} of the gradient ({size} = {where}: divided by "
                                     "it once too often)")
    for value, text in named.items():
        if abs(magnitude - value) <= 1e-6 * value:
            return text if factor > 0 else f"sign flipped and {text}"
    return None


def array_patterns(got: np.ndarray, expected: np.ndarray, tolerance: np.ndarray,
                   dims: dict[str, int]) -> list[Diagnosis]:
    """Sign, constant factor, transpose and zero, comparing whole arrays (``tolerance`` is
    per element of ``expected``; ``dims`` names the sizes a factor may be, e.g.
    ``{"axis 0 of x": 8}``)."""
    if got.shape != expected.shape:
        if expected.ndim == 2 and _close(got, expected.T, tolerance.T):
            return [("transposed", f"transposed: shape {got.shape} where {expected.shape} "
                                   "belongs, and the values are the gradient's transpose")]
        return []
    if np.all(np.abs(expected) <= tolerance):
        return []
    if np.all(np.abs(got) <= tolerance):
        return [("zero", "the gradient is zero everywhere (not computed, or lost: a term "
                         "missing, a result not written back)")]
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] and _close(
            got, expected.T, tolerance):
        return [("transposed", "transposed: the values are the gradient's transpose")]
    factor = float(np.vdot(got, expected) / np.vdot(expected, expected))
    if abs(factor - 1) > 1e-6 and _close(got, factor * expected, tolerance * max(1.0, abs(factor))):
        if abs(factor + 1) <= 1e-6:
            return [("sign", "sign flipped: the gradient times -1")]
        text = _factor_text(factor, dims)
        return [("factor", text or f"off by a constant factor {factor:.6g}")]
    return []


def _dout_sums(douts: list):
    """``(axes, dout_k summed over axes)`` for every output and every proper subset of axes."""
    for index, dout in enumerate(douts):
        if dout is None or np.ndim(dout) < 2:
            continue
        for size in range(1, dout.ndim):
            for axes in itertools.combinations(range(dout.ndim), size):
                yield index, axes, dout.sum(axis=axes)


def wrong_axis(got: np.ndarray, expected: np.ndarray, tolerance: np.ndarray,
               douts: list) -> list[Diagnosis]:
    """``got`` is ``dout`` summed over other axes than ``expected`` is (a bias gradient)."""
    right = [(i, axes) for i, axes, total in _dout_sums(douts)
             if total.size == expected.size and _close(
                 expected, total.reshape(expected.shape), tolerance)]
    if not right:
        return []
    finite = tolerance[np.isfinite(tolerance)]
    scalar = float(np.max(finite, initial=0.0))
    for i, axes, total in _dout_sums(douts):
        if (i, axes) not in right and total.size == got.size and _close(
                got.ravel(), total.ravel(), scalar):
            name = "dout" if len(douts) == 1 else f"dout[{i}]"
            return [("wrong_axis", f"sums {name} over axis {_axes(axes)}; the gradient sums "
                                   f"it over axis {_axes(right[0][1])}")]
    return []


def _axes(axes) -> str:
    return ", ".join(map(str, axes))


def swapped(got: np.ndarray, tolerance: np.ndarray, others: dict) -> list[Diagnosis]:
    """``got`` is the gradient of another argument (``others``: name → expected gradient)."""
    for name, other in others.items():
        if other is not None and _close(got, other, tolerance):
            return [("swapped", f"this is the gradient of {name}: arguments (or the returned "
                                "gradients) swapped")]
    return []


def few_elements(failing: np.ndarray) -> list[Diagnosis]:
    """A mistake confined to a few elements, or to one index along an axis."""
    count, total = int(np.count_nonzero(failing)), failing.size
    if count == 0 or count * 2 > total:
        return []
    where = np.argwhere(failing)
    for axis in range(failing.ndim):
        values = np.unique(where[:, axis])
        if failing.shape[axis] > 1 and values.size == 1:
            edge = {0: " (the first)", failing.shape[axis] - 1: " (the last)"}.get(
                int(values[0]), "")
            return [("slice", f"wrong only at index {int(values[0])}{edge} of axis {axis} "
                              f"({count} of {total} elements): a loop bound, padding or "
                              "boundary mistake?")]
    first = ", ".join(str(tuple(int(i) for i in row)) for row in where[:3])
    return [("few", f"wrong in {count} of {total} elements (first: {first}); the others "
                    "agree: an index, stride or boundary mistake?")]
