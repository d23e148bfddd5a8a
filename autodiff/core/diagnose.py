"""Name the mistake behind a wrong array: compare what was computed with what was expected.

The engine knows arrays, not networks: ``expected`` is the right answer, ``got`` what was
returned, ``tolerance`` how far two correct computations may differ (a scalar or an array;
its largest element is used). It recognises ``got`` as ``expected`` under known slips — a
sign, a factor 2 or ½, a missing or doubled ``1/N`` (given ``batch``), a transpose, a flat or
reshaped array, zeros — and as any ``Candidate`` the caller supplies (the right formula with
one mistake in it, computed by whoever knows the formula). The scalar slips compose with
each other and with every candidate, so two mistakes in one result are named both.

A match is exact up to rounding: ``|got - value| <= tolerance·max(1, |factor|)·scale``
everywhere, so a diagnosis is a proof on these inputs, not a guess; a caller that can draw
other inputs should confirm it there (two formulas may coincide on one small case).

Public API, kept small and stable: ``Diagnosis``, ``Candidate``, ``scalar_slips``,
``match``, ``visible_keys`` (for confirming on other inputs), ``unrecognised`` and
``diagnose``. Keys are stable identifiers
(``sign``, ``factor_2``, ``half``, ``missing_1/N``, ``double_1/N``, ``constant_factor``,
``transposed``, ``flattened``, ``reshaped``, ``zeros``, ``unrecognised``, plus the
candidates' own); texts are one short phrase for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

_SAMPLE = 1024  # elements a fit is first tried on (see ``_fits``)


class Diagnosis(NamedTuple):
    """One named mistake: ``key`` identifies it, ``text`` says it to a person."""

    key: str
    text: str


@dataclass(frozen=True)
class Candidate:
    """What the result would be under one mistake: ``value`` (any shape of the same size as
    the result, or only its own shape when ``exact_shape``), ``scale`` bounding its size
    relative to the right answer (it widens the tolerance)."""

    key: str
    text: str
    value: np.ndarray
    scale: float = 1.0
    exact_shape: bool = False


SIGN = Diagnosis("sign", "sign flipped (the residual a - y the wrong way round?)")
TWICE = Diagnosis("factor_2", "off by a factor 2: twice the right value")
HALF = Diagnosis("half", "off by a factor 2: half the right value "
                 "(the 2 of d(r²)/dr missing?)")
MISSING_1_OVER_N = Diagnosis("missing_1/N", "off by a factor N (the number of examples): "
                             "sums over the examples instead of averaging (1/N missing)")
DOUBLE_1_OVER_N = Diagnosis("double_1/N", "off by a factor 1/N: divides by the number of "
                            "examples twice")
ZEROS = Diagnosis("zeros", "returns zeros")


def scalar_slips(batch: int | None = None) -> list[tuple[float, tuple[Diagnosis, ...]]]:
    """``(factor, diagnoses)`` for every combination of a sign, a factor 2 or ½ and (with
    ``batch`` N > 1) a factor N or 1/N: the result is ``factor`` times the right one."""
    twos = [(1.0, ()), (2.0, (TWICE,)), (0.5, (HALF,))]
    batches: list[tuple[float, tuple[Diagnosis, ...]]] = [(1.0, ())]
    if batch is not None and batch > 1:
        batches += [
            (float(batch), (MISSING_1_OVER_N,)),
            (1.0 / batch, (DOUBLE_1_OVER_N,)),
        ]
    slips = []
    for sign, sign_slip in ((1.0, ()), (-1.0, (SIGN,))):
        for two, two_slip in twos:
            for n, n_slip in batches:
                factor = sign * two * n
                if factor != 1.0:
                    slips.append((factor, sign_slip + two_slip + n_slip))
    # Fewest slips first: a single mistake is the likelier reading.
    return sorted(slips, key=lambda slip: len(slip[1]))


def _shape_slips(expected: np.ndarray, got: np.ndarray) -> list[Candidate]:
    """The right values in the shape ``got`` has, when that is not ``expected``'s."""
    found = []
    square = expected.ndim == 2 and expected.shape[0] == expected.shape[1]
    if expected.ndim == 2 and got.shape == expected.T.shape and (
            not square or expected.shape[0] > 1):
        text = ("transposed: the right shape, but the transpose's values" if square else
                f"transposed: shape {got.shape} where {expected.shape} belongs")
        found.append(Candidate("transposed", text, expected.T, exact_shape=True))
    elif got.shape != expected.shape and got.size == expected.size:
        flat = got.ndim < expected.ndim
        hint = " (keepdims=True?)" if flat and 1 in expected.shape else ""
        found.append(Candidate("flattened" if flat else "reshaped",
                               f"the right values in the wrong shape: {got.shape} where "
                               f"{expected.shape} belongs{hint}", expected.reshape(got.shape),
                               exact_shape=True))
    return found


