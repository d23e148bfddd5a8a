"""One finite-difference scan per argument: kinks, subgradient intervals and magnitudes.

For each element ``x_j`` the scan evaluates ``φ`` (see ``vjp_probe``) at ``x_j ± h`` and
``x_j ± h/4``, with ``h = RESOLUTION · max(|x_j|, rms(x))``, and forms the one-sided slopes
``d±(h)`` and ``d±(h/4)``. Where ``φ`` is smooth their gap ``Δ = d+ − d−`` is ``h·φ''`` and
shrinks fourfold with the step; where ``x_j`` sits on a kink (ReLU at 0, ``abs``, a max-pool tie)
the gap is the jump in slope and does not shrink. Requiring ``Δ(h/4)`` to be within half of
``Δ(h)`` flags kinks within about ``h/10`` of ``x_j`` — ``1e-5`` of its scale, a few hundred
float32 roundings, so a near-tie that float32 rounding can flip counts as a tie. At a kink any
value between the two one-sided slopes is a valid (Clarke) derivative, and ``low``/``high`` are
that interval. The same evaluations give, per element,

* ``estimate``: the Richardson extrapolation ``(16·c(h/4) − c(h)) / 15`` of the central
  differences, with ``estimate_error = |c(h) − c(h/4)| / 15`` (the error of ``c(h/4)``, an upper
  estimate for the extrapolation) plus rounding — an independent check on any oracle;
* ``magnitude``: ``Σ_k |dout_k|·|∂out_k/∂x_j|``, the size of the terms a backward pass sums for
  element ``j`` (the larger one-sided slope of each output); ``curvature``:
  ``|x_j|·|∂²φ/∂x_j²|`` where smooth; and ``secant``: ``Σ_k |dout_k|·|out_k(x) − out_k(x with
  x_j = 0)| / max(|x_j|, rms(x))``, the slope over the element's whole size — large where the
  local slope is small only because the unit saturates; and ``values``: ``Σ_k |dout_k|·|out_k|
  / max(|x_j|, rms(x))`` over the outputs that depend on ``x_j``, the forward values a backward
  reuses, per unit of the input's size. ``vjp_tolerance`` turns them into rounding bounds.

Elements beyond ``max_elements`` are sampled (``scanned`` marks the ones looked at).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autodiff.check.vjp_probe import Probe

RESOLUTION = 1e-4


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


def _weights(probe: Probe, differences: list) -> float:
    """``Σ_k |dout_k · difference_k|``."""
    return sum(float(np.sum(np.abs(d * diff)))
               for d, diff in zip(probe.douts, differences, strict=True) if d is not None)


def _scan_element(probe: Probe, position: int, x: np.ndarray, j: int, scale: float) -> dict:
    """The scan's numbers for element ``j`` (see the module docstring)."""
    h = RESOLUTION * max(abs(float(x.flat[j])), scale)
    size = max(abs(float(x.flat[j])), scale)
    slopes, noise, magnitude = {}, 0.0, 0.0
    moved_outputs = [np.zeros(np.shape(b), bool) if b is not None else None for b in probe.base]
    steps = [(h, 0), (-h, 0), (h / 4, 0), (-h / 4, 0)]
    if x.flat[j] != 0:
        steps.append((-float(x.flat[j]), 1))  # the secant to 0
    result = {"step": h, "secant": 0.0}
    for t, secant in steps:
        moved = x.copy()
        moved.flat[j] += t
        t = float(moved.flat[j] - x.flat[j])  # the step actually taken, after rounding
        differences = probe.differences(position, moved)
        for mask, diff in zip(moved_outputs, differences, strict=True):
            if mask is not None:
                mask |= diff != 0
        if secant:
            result["secant"] = _weights(probe, differences) / size
            continue
        slopes[(t > 0, abs(t) > h / 2)] = probe.weigh(differences).real / t
        noise = max(noise, probe.noise(differences) / abs(t))
        if abs(t) < h / 2:
            magnitude = max(magnitude, _weights(probe, differences) / abs(t))
    result["values"] = _weights(probe, [None if m is None else np.where(m, b, 0.0) for m, b in
                                        zip(moved_outputs, probe.base, strict=True)]) / size
    right_h, left_h = slopes[(True, True)], slopes[(False, True)]
    right, left = slopes[(True, False)], slopes[(False, False)]
    gap_h, gap = right_h - left_h, right - left
    kink = abs(gap) > 4 * noise and abs(gap_h - gap) <= 0.5 * abs(gap)
    smooth = not kink and abs(gap - gap_h / 4) <= 0.25 * abs(gap_h) + 2 * noise
    central_h, central = (right_h + left_h) / 2, (right + left) / 2
    x_j = abs(float(x.flat[j]))
    result.update(
        kink=kink, clean=smooth, low=min(left, right), high=max(left, right),
        interval_error=max(abs(right_h - right), abs(left_h - left)) + noise,
        estimate=(16 * central - central_h) / 15,
        # `noise` is the largest, at the h/4 steps; at the h steps it is a quarter of it.
        estimate_error=abs(central_h - central) / 15 + noise + noise / 60,
        magnitude=magnitude,
        curvature=x_j * min(abs(gap_h) / h, abs(gap) * 4 / h) if smooth else 0.0)
    return result


def scan_argument(probe: Probe, position: int, max_elements: int = 4096,
                  rng: np.random.Generator | None = None) -> Scan:
    """Scan argument ``position`` of ``probe`` element by element (see the module docstring)."""
    x = probe.value(position)
    n = x.size
    scanned = np.zeros(n, bool)
    if n <= max_elements:
        scanned[:] = True
    else:
        rng = rng or np.random.default_rng(0)
        scanned[rng.choice(n, max_elements, replace=False)] = True
    fields = {name: np.zeros(n, bool if name in ("kink", "clean") else float)
              for name in Scan.__dataclass_fields__ if name != "scanned"}
    scale = probe.scale(position)
    for j in np.flatnonzero(scanned):
        for name, value in _scan_element(probe, position, x, j, scale).items():
            fields[name][j] = value
    return Scan(scanned=scanned.reshape(x.shape),
                **{name: value.reshape(x.shape) for name, value in fields.items()})


def tie_check(probe: Probe, position: int, scan: Scan) -> tuple[float, float] | None:
    """Moving every kink element of the argument together by the same step: if ``φ`` is
    differentiable along that direction (a max-pool tie moved as a whole stays a tie), return
    ``(slope, error)``; the gradients at those elements must then sum to ``slope`` — a backward
    that counts a tie twice fails here although each element lies in its interval. ``None``
    when there are fewer than two kink elements or ``φ`` has a kink along that direction too."""
    mask = scan.kink & scan.scanned
    if np.count_nonzero(mask) < 2:
        return None
    x = probe.value(position)
    h = float(np.max(scan.step[mask]))
    slopes, noise = {}, 0.0
    for t in (h, -h, h / 4, -h / 4):
        differences = probe.differences(position, x + t * mask)
        slopes[t] = probe.weigh(differences).real / t
        noise = max(noise, probe.noise(differences) / abs(t))
    gap = slopes[h / 4] - slopes[-h / 4]
    if abs(gap) > 4 * noise + 0.01 * max(abs(slopes[h / 4]), abs(slopes[-h / 4])):
        return None
    slope = (slopes[h / 4] + slopes[-h / 4]) / 2
    error = abs((slopes[h] + slopes[-h]) / 2 - slope) + abs(gap) + noise
    return slope, error
