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
  element ``j`` (the larger one-sided slope of each output), and ``curvature``:
  ``|x_j|·|∂²φ/∂x_j²|`` where smooth. ``vjp_tolerance`` turns both into rounding bounds.

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
    step: np.ndarray


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
    fields = {name: np.zeros(n) for name in (
        "low", "high", "interval_error", "estimate", "estimate_error", "magnitude",
        "curvature", "step")}
    kink, clean = np.zeros(n, bool), np.zeros(n, bool)
    scale = probe.scale(position)
    for j in np.flatnonzero(scanned):
        h = RESOLUTION * max(abs(float(x.flat[j])), scale)
        slopes, noise, magnitude = {}, 0.0, 0.0
        for t in (h, -h, h / 4, -h / 4):
            moved = x.copy()
            moved.flat[j] += t
            t = float(moved.flat[j] - x.flat[j])  # the step actually taken, after rounding
            differences = probe.differences(position, moved)
            slopes[(t > 0, abs(t) > h / 2)] = probe.weigh(differences).real / t
            noise = max(noise, probe.noise(differences) / abs(t))
            if abs(t) < h / 2:
                magnitude = max(magnitude, sum(
                    float(np.sum(np.abs(d * diff))) for d, diff in zip(
                        probe.douts, differences, strict=True) if d is not None) / abs(t))
        right_h, left_h = slopes[(True, True)], slopes[(False, True)]
        right, left = slopes[(True, False)], slopes[(False, False)]
        gap_h, gap = right_h - left_h, right - left
        noise_h = noise / 4  # `noise` is the largest, at the h/4 steps
        is_kink = abs(gap) > 4 * noise and abs(gap_h - gap) <= 0.5 * abs(gap)
        smooth = not is_kink and abs(gap - gap_h / 4) <= 0.25 * abs(gap_h) + 2 * noise
        central_h, central = (right_h + left_h) / 2, (right + left) / 2
        kink[j], clean[j] = is_kink, smooth
        fields["low"][j], fields["high"][j] = min(left, right), max(left, right)
        fields["interval_error"][j] = max(abs(right_h - right), abs(left_h - left)) + noise
        fields["estimate"][j] = (16 * central - central_h) / 15
        fields["estimate_error"][j] = abs(central_h - central) / 15 + noise + noise_h / 15
        fields["magnitude"][j] = magnitude
        fields["curvature"][j] = (abs(float(x.flat[j])) * min(abs(gap_h) / h, abs(gap) * 4 / h)
                                  if smooth else 0.0)
        fields["step"][j] = h
    shape = x.shape
    return Scan(scanned=scanned.reshape(shape), kink=kink.reshape(shape),
                clean=clean.reshape(shape),
                **{name: value.reshape(shape) for name, value in fields.items()})


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