def _fits(got: np.ndarray, value: np.ndarray, limit: float) -> bool:
    # A wrong fit differs almost everywhere: a strided sample of a large block rejects it at a
    # fraction of the cost (hundreds of fits are tried), and a fit is still proved everywhere.
    if got.size > 4 * _SAMPLE and np.shape(value) == got.shape:
        step = got.size // _SAMPLE
        if not np.all(np.abs(got.ravel()[::step] - np.ravel(value)[::step]) <= limit):
            return False
    return bool(np.all(np.abs(got - value) <= limit))


def match(expected, got, tolerance, *, batch: int | None = None,
          candidates=()) -> list[Diagnosis]:
    """Every slip (or combination) that turns ``expected`` into ``got``, fewest slips first,
    each key once; ``[]`` when none does (or when ``got`` is right).

    ``candidates`` are ``Candidate`` values the caller computed; a candidate indistinguishable
    from ``expected`` on these inputs is skipped, since it cannot explain a wrong result. An
    unnamed constant factor is the explanation only when nothing else explains ``got``.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    limit = float(np.max(tolerance))
    if got.shape == expected.shape and _fits(got, expected, limit):
        return []
    explanations = (_explanations(expected, got, limit, batch, candidates)
                    or _constant_factor(expected, got, limit))
    found: dict[str, Diagnosis] = {}
    for explanation in sorted(explanations, key=len):
        for diagnosis in explanation:
            found.setdefault(diagnosis.key, diagnosis)
    return list(found.values())


def _explanations(expected: np.ndarray, got: np.ndarray, limit: float, batch: int | None,
                  candidates) -> list[tuple[Diagnosis, ...]]:
    """Each way the named slips and ``candidates`` give ``got``, as a tuple of diagnoses."""
    explanations: list[tuple[Diagnosis, ...]] = []
    if got.size and _fits(got, 0.0, limit):  # an empty array is no array of zeros
        explanations.append((ZEROS,))
    slips = scalar_slips(batch)
    bases = [Candidate("", "", expected, exact_shape=True), *_shape_slips(expected, got),
             *candidates]
    for base in bases:
        value = np.asarray(base.value, dtype=np.float64)
        if value.size == 1 and got.size > 1:
            value = np.broadcast_to(value.reshape(()), got.shape)
        if value.size != got.size or (base.exact_shape and value.shape != got.shape):
            continue
        value = value.reshape(got.shape)
        own = (Diagnosis(base.key, base.text),) if base.key else ()
        if own and value.shape == expected.shape and _fits(value, expected, limit):
            continue  # the same as the right answer here: it explains no mistake
        if own and _fits(got, value, limit * base.scale):
            explanations.append(own)
        for factor, diagnoses in slips:
            if _fits(got, factor * value, limit * max(1.0, abs(factor)) * base.scale):
                explanations.append(own + diagnoses)
    return explanations


def visible_keys(expected, got, tolerance, *, batch: int | None = None,
                 candidates=()) -> set[str]:
    """The keys ``match`` could name on these inputs: the slips that change ``expected``
    here (with one example, 1/N is no slip; a transpose of a 1×1 array changes nothing; a
    constant factor needs two elements, and a result that is no named multiple).

    A caller confirming a diagnosis on several inputs should count an input as evidence
    against a key only where the key is visible.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    limit = float(np.max(tolerance))
    keys = {d.key for _, diagnoses in scalar_slips(batch) for d in diagnoses}
    # A constant factor shows where nothing else explains the result (3 is N at N = 3).
    if (got.shape == expected.shape and _telling(expected, limit)
            and not _explanations(expected, got, limit, batch, candidates)):
        keys.add("constant_factor")
    if not _fits(expected, 0.0, limit):
        keys.add(ZEROS.key)
    for candidate in [*_shape_slips(expected, got), *candidates]:
        value = np.asarray(candidate.value, dtype=np.float64)
        if value.shape != expected.shape or not _fits(value, expected, limit):
            keys.add(candidate.key)
    return keys


