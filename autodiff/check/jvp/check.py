"""``check_jvp``: a hand-written forward-mode rule against an oracle, with derived tolerances.

The rule's contract is in ``rule``. Its tangent of each output is compared element by element
with ``J·t`` from the most exact oracle that works on the forward (``oracles``: ``jax.jvp``,
the complex step, Ridders along ``t``), each validated against the finite-difference scan of
``direction`` — which also finds the output elements on a kink along ``t`` and the interval of
valid tangents there. ``vjp``'s comparison, rounding bounds, diagnoses and table do the rest:
forward mode is the same core applied to ``g(ε) = f(x + ε·t)``. The rule's primal output is
held to the forward's within the rounding of either.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from autodiff.check.jvp import oracles as jvp_oracles
from autodiff.check.jvp.diagnose import term_diagnoses
from autodiff.check.jvp.direction import Direction, scan_direction
from autodiff.check.jvp.report import JVPResult
from autodiff.check.jvp.rule import call_rule, make_tangents, split_result
from autodiff.check.jvp.sensitivity import raised, sensitivity
from autodiff.check.precision import SENSITIVITY_SLACK, within_noise
from autodiff.check.vjp.args import Layout, degenerate_warnings, forward_outputs, written_warnings
from autodiff.check.vjp.compare import Opinion, compare
from autodiff.check.vjp.diagnose import Context
from autodiff.check.vjp.tolerance import UNIT_ROUNDOFF, rounding_bound, rounding_count

ORACLES = ("auto", "jax", "complex-step", "ridders")
_TANGENT_STREAM = 0x6A7670  # "jvp": the tangents' draws, apart from the user's seed

__all__ = ["ORACLES", "JVPResult", "check_jvp"]


def _jax_found(forward, direction: Direction, oracle: str):
    if oracle not in ("auto", "jax"):
        return None, None, ""
    try:
        name, tangents = jvp_oracles.jax_tangents(forward, direction)
    except jvp_oracles.OracleUnavailable as error:
        return None, None, str(error)
    values = iter(tangents)
    return name, [None if b is None else next(values) for b in direction.base], ""


def _terms(forward, layout: Layout, tangents: list, opinion: Opinion, slot: int) -> dict:
    """Each argument's own term of output ``slot``'s tangent, by the oracle that answered."""
    if len(layout.wrt) < 2:
        return {}
    terms = {}
    for k, position in enumerate(layout.wrt):
        alone = [t if i == k else np.zeros_like(t) for i, t in enumerate(tangents)]
        values = jvp_oracles.ask(forward, Direction(forward, layout, alone), opinion.name)
        terms[layout.names[position]] = None if values is None else values[slot]
    return terms


def _primal_report(name: str, slot: int, got, base, own, scan, reach: float, count: int,
                   dtype, context: Context):
    """The rule's primal output against the forward's (float64): within the rounding of a
    correct computation in ``dtype`` — the output's size, its largest element, and its change
    when the inputs move by their own size (``reach`` along the tangent: rounding the inputs
    moves it by ``u`` of that) — plus twice the forward's own error in ``dtype`` here."""
    u = UNIT_ROUNDOFF[np.dtype(dtype)]
    size = np.abs(base) + float(np.max(np.abs(base), initial=0.0)) + scan.secant * reach
    tolerance = count * u * size + 2 * np.abs(own - base) + float(
        np.finfo(np.dtype(dtype)).tiny)
    still = replace(scan, kink=np.zeros(scan.kink.shape, bool))
    opinion = Opinion("the forward", base, np.ones(base.shape, bool), np.zeros(base.shape),
                      f"the forward's output in float64; tolerance {count}·u·(|out| + "
                      f"max |out|) plus twice the forward's own {np.dtype(dtype).name} error")
    report = compare(name, slot, got, "" if np.shape(got) == base.shape else
                     f"the rule's {name} has shape {np.shape(got)}, expected {base.shape}",
                     opinion, still, tolerance, context)
    report.trust = opinion.trust
    return report


def _again(report, name, slot, got, note, opinion, scan, tolerance, context, why: str):
    """The row judged again with a wider ``tolerance``; ``why`` joins its trust."""
    again = compare(name, slot, got, note, opinion, scan, tolerance, context)
    again.trust = f"{report.trust}; {why}"
    return again


def _context(layout: Layout, outputs: list) -> Context:
    dims = {}
    for name, value in [*((layout.names[i], layout.values[i]) for i in layout.wrt),
                        *(("the output", o) for o in outputs)]:
        for axis, size in enumerate(np.shape(value)):
            if size not in dims.values():
                dims[f"axis {axis} of {name}"] = size
    first = layout.differentiable()[0]
    return Context(first.shape[0] if first.ndim else None, dims, {}, [])


