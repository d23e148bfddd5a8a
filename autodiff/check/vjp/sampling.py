"""Which elements of an argument the finite-difference scan of ``kinks`` looks at.

All of them up to ``max_elements``, a random sample of that many beyond; or, where an exact
oracle answers for every element, ``budget`` of them drawn from the check's seed plus every
element near a kink that can be foreseen — within a scan step of 0 (ReLU, ``abs``) or of
another element's value (a max-pool tie). The caller adds its own ``focus`` (``kinks``:
elements where the backward disagrees with that oracle, ``opinions.widened``), which is where
an unforeseen kink shows. ``coverage`` says in words what was scanned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from autodiff.check.vjp.kinks import Scan

# The scan's step, relative to an element's size: ``h = RESOLUTION · max(|x_j|, rms(x))``.
RESOLUTION = 1e-4
# Elements drawn per argument when an exact oracle answers for all of them: enough to catch an
# oracle that is wrong throughout (a rebinding gone astray), while a wrong element of it shows
# as a disagreement with the backward and is scanned then.
SCAN_BUDGET = 4
# Relative: the scan's own reach (a kink within h/10 of an element counts as one there).
TIE_RESOLUTION = RESOLUTION / 10


def near_kinks(x: np.ndarray, scale: float) -> np.ndarray:
    """Elements within a scan step of 0, or within ``TIE_RESOLUTION`` of another element's value
    (a tie, or a near-tie the scan would call one) (flat mask). By chance alone the pairs
    grow with the square of the input's size: ``choose`` caps them."""
    flat = x.ravel()
    size = np.maximum(np.abs(flat), scale)
    near = np.abs(flat) <= RESOLUTION * size
    order = np.argsort(flat, kind="stable")
    close = np.diff(flat[order]) <= TIE_RESOLUTION * np.minimum(size[order][1:],
                                                                size[order][:-1])
    near[order[1:][close]] = True
    near[order[:-1][close]] = True
    return near


def choose(x, scale, max_elements, rng, budget) -> tuple[np.ndarray, dict]:
    """The flat mask of elements to scan and how many were chosen for what."""
    n = x.size
    chosen = np.zeros(n, bool)
    if budget is None and n <= max_elements:
        return np.ones(n, bool), {}
    rng = rng or np.random.default_rng(0)
    drawn = min(n, max_elements if budget is None else budget)
    chosen[rng.choice(n, drawn, replace=False)] = True
    if budget is None:
        return chosen, {"drawn at random": drawn}
    near = near_kinks(x, scale) & ~chosen
    if near.sum() > max_elements:
        keep = np.zeros(n, bool)
        keep[rng.choice(np.flatnonzero(near), max_elements, replace=False)] = True
        near = keep
    return chosen | near, {"drawn at random": drawn, "near a kink": int(near.sum())}


def coverage(scan: Scan) -> str:
    """Which elements ``scan`` looked at, in words."""
    n = scan.scanned.size
    if not scan.counts or scan.scanned.all():
        return f"finite differences at every element ({n})"
    parts = ", ".join(f"{count} {why}" for why, count in scan.counts.items() if count)
    return (f"finite differences at {int(np.count_nonzero(scan.scanned))} of {n} elements: "
            f"{parts}")