def _telling(expected: np.ndarray, limit: float) -> bool:
    """Whether "a constant factor" says anything: any result is a multiple of an array with
    fewer than two elements clear of rounding."""
    return int(np.count_nonzero(np.abs(expected) > limit)) >= 2


def _constant_factor(expected: np.ndarray, got: np.ndarray,
                     limit: float) -> list[tuple[Diagnosis, ...]]:
    """``got = c·expected`` for one ``c`` (least squares, then checked element by element),
    when ``expected`` has two elements or more clear of rounding."""
    if got.shape != expected.shape or not _telling(expected, limit):
        return []
    factor = float(np.sum(got * expected)) / float(np.sum(expected * expected))
    if not np.isfinite(factor) or factor == 0.0 or not _fits(
            got, factor * expected, limit * max(1.0, abs(factor))):
        return []
    return [(Diagnosis("constant_factor", f"{factor:.4g} times the right value (a constant "
                       "factor: check the scalars of the formula)"),)]


def unrecognised(expected, got) -> Diagnosis:
    """No known slip explains ``got``: say so, with its ratio to and difference from
    ``expected``, so that a person has something to look at."""
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if got.size != expected.size:
        return Diagnosis("unrecognised", f"no recognised pattern: shape {got.shape} where "
                         f"{expected.shape} belongs")
    got = got.reshape(expected.shape)
    difference = got - expected
    finite = np.isfinite(difference)
    if not finite.any():
        return Diagnosis("unrecognised", "no recognised pattern: no finite element")
    worst = np.unravel_index(int(np.argmax(np.where(finite, np.abs(difference), -1.0))),
                             expected.shape)
    where = ",".join(str(int(i)) for i in worst)
    text = (f"no recognised pattern: got - expected is {difference[worst]:.3g} at [{where}] "
            f"(got {got[worst]:.6g}, expected {expected[worst]:.6g})")
    # Ratios only where expected is clearly non-zero, or they mean nothing.
    scale = float(np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0))
    sizable = finite & (np.abs(expected) > 1e-6 * scale)
    if scale > 0 and sizable.any():
        ratio = got[sizable] / expected[sizable]
        text += (f"; got/expected from {ratio.min():.3g} to {ratio.max():.3g} "
                 f"(median {np.median(ratio):.3g})")
    # Where the ratios cannot look, say what they miss: a gradient routed where none belongs
    # (max-pool's whole window, a mask inverted) agrees wherever expected is non-zero.
    zero = finite & ~sizable
    size = max(scale, float(np.max(np.abs(got[finite]))))
    stray = zero & (np.abs(got) > 1e-6 * size)
    if stray.any():
        text += (f"; non-zero at {int(stray.sum())} of {int(zero.sum())} elements where "
                 "expected is 0")
    return Diagnosis("unrecognised", text)


def diagnose(expected, got, tolerance, *, batch: int | None = None,
             candidates=()) -> list[Diagnosis]:
    """``match``, or ``[unrecognised(...)]`` when nothing matches; ``[]`` when ``got`` is right."""
    expected_array = np.asarray(expected, dtype=np.float64)
    got_array = np.asarray(got, dtype=np.float64)
    if got_array.shape == expected_array.shape and _fits(got_array, expected_array,
                                                         float(np.max(tolerance))):
        return []
    return (match(expected_array, got_array, tolerance, batch=batch, candidates=candidates)
            or [unrecognised(expected_array, got_array)])