def check_jvp(forward, rule, *args, tangents=None, dtype=None, seed: int = 0, wrt=None,
              names=None, oracle: str = "auto") -> JVPResult:
    """Check ``rule(primals, tangents) -> (out, tangent_out)`` against ``forward(*args)`` and
    ``J·t``.

    ``dtype`` ("float64"/"float32"; default: the first float argument's) is what the rule runs
    in; oracles run in float64 on the same values. ``tangents`` default to random normal ones
    (``seed``); given, they are a tuple aligned with ``args`` (``None`` where not
    differentiable). ``wrt``, ``names`` and ``oracle`` are as for ``check_vjp``.
    """
    if oracle not in ORACLES:
        raise ValueError(f"oracle: expected one of {ORACLES}, got {oracle!r}")
    layout = Layout.build(forward, args, wrt, dtype, names)
    rng = np.random.default_rng([seed, _TANGENT_STREAM])
    outputs, is_tuple, warnings = forward_outputs(forward, layout)
    moves = make_tangents(layout, tangents, rng)
    warnings += degenerate_warnings(layout, [], False)
    rule_name = getattr(rule, "__name__", repr(rule))
    primals, _, result = call_rule(rule, layout, moves)
    warnings += written_warnings("rule", layout, primals)
    outs, got, notes = split_result(result, len(outputs), is_tuple, rule_name)

    direction = Direction(forward, layout, moves)
    scans = scan_direction(direction)
    count = rounding_count([*layout.differentiable(), *outputs])
    bounds64 = [None if s is None else rounding_bound(s, count, np.float64) for s in scans]
    found = _jax_found(forward, direction, oracle)
    opinions = jvp_oracles.choose(direction, scans, bounds64, found, oracle)
    context = _context(layout, outputs)
    reports, sensitivities, higher = [], None, None
    for slot, scan in enumerate(scans):
        if scan is None:
            continue
        label = f"out[{slot}]" if is_tuple else "out"
        own = np.asarray(outputs[slot], np.float64)
        primal = _primal_report(label, slot, np.asarray(outs[slot], np.float64),
                                     direction.base[slot], own, scan, direction.scale, count,
                                     layout.dtype, context)
        reports.append(primal)
        opinion = opinions[slot]
        tolerance = rounding_bound(scan, count, layout.dtype) + bounds64[slot] + opinion.extra
        report = compare(f"tangent of {label}", slot, got[slot], notes[slot], opinion, scan,
                         tolerance, context)
        report.trust = opinion.trust
        if not report.passed and opinion.name != "ridders":
            if sensitivities is None:
                sensitivities = sensitivity(forward, layout, moves, opinion.name, rng)
            if sensitivities is not None:
                tolerance = tolerance + SENSITIVITY_SLACK * sensitivities[slot]
                report = _again(report, f"tangent of {label}", slot, got[slot], notes[slot],
                                opinion, scan, tolerance, context,
                                "tolerance widened by the tangent's sensitivity to rounding "
                                "its inputs")
        if not report.passed and got[slot] is not None and got[slot].shape == scan.kink.shape:
            if higher is None:
                higher = raised(rule, layout, moves, len(outputs), is_tuple) or [None] * len(
                    outputs)
            if higher[slot] is not None and higher[slot].shape == got[slot].shape and (
                    within_noise(got[slot], higher[slot], layout.dtype)):
                formula = compare(f"tangent of {label}", slot, higher[slot], "", opinion, scan,
                                  tolerance - rounding_bound(scan, count, layout.dtype)
                                  + bounds64[slot], context)
                if formula.passed:
                    tolerance = tolerance + 2 * np.abs(got[slot] - higher[slot])
                    report = _again(report, f"tangent of {label}", slot, got[slot],
                                    notes[slot], opinion, scan, tolerance, context,
                                    "the rule agrees one precision up; its own rounding "
                                    "allowed")
        if not report.passed and got[slot] is not None and got[slot].shape == scan.kink.shape:
            limit = float(np.max(tolerance, initial=0.0))
            named = term_diagnoses(got[slot], opinion.values, limit,
                                   _terms(forward, layout, moves, opinion, slot),
                                   direction.base[slot], {
                                       layout.names[p]: t for p, t in zip(
                                           layout.wrt, direction.tangents, strict=True)})
            report.diagnosis = named or report.diagnosis
        reports.append(report)
    return JVPResult(arguments=reports, dtype=layout.dtype.name,
                     forward_name=getattr(forward, "__name__", repr(forward)),
                     backward_name=rule_name,
                     dout="given" if tangents is not None else f"random (seed {seed})",
                     warnings=warnings)
