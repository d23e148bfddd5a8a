"""One finite-difference scan per argument: kinks, subgradient intervals and magnitudes.

For each element ``x_j`` the scan evaluates ``φ`` (see ``probe``) at ``x_j ± h`` and
``x_j ± h/4``, with ``h = RESOLUTION · max(|x_j|, rms(x))``, and forms the one-sided slopes
``d±(h)`` and ``d±(h/4)``, output element by output element. Where ``φ`` is smooth their gap
``Δ = d+ − d−`` is ``h·φ''`` and shrinks fourfold with the step; where ``x_j`` sits on a kink
(ReLU at 0, ``abs``, a max-pool tie) the gap is the jump in slope and does not shrink.

At a kink any routing the chain rule allows is valid: each output's own derivative anywhere
between its one-sided slopes, weighted by ``dout_k`` and summed. ``low``/``high`` are that
interval (``chain_interval``) — the one between ``φ``'s one-sided slopes where a single output
jumps, wider where an input is tied in several overlapping max-pool windows whose gradients
differ in sign. Its width ``W`` is the jump: requiring ``W(h)`` within half of ``W(h/4)``
flags kinks within about ``h/10`` of ``x_j`` — ``1e-5`` of its scale, a few hundred float32
roundings, so a near-tie that float32 rounding can flip counts as a tie. If another kink lies
between ``h/4`` and ``h`` (a tie beside a near-tie in overlapping windows), the jump is judged
on ``±h/4`` and ``±h/16`` instead (two more evaluations, only there). ``jumps`` records the
outputs that jump at each kink, for the ties of ``ties``.

An element counts as smooth (``clean``) only when ``Δ`` shrinks fourfold and the central
difference ``c = (d+ + d−)/2`` barely moves: ``|Δ(h/4) − Δ(h)/4|`` and ``|c(h) − c(h/4)|``
both within ``SMOOTH_SLACK · |Δ(h)|`` plus rounding (for smooth ``φ`` they are ``O(h³)`` and
``(5h²/32)·φ'''``). A kink at ``r·h`` from ``x_j`` with jump ``J`` (a max-pool near-tie: float32
tanh saturates to values ``1e-5`` apart) moves one side's slope only, and ``c`` by ``1.5·r·J``
(``r < 1/4``) or ``J(1 − r)/2``: at least a sixth of ``Δ(h) = J(1 − r)`` for any ``r`` from
``1/10`` to ``1``, so it is never called smooth. (A slack of 1/4 on ``Δ`` alone took a kink
beyond ``h/4``, where ``Δ(h/4) = 0``, for smooth.) Such an element has a well-defined
derivative, but its estimate is not used, and ``ridders_steps`` keeps Ridders short of the
kink. The same evaluations give, per element,

* ``estimate``: the Richardson extrapolation ``(16·c(h/4) − c(h)) / 15`` of the central
  differences, with ``estimate_error = |c(h) − c(h/4)| / 15`` (the error of ``c(h/4)``, an upper
  estimate for the extrapolation) plus rounding — an independent check on any oracle;
* ``magnitude``: ``Σ_k |dout_k|·|∂out_k/∂x_j|``, the size of the terms a backward pass sums for
  element ``j`` (the larger one-sided slope of each output); ``curvature``:
  ``|x_j|·|∂²φ/∂x_j²|`` where smooth; and ``secant``: ``Σ_k |dout_k|·|out_k(x) − out_k(x with
  x_j = 0)| / max(|x_j|, rms(x))``, the slope over the element's whole size — large where the
  local slope is small only because the unit saturates; and ``values``: ``Σ_k |dout_k|·|out_k|
  / max(|x_j|, rms(x))`` over the outputs that depend on ``x_j``, the forward values a backward
  reuses, per unit of the input's size. ``tolerance`` turns them into rounding bounds.

Which elements are scanned (``scanned`` marks them, ``coverage`` says it in words): all of
them up to ``max_elements``, a random sample of that many beyond; or, where an exact oracle
answers for every element, ``budget`` of them drawn from the check's seed plus every element
near a kink this module can foresee — within a step of 0 (ReLU, ``abs``) or of another
element's value (a max-pool tie) — and any ``focus`` the caller adds: elements where the
backward disagrees with that oracle (``opinions.widened``), which is where an unforeseen kink
shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autodiff.check.vjp.probe import Probe
from autodiff.core.compare import chain_interval

RESOLUTION = 1e-4
SMOOTH_SLACK = 0.1
JUMP_SHARE = 1e-3
# Elements drawn per argument when an exact oracle answers for all of them: enough to catch an
# oracle that is wrong throughout (a rebinding gone astray), while a wrong element of it shows
# as a disagreement with the backward and is scanned then.
SCAN_BUDGET = 4
# Relative: the scan's own reach (a kink within h/10 of an element counts as one there).
TIE_RESOLUTION = RESOLUTION / 10


@dataclass
class Scan:
    """Per element of one argument (arrays of its shape); see the module docstring."""

    scanned: np.ndarray
    kink: np.ndarray
    low: np.ndarray
    high: np.ndarray
    interval_error: np.ndarray
    estimate: np.ndarray
    estimate_error: np.ndarray
    clean: np.ndarray
    magnitude: np.ndarray
    curvature: np.ndarray
    secant: np.ndarray
    values: np.ndarray
    step: np.ndarray
    jumps: dict = field(default_factory=dict)  # kink element (flat) -> output elements (flat)
    # How many elements were chosen for what (empty: every element); see ``coverage``.
    counts: dict = field(default_factory=dict)
    sampled: bool = False  # from a budget: the oracle was checked on these elements only


def _weights(probe: Probe, differences: list) -> float:
    """``Σ_k |dout_k · difference_k|``."""
    return sum(float(np.sum(np.abs(d * diff)))
               for d, diff in zip(probe.douts, differences, strict=True) if d is not None)


def _step(probe: Probe, position: int, x: np.ndarray, j: int, t: float):
    """Moving ``x_j`` by ``t``: ``(terms, noise, differences, t)`` with ``terms`` the
    ``dout_k · (out_k(x + t·e_j) − out_k(x)) / t`` of every output element ``k`` (flat), whose
    sum is the one-sided slope of ``φ``, and ``noise`` that sum's rounding bound over ``|t|``
    (``t`` as taken, after rounding)."""
    moved = x.copy()
    moved.flat[j] += t
    t = float(moved.flat[j] - x.flat[j])
    differences = probe.differences(position, moved)
    terms = [np.ravel(np.real(d * diff)) / t
             for d, diff in zip(probe.douts, differences, strict=True) if d is not None]
    return (np.concatenate(terms) if terms else np.zeros(0), probe.noise(differences) / abs(t),
            differences, t)


def _scan_element(probe: Probe, position: int, x: np.ndarray, j: int, scale: float) -> dict:
    """The scan's numbers for element ``j`` (see the module docstring)."""
    size = max(abs(float(x.flat[j])), scale)
    h = RESOLUTION * size
    moved_outputs = [np.zeros(np.shape(b), bool) if b is not None else None for b in probe.base]

    def note_moved(differences):
        for mask, diff in zip(moved_outputs, differences, strict=True):
            if mask is not None:
                mask |= diff != 0

    terms, noise, magnitude, secant = {}, 0.0, 0.0, 0.0
    for t in (h, -h, h / 4, -h / 4):
        terms[t], step_noise, differences, taken = _step(probe, position, x, j, t)
        note_moved(differences)
        noise = max(noise, step_noise)
        if abs(t) < h / 2:
            magnitude = max(magnitude, _weights(probe, differences) / abs(taken))
    if x.flat[j] != 0:  # the secant to 0
        moved = x.copy()
        moved.flat[j] = 0.0
        differences = probe.differences(position, moved)
        note_moved(differences)
        secant = _weights(probe, differences) / size
    right_h, left_h, right, left = (float(np.sum(terms[t])) for t in (h, -h, h / 4, -h / 4))
    (low_h, high_h), (low, high) = chain_interval(terms[h], terms[-h]), chain_interval(
        terms[h / 4], terms[-h / 4])
    gap_h, gap, width = right_h - left_h, right - left, high - low
    kink = width > 4 * noise and abs((high_h - low_h) - width) <= 0.5 * width
    central_h, central = (right_h + left_h) / 2, (right + left) / 2
    slack = SMOOTH_SLACK * abs(gap_h) + 2 * noise
    smooth = not kink and abs(gap - gap_h / 4) <= slack and abs(central_h - central) <= slack
    interval_error = max(abs(low_h - low), abs(high_h - high)) + noise
    jumps = np.abs(terms[h / 4] - terms[-h / 4])
    if not kink and not smooth and width > 4 * noise:
        # A jump at x_j and another kink between h/4 and h (a tie in one max-pool window, a
        # near-tie in an overlapping one): judge the jump on the steps h/4 and h/16 instead.
        (right_s, noise_r, *_), (left_s, noise_l, *_) = (_step(probe, position, x, j, t)
                                                        for t in (h / 16, -h / 16))
        low_s, high_s = chain_interval(right_s, left_s)
        noise_s = max(noise_r, noise_l)
        if high_s - low_s > 4 * noise_s and abs(width - (high_s - low_s)) <= 0.5 * (
                high_s - low_s):
            interval_error = max(abs(low - low_s), abs(high - high_s)) + noise_s
            kink, low, high, jumps = True, low_s, high_s, np.abs(right_s - left_s)
    x_j = abs(float(x.flat[j]))
    return dict(
        # The outputs that jump: those carrying a share of at least JUMP_SHARE of the width.
        jumps=np.flatnonzero(jumps > JUMP_SHARE * (high - low)) if kink else None,
        step=h, secant=secant, kink=kink, clean=smooth, low=low, high=high,
        interval_error=interval_error,
        estimate=(16 * central - central_h) / 15,
        # `noise` is the largest, at the h/4 steps; at the h steps it is a quarter of it.
        estimate_error=abs(central_h - central) / 15 + noise + noise / 60,
        magnitude=magnitude,
        curvature=x_j * min(abs(gap_h) / h, abs(gap) * 4 / h) if smooth else 0.0,
        values=_weights(probe, [None if m is None else np.where(m, b, 0.0) for m, b in
                                zip(moved_outputs, probe.base, strict=True)]) / size)


