"""The Hessian's symmetry as a check of its own: ``⟨u, hvp(w)⟩ = ⟨w, hvp(u)⟩``.

The Hessian of a twice continuously differentiable ``f`` is symmetric, so for any directions
``u`` and ``w`` a correct ``hvp`` gives ``⟨u, H w⟩ = ⟨w, H u⟩``. A hand-derived R-operator that
drops one of a pair of cross terms (the ``δ R{a}ᵀ`` of a weight's gradient without its twin
``Vᵀ δ``) is not the Hessian of anything, and this check says so without any oracle.

**Tolerance.** A correct ``hvp`` computed in a dtype with unit roundoff ``u_d`` is off, in
element ``j``, by at most ``k·u_d·((|H|·|w|)_j + F)`` — the bound of ``check_vjp`` applied to
``g = ∇f`` with cotangent ``w`` (``vjp/tolerance.py``: ``(|H|·|w|)_j`` is the size of the terms
whose sum is the element, ``F`` their largest over the argument, ``k`` the largest array's size
plus ``SLACK_OPS``). An inner product with ``u`` then errs by at most ``Σ_j |u_j|·e_j(w)``, and
forming it in float64 adds ``n·u₆₄·Σ_j |u_j|·|hvp(w)_j|``. The two sides' bounds are added.
``|H|`` comes from ``jax.hessian`` of ``f``, in float64; beyond ``MAX_HESSIAN`` elements it is
not formed and the check is skipped, as the report says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autodiff.check.vjp.tolerance import UNIT_ROUNDOFF, rounding_count
from autodiff.core.render import finite_or_none

MAX_HESSIAN = 2048  # elements: |H| is 32 MiB of float64 at this size


@dataclass
class SymmetryReport:
    """``left = ⟨u, hvp(w)⟩`` and ``right = ⟨w, hvp(u)⟩`` with the ``tolerance`` on their
    difference; ``status`` is ``pass``, ``fail`` or ``skipped`` (``note`` says why)."""

    status: str
    left: float | None = None
    right: float | None = None
    tolerance: float | None = None
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.status != "fail"

    @property
    def excess(self) -> float:
        if self.left is None or self.right is None or not self.tolerance:
            return 0.0 if self.status == "skipped" else np.inf
        return abs(self.left - self.right) / self.tolerance

    def text(self) -> str:
        if self.status == "skipped":
            return f"symmetry: skipped ({self.note})"
        line = (f"symmetry: ⟨u, H w⟩ = {self.left:.9e}, ⟨w, H u⟩ = {self.right:.9e}, "
                f"difference {abs(self.left - self.right):.3e}, tolerance {self.tolerance:.3e}: "
                f"{self.status}")
        return line + (f"\n  symmetry: diagnosis: {self.note}" if self.note else "")

    def to_dict(self) -> dict:
        return {"status": self.status, "passed": self.passed, "left": finite_or_none(self.left),
                "right": finite_or_none(self.right),
                "tolerance": finite_or_none(self.tolerance), "note": self.note}


def _flat(arrays) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in arrays])


def absolute_hessian(f, values: list, wrt: tuple[int, ...]) -> np.ndarray | None:
    """``|H|`` of ``f`` over the flattened ``wrt`` arguments (float64), or ``None`` beyond
    ``MAX_HESSIAN`` elements."""
    import jax
    import jax.numpy as jnp

    sizes = [np.size(values[i]) for i in wrt]
    if sum(sizes) > MAX_HESSIAN:
        return None
    shapes = [np.shape(values[i]) for i in wrt]
    splits = np.cumsum(sizes)[:-1]

    def flat_f(theta):
        args = list(values)
        for i, part, shape in zip(wrt, jnp.split(theta, splits), shapes, strict=True):
            args[i] = part.reshape(shape)
        return f(*args)

    with jax.enable_x64(True):
        theta = jnp.asarray(_flat([values[i] for i in wrt]))
        return np.abs(np.asarray(jax.hessian(flat_f)(theta)))


def symmetry_check(call_hvp, f, values: list, wrt: tuple[int, ...], dtype,
                   rng: np.random.Generator) -> SymmetryReport:
    """Draw ``u`` and ``w`` (standard normal, like the arguments), compare ``⟨u, hvp(w)⟩`` with
    ``⟨w, hvp(u)⟩``. ``call_hvp(directions) -> list of arrays`` runs the user's hvp;
    ``f`` is the JAX-traceable function whose ``|H|`` sizes the bound."""
    differentiable = [values[i] for i in wrt]
    n = sum(np.size(a) for a in differentiable)
    hessian = absolute_hessian(f, values, wrt)
    if hessian is None:
        return SymmetryReport("skipped", note=f"{n} elements, more than {MAX_HESSIAN} "
                                              "for forming |H|")
    u = [rng.standard_normal(np.shape(a)).astype(dtype) for a in differentiable]
    w = [rng.standard_normal(np.shape(a)).astype(dtype) for a in differentiable]
    hu, hw = call_hvp(u), call_hvp(w)
    if any(h is None or np.shape(h) != np.shape(a)
           for h, a in zip([*hu, *hw], [*differentiable, *differentiable], strict=True)):
        return SymmetryReport("skipped", note="the hvp returned misshapen results")
    fu, fw, fhu, fhw = _flat(u), _flat(w), _flat(hu), _flat(hw)
    if not (np.all(np.isfinite(fhu)) and np.all(np.isfinite(fhw))):
        return SymmetryReport("fail", note="the hvp returned non-finite values")
    count = rounding_count([*differentiable, *differentiable])
    unit = UNIT_ROUNDOFF[np.dtype(dtype)]

    def side(outer, inner, h_inner):
        terms = hessian @ np.abs(inner)  # (|H|·|inner|)_j
        element = count * unit * (terms + np.max(terms, initial=0.0))
        return float(np.abs(outer) @ element
                     + n * UNIT_ROUNDOFF[np.dtype(np.float64)] * (np.abs(outer) @ np.abs(h_inner)))

    left, right = float(fu @ fhw), float(fw @ fhu)
    tolerance = side(fu, fw, fhw) + side(fw, fu, fhu) + float(np.finfo(np.float64).tiny)
    if abs(left - right) <= tolerance:
        return SymmetryReport("pass", left, right, tolerance)
    return SymmetryReport("fail", left, right, tolerance,
                          "⟨u, H w⟩ ≠ ⟨w, H u⟩: this hvp is not symmetric, so it is the "
                          "Hessian of no function — one of a pair of cross terms missing (a "
                          "weight's δ R{a}ᵀ without its Vᵀ δ), or a term counted on one side "
                          "only?")
