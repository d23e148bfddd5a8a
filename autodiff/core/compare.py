"""The one comparison every checker ends in: a computed array against what is valid, element by
element, each within its own bound.

Element ``j`` of ``got`` passes when ``|got_j − expected_j| ≤ margin_j``. Where the function
has a kink at the input (a ReLU at 0, a max-pool tie) any derivative between the one-sided ones
is valid: there ``got_j`` must lie in ``[low_j, high_j]``, the interval widened by the margin and
the interval's own error. A non-finite ``got_j`` fails whatever it is compared with (NaN would
otherwise compare as agreeing); an element no opinion covered (``checked`` false) is not judged.
The bounds come from the caller, who alone knows how they are derived — the network's analytic
bound, the jaxpr running-error bound of a traceable layer, the finite-difference scan of
arbitrary code, the grader's worksheet tolerance — and so do the opinions; this module only
judges, and reports the element furthest outside its bound.

Ties: elements on kinks that move one output together (a window's tied maxima) must also sum to
a value in the range found by moving them together, or a tie counted twice would pass element by
element (``tie_gap``). The same judgement serves a random projection: ``<g, V>`` against a
directional derivative within its own slack is a one-element comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Comparison:
    """Per element (arrays of ``got``'s shape): ``distance`` from what is valid, ``margin``
    allowed, their ``ratio`` (above 1 fails); ``worst`` is the index of the largest ratio
    (``None`` for an empty array)."""

    distance: np.ndarray
    margin: np.ndarray
    ratio: np.ndarray
    worst: tuple[int, ...] | None

    @property
    def failing(self) -> np.ndarray:
        return ~(self.ratio <= 1)  # a NaN ratio fails

    @property
    def passed(self) -> bool:
        return not bool(np.any(self.failing))

    @property
    def worst_ratio(self) -> float:
        return float(self.ratio[self.worst]) if self.worst is not None else 0.0


def interval(right, left) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)``, element by element, from one-sided derivatives ``right`` and ``left``:
    every value between them is a valid derivative at a kink."""
    right, left = np.asarray(right, np.float64), np.asarray(left, np.float64)
    return np.minimum(right, left), np.maximum(right, left)


def chain_interval(right, left) -> tuple[float, float]:
    """The chain rule's interval from one-sided terms ``dout_k · ∂out_k`` of every output:
    each output's own range, summed (any routing the chain rule allows lies in it)."""
    low, high = interval(right, left)
    return float(np.sum(low)), float(np.sum(high))


def compare(got, expected, margin, *, kink=None, low=None, high=None, interval_error=0.0,
            checked=None) -> Comparison:
    """Judge ``got`` against ``expected`` within ``margin`` (broadcast to ``got``'s shape), and
    on the elements ``kink`` marks against ``[low, high]`` within ``margin + interval_error``
    (see the module docstring). ``checked`` marks the elements an opinion covered."""
    got = np.asarray(got, np.float64)
    expected = np.broadcast_to(np.asarray(expected, np.float64), got.shape)
    margin = np.broadcast_to(np.asarray(margin, np.float64), got.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        distance = np.abs(got - expected)
        if kink is not None:
            outside = np.maximum(np.maximum(low - got, got - high), 0.0)
            distance = np.where(kink, outside, distance)
            margin = np.where(kink, margin + interval_error, margin)
        if checked is not None:
            distance = np.where(checked, distance, 0.0)
        distance = np.where(np.isfinite(got), distance, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(distance == 0, 0.0, distance / margin)
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    worst = (tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
             if ratio.size else None)
    return Comparison(distance, np.asarray(margin), ratio, worst)


def tie_gap(got, mask, low: float, high: float, margin, error: float) -> tuple[float, float,
                                                                               float]:
    """``(gap, allowed, total)`` for tied elements ``mask``: how far their sum ``total`` lies
    outside ``[low, high]``, and how far it may (their margins summed, plus ``error``)."""
    total = float(np.sum(np.asarray(got)[mask]))
    allowed = float(np.sum(np.asarray(margin)[mask])) + error
    return max(low - total, total - high, 0.0), allowed, total
