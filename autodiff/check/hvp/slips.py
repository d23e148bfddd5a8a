"""The classic mistakes of a hand-derived R-operator, one table that both plants and names them.

``HVP_SLIPS`` maps a name to an ``HVPSlip``: ``slip.hvp`` is ``reference.hvp``'s signature with
the one mistake in it (for ``backprop check --hvp NAME`` and the tests), and ``recognise``
returns the slips whose product equals a wrong result in every block — so a failure is named
by recomputing each slip on the same point, never by guessing. The R-pass below is written the
way a student would, one flag per slip, so every slip differs from the right pass in one place
(``slip=None`` is the right pass, and the tests hold it to ``reference.hvp``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autodiff.core.diagnose import Diagnosis
from reference.activations import get_activation, get_second_derivative
from reference.backprop import forward_trace


def _student_hvp(params, x, y, v, activation: str, slip: str | None):
    """``H v`` by the R-operator (``reference.hvp``'s layout), wrong where ``slip`` says."""
    _, f_prime = get_activation(activation)
    f_second = get_second_derivative(activation)
    if slip in ("gauss-newton", "dropped-sigma-second"):
        f_second = np.zeros_like  # the curvature of the units left out
    cross = slip not in ("gauss-newton", "missing-cross-term")
    direction = slip not in ("gauss-newton", "missing-direction-term")
    zs, activations = forward_trace(params, x, activation)
    n = x.shape[1]
    R_a, R_z = [np.zeros_like(x)], []
    for (W, _), (V, c), a_prev, z in zip(params, v, activations[:-1], zs, strict=True):
        R_z.append(V @ a_prev + W @ R_a[-1] + c)
        R_a.append(f_prime(z) * R_z[-1])
    residual = activations[-1] - y
    delta = 2 * residual / n * f_prime(zs[-1])
    R_delta = 2 * R_a[-1] / n * f_prime(zs[-1]) + 2 * residual / n * f_second(zs[-1]) * R_z[-1]
    result = []
    for layer in reversed(range(len(params))):
        R_dW = R_delta @ activations[layer].T
        if cross:
            R_dW = R_dW + delta @ R_a[layer].T
        result.append((R_dW, np.sum(R_delta, axis=1, keepdims=True)))
        if layer > 0:
            W, V = params[layer][0], v[layer][0]
            back = W.T @ delta
            R_back = W.T @ R_delta + (V.T @ delta if direction else 0.0)
            R_delta = (R_back * f_prime(zs[layer - 1])
                       + back * f_second(zs[layer - 1]) * R_z[layer - 1])
            delta = back * f_prime(zs[layer - 1])
    result.reverse()
    return result


@dataclass(frozen=True)
class HVPSlip:
    """One mistake of the R-operator: ``name`` (for ``--hvp NAME``), ``key`` and ``text`` (its
    diagnosis)."""

    name: str
    key: str
    text: str

    def hvp(self, params, x, y, v, activation: str = "logistic"):
        """The mistaken ``H v``, with ``reference.hvp``'s signature."""
        return _student_hvp(params, x, y, v, activation, self.name)

    @property
    def diagnosis(self) -> Diagnosis:
        return Diagnosis(self.key, self.text)


HVP_SLIPS: dict[str, HVPSlip] = {s.name: s for s in [
    HVPSlip("gauss-newton", "gauss_newton",
            "only the Gauss-Newton part 2JᵀJv/N: every term that carries the residual "
            "(the f'' terms and the cross terms δ R{a}ᵀ and Vᵀ δ) is missing"),
    HVPSlip("dropped-sigma-second", "sigma_second_missing",
            "σ'' dropped: the curvature terms (a_L - y)·f''(z_L)·R{z_L} and "
            "(Wᵀδ)·f''(z)·R{z} of R{δ} are missing"),
    HVPSlip("missing-cross-term", "cross_term_missing",
            "the cross term δ_l R{a_(l-1)}ᵀ of R{∂W_l} is missing (a weight's gradient moves "
            "with the activations below it)"),
    HVPSlip("missing-direction-term", "direction_term_missing",
            "the term V_lᵀ δ_l of R{δ_(l-1)} is missing (the backward pass moves with the "
            "weights' own direction)"),
]}


def get_slip(name: str) -> HVPSlip:
    """The slip called ``name``; a ValueError lists the choices."""
    try:
        return HVP_SLIPS[name]
    except KeyError:
        raise ValueError(f"hvp slip: unknown name {name!r}; expected one of "
                         f"{sorted(HVP_SLIPS)}") from None


def recognise(params, x, y, v, activation: str, got: list, expected: list,
              tolerances: list[float]) -> list[Diagnosis]:
    """The slips whose ``H v`` equals ``got`` in every block (flat lists ``[W1, b1, …]``) within
    that block's tolerance, widened by the slip's size relative to the right product (as
    ``core.diagnose`` widens a candidate's); a slip equal to ``expected`` everywhere here
    cannot explain a failure and is skipped."""
    found = []
    for slip in HVP_SLIPS.values():
        planted = [block for pair in slip.hvp(params, x, y, v, activation) for block in pair]
        fits, differs = True, False
        for g, p, e, tol in zip(got, planted, expected, tolerances, strict=True):
            scale = max(1.0, float(np.max(np.abs(p), initial=0.0))
                        / max(float(np.max(np.abs(e), initial=0.0)), tol))
            limit = tol * scale
            if g is None or np.shape(g) != np.shape(p) or np.max(np.abs(g - p),
                                                                 initial=0.0) > limit:
                fits = False
                break
            differs = differs or bool(np.max(np.abs(p - e), initial=0.0) > limit)
        if fits and differs:
            found.append(slip.diagnosis)
    return found
