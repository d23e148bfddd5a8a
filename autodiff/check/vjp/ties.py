"""Ties: inputs on kinks that move the same output, and the range their gradients' sum has.

The kink scan (``kinks``) records, for each element on a kink, the output elements whose
one-sided slopes jump there. The elements jumping on one output form a tie: a max-pool window's
tied maxima. Each element lying in its own interval is not enough: a backward that gives every
tied element the whole gradient (a tie counted twice) passes element by element. Moving a tie's
elements together by one step ``t`` gives the same kind of interval for their sum — each
output's one-sided slopes along that direction, weighted by ``dout`` and summed (the chain
rule's range, as for one element) — and any valid routing's sum lies in it: a tie moved as a
whole stays a tie, so the window's gradient counts once. Where windows overlap, the other
windows a tied input belongs to widen the range by their own share, as they must.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autodiff.check.vjp.kinks import Scan
from autodiff.check.vjp.probe import Probe
from autodiff.core.compare import chain_interval


@dataclass
class Tie:
    """Tied elements (``mask``, the argument's shape) whose gradients must sum to a value in
    ``[low, high]`` within ``error`` (beyond each element's own tolerance)."""

    mask: np.ndarray
    low: float
    high: float
    error: float


def tie_sets(scan: Scan) -> set[tuple[int, ...]]:
    """Flat indices of kink elements, two or more each: those jumping on one output, and the
    unions of such sets that share an element (overlapping windows' ties, moved together)."""
    by_output: dict[int, list[int]] = {}
    for j, outputs in scan.jumps.items():
        for k in outputs.tolist():
            by_output.setdefault(k, []).append(j)
    sets = {tuple(sorted(members)) for members in by_output.values() if len(members) >= 2}
    joined: list[set[int]] = []
    for members in sets:
        merged = set(members)
        for other in [group for group in joined if group & merged]:
            merged |= other
            joined.remove(other)
        joined.append(merged)
    return sets | {tuple(sorted(group)) for group in joined}


def _terms(probe: Probe, position: int, x: np.ndarray, mask: np.ndarray, t: float):
    """``(terms, noise)`` for moving the ``mask`` elements by ``t`` (see ``kinks._step``)."""
    differences = probe.differences(position, x + t * mask)
    terms = [np.ravel(np.real(d * diff)) / t
             for d, diff in zip(probe.douts, differences, strict=True) if d is not None]
    return np.concatenate(terms), probe.noise(differences) / abs(t)


def tie_check(probe: Probe, position: int, scan: Scan) -> list[Tie]:
    """Every tie of the argument with the range of its sum, over ``±h/16`` (``h`` the scan's
    largest step among its elements), with its change from ``±h/4`` as the error: three times
    what curvature adds at ``h/16``; a near-tie with an input outside the tie, which the
    larger steps cross, shows in it too."""
    x = probe.value(position)
    ties = []
    for members in sorted(tie_sets(scan)):
        mask = np.zeros(x.size, bool)
        mask[list(members)] = True
        mask = mask.reshape(x.shape)
        h = float(np.max(scan.step[mask]))
        (right_4, _), (left_4, _), (right, noise), (left, _) = (
            _terms(probe, position, x, mask, t) for t in (h / 4, -h / 4, h / 16, -h / 16))
        (low_4, high_4), (low, high) = chain_interval(right_4, left_4), chain_interval(
            right, left)
        ties.append(Tie(mask, low, high, max(abs(low_4 - low), abs(high_4 - high)) + noise))
    return ties
