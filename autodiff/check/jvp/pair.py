"""``check_pair``: a forward-mode rule and a backward pass of one forward, tied together.

For random tangents ``t`` and cotangents ``c`` the two rules must satisfy the dot-product
identity ``⟨J·t, c⟩ = ⟨t, Jᵀ·c⟩`` — one number per side, with no oracle at all. Its tolerance
is derived: element ``k`` of a correct ``J·t`` in ``dtype`` is off by at most the rounding
bound ``b_k`` of ``vjp.tolerance`` (from the scan along ``t`` of ``direction``), so the left
side by ``Σ_k |c_k|·b_k``; the right side is off by the same sum (``Σ_j |t_j|·(|J|ᵀ|c|)_j =
Σ_k |c_k|·(|J||t|)_k``). Both count, plus the rounding of the two float64 dot products. Where
an output element sits on a kink along ``t`` each rule may pick another valid one-sided value,
and its share ``|c_k|·(high_k − low_k)`` (plus the interval's own error) is allowed too. When
the identity fails, ``check_jvp`` and ``check_vjp`` say which rule is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autodiff.check.jvp.check import check_jvp
from autodiff.check.jvp.direction import Direction, scan_direction
from autodiff.check.jvp.rule import call_rule, make_tangents, split_result
from autodiff.check.vjp.args import Layout, as_gradients, as_outputs, dout_copy, make_dout
from autodiff.check.vjp.check import check_vjp
from autodiff.check.vjp.tolerance import UNIT_ROUNDOFF, rounding_bound, rounding_count
from autodiff.core.render import document, number, short

_STREAM = 0x70616972  # "pair"


@dataclass
class PairResult:
    """``forward_side`` = ``⟨J·t, c⟩`` by the rule, ``backward_side`` = ``⟨t, Jᵀ·c⟩`` by the
    backward, ``tolerance`` their allowed gap, ``kinks`` the output elements on a kink along
    ``t``; on a failure ``jvp`` and ``vjp`` hold each rule's own check."""

    forward_side: float
    backward_side: float
    tolerance: float
    dtype: str
    kinks: int = 0
    jvp: object = None
    vjp: object = None
    notes: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float:
        return abs(self.forward_side - self.backward_side)

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.gap)) and self.gap <= self.tolerance

    def __repr__(self) -> str:
        return short("PairResult", "PASS" if self.passed else "FAIL", "<J t, c> - <t, J^T c>",
                     self.gap / self.tolerance if self.tolerance > 0 else np.inf)

    def table(self) -> str:
        verdict = ("PASS: the forward-mode rule and the backward agree" if self.passed else
                   "FAIL: the forward-mode rule and the backward disagree")
        lines = [f"dot-product identity, {self.dtype}", verdict, "",
                 f"  <J t, c> (jvp rule)  {number(self.forward_side)}",
                 f"  <t, J^T c> (backward) {number(self.backward_side)}",
                 f"  gap {number(self.gap)}, tolerance {number(self.tolerance)}"
                 + (f" ({self.kinks} output elements on a kink along t)" if self.kinks else "")]
        lines += [f"  {note}" for note in self.notes]
        for label, result in (("jvp rule", self.jvp), ("backward", self.vjp)):
            if result is not None:
                lines.append(f"  {label}: " + ("agrees with its oracle" if result.passed else
                                               f"wrong in {', '.join(result.failing)}"))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready (``render.document``: a non-finite side or gap is ``null``)."""
        return document(self, ("passed", "dtype", "forward_side", "backward_side", "gap",
                               "tolerance", "kinks", "notes", "jvp", "vjp"))


def check_pair(forward, jvp_rule, backward, *args, dtype=None, seed: int = 0, wrt=None,
               names=None) -> PairResult:
    """Check ``⟨J·t, c⟩ = ⟨t, Jᵀ·c⟩`` for ``jvp_rule(primals, tangents) -> (out, tangent_out)``
    and ``backward(dout, *args) -> grads`` (the contracts of ``check_jvp`` and ``check_vjp``)
    on random ``t`` and ``c`` (``seed``), in ``dtype`` (default: the first float argument's)."""
    layout = Layout.build(forward, args, wrt, dtype, names)
    rng = np.random.default_rng([seed, _STREAM])
    outputs, is_tuple = as_outputs(forward(*layout.call_args()))
    moves = make_tangents(layout, None, rng)
    douts = make_dout(outputs, is_tuple, None, layout.dtype, rng)
    name = getattr(jvp_rule, "__name__", repr(jvp_rule))
    _, _, result = call_rule(jvp_rule, layout, moves)
    _, tangent_outs, notes = split_result(result, len(outputs), is_tuple, name)
    grads, grad_notes = as_gradients(backward(dout_copy(douts, is_tuple), *layout.call_args()),
                                     layout)
    notes = [n for n in [*notes, *grad_notes] if n]

    direction = Direction(forward, layout, moves)
    scans = scan_direction(direction)
    count = rounding_count([*layout.differentiable(), *outputs])
    forward_side = backward_side = allowance = size = 0.0
    kinks = 0
    for scan, c, jt in zip(scans, douts, tangent_outs, strict=True):
        if scan is None:
            continue
        c = np.asarray(c, np.float64)
        bound = rounding_bound(scan, count, layout.dtype) + rounding_bound(scan, count,
                                                                            np.float64)
        allowance += 2 * float(np.sum(np.abs(c) * bound))
        allowance += float(np.sum(np.where(scan.kink, np.abs(c) * (
            scan.high - scan.low + scan.interval_error), 0.0)))
        kinks += int(np.count_nonzero(scan.kink))
        if jt is None or jt.shape != c.shape:
            forward_side = np.nan
            continue
        forward_side += float(np.sum(jt * c))
        size += float(np.sum(np.abs(jt * c)))
    for t, g in zip(moves, grads, strict=True):
        if g is None or g.shape != t.shape:
            backward_side = np.nan
            continue
        backward_side += float(np.sum(np.asarray(t, np.float64) * g))
        size += float(np.sum(np.abs(t * g)))
    tolerance = allowance + count * UNIT_ROUNDOFF[np.dtype(np.float64)] * size
    pair = PairResult(float(forward_side), float(backward_side), tolerance, layout.dtype.name,
                      kinks, notes=notes)
    if not pair.passed:
        options = dict(dtype=layout.dtype.name, seed=seed, wrt=wrt, names=names)
        pair.jvp = check_jvp(forward, jvp_rule, *args, **options)
        pair.vjp = check_vjp(forward, backward, *args, **options)
    return pair