def near_kinks(x: np.ndarray, scale: float) -> np.ndarray:
    """Elements within a scan step of 0, or within ``TIE_RESOLUTION`` of another element's value
    (a tie, or a near-tie the scan would call one) (flat mask). By chance alone the pairs
    grow with the square of the input's size: ``_chosen`` caps them."""
    flat = x.ravel()
    size = np.maximum(np.abs(flat), scale)
    near = np.abs(flat) <= RESOLUTION * size
    order = np.argsort(flat, kind="stable")
    close = np.diff(flat[order]) <= TIE_RESOLUTION * np.minimum(size[order][1:],
                                                                size[order][:-1])
    near[order[1:][close]] = True
    near[order[:-1][close]] = True
    return near


def _chosen(x, scale, max_elements, rng, budget) -> tuple[np.ndarray, dict]:
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


def scan_argument(probe: Probe, position: int, max_elements: int = 4096,
                  rng: np.random.Generator | None = None, budget: int | None = None,
                  focus: np.ndarray | None = None, previous: Scan | None = None) -> Scan:
    """Scan argument ``position`` of ``probe`` element by element (see the module docstring):
    ``budget`` elements and those near a kink if given, else all up to ``max_elements``; and
    ``focus`` (a mask shaped like the argument, "where the backward disagrees with the
    oracle") in any case. Elements ``previous`` scanned are taken from it, not scanned again."""
    x = probe.value(position)
    n = x.size
    scale = probe.scale(position)
    if previous is not None and focus is not None and budget == 0:
        scanned, counts = np.zeros(n, bool), {}
    else:
        scanned, counts = _chosen(x, scale, max_elements, rng, budget)
    done = np.zeros(n, bool) if previous is None else previous.scanned.ravel()
    if previous is not None and counts:
        counts = {why: previous.counts.get(why, 0) + count for why, count in counts.items()}
    elif previous is not None and focus is not None and budget == 0:
        counts = dict(previous.counts)
    if focus is not None:
        extra = np.ravel(focus) & ~scanned & ~done
        scanned |= extra
        if counts:
            why = "where the backward disagrees with the oracle"
            counts[why] = counts.get(why, 0) + int(extra.sum())
    fields = {name: np.zeros(n, bool if name in ("kink", "clean") else float)
              for name in Scan.__dataclass_fields__
              if name not in ("scanned", "jumps", "counts", "sampled")}
    fields["step"][:] = RESOLUTION * np.maximum(np.abs(x.ravel()), scale)  # unscanned ones too
    jumps = {}
    if previous is not None:
        jumps.update(previous.jumps)
        for name in fields:
            fields[name][done] = getattr(previous, name).ravel()[done]
    for j in np.flatnonzero(scanned & ~done):
        element = _scan_element(probe, position, x, j, scale)
        if element["kink"]:
            jumps[int(j)] = element.pop("jumps")
        for name in fields:
            fields[name][j] = element[name]
    scanned |= done
    return Scan(scanned=scanned.reshape(x.shape), jumps=jumps, counts=counts,
                sampled=(budget is not None or bool(previous and previous.sampled))
                and not scanned.all(),
                **{name: value.reshape(x.shape) for name, value in fields.items()})


def ridders_steps(scan: Scan) -> np.ndarray:
    """A first step for Ridders per element that goes no further than the scan looked: its
    step ``h`` where it found ``φ`` smooth, and ``h/16`` elsewhere — short of a kink between
    ``h/10`` and ``h`` (unscanned elements are not known to be smooth either)."""
    return np.where(scan.scanned & scan.clean, scan.step, scan.step / 16)
