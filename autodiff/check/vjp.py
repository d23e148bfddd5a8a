"""``check_vjp``: any hand-written backward pass against an oracle, with derived tolerances.

A user brings ``forward(*args) -> out`` and ``backward(dout, *args) -> grads`` (the contract is
in ``vjp_args``), or a CS231n pair ``layer_forward(*args) -> (out, cache)`` and
``layer_backward(dout, cache) -> grads`` through ``from_cache_style``. For each differentiable
argument the backward's gradient is compared with ``dout · ∂out/∂x`` from the most exact oracle
that works on the forward (``vjp_oracles``: ``jax.vjp``, the complex step, Ridders), every
oracle cross-checked element by element against the finite-difference scan of ``kinks`` —
which also finds inputs on kinks and the range of valid derivatives there — and a failure
against an exact oracle confirmed by Ridders. Tolerances come from ``vjp_tolerance``.
"""

from __future__ import annotations

import contextlib
import inspect

import numpy as np

from autodiff.check import vjp_oracles
from autodiff.check.kinks import Scan, scan_argument, tie_check
from autodiff.check.vjp_args import (
    Layout,
    as_gradients,
    as_outputs,
    degenerate_warnings,
    make_dout,
)
from autodiff.check.vjp_compare import Opinion, compare
from autodiff.check.vjp_diagnose import Context
from autodiff.check.vjp_probe import Probe
from autodiff.check.vjp_report import VJPResult
from autodiff.check.vjp_tolerance import rounding_bound, rounding_count

ORACLES = ("auto", "jax", "complex-step", "ridders")

__all__ = ["ORACLES", "VJPResult", "check_vjp", "from_cache_style"]


def from_cache_style(layer_forward, layer_backward):
    """``(forward, backward)`` for ``check_vjp`` from a CS231n pair: ``layer_forward(*args) ->
    (out, cache)`` and ``layer_backward(dout, cache) -> grads`` — or, for a step with several
    outputs, ``(out_1, …, out_k, cache)`` and ``layer_backward(dout_1, …, dout_k, cache)`` (the
    LSTM step's ``next_h, next_c, cache``). The backward reruns the forward for a fresh cache,
    so a backward that consumes its cache sees a new one each call."""
    name = getattr(layer_forward, "__name__", "layer_forward")

    def split(args):
        result = layer_forward(*args)
        if not (isinstance(result, tuple) and len(result) >= 2):
            raise TypeError(f"{name}: expected (out, cache) from a cache-style forward, got "
                            f"{type(result).__name__}")
        outs = result[:-1]
        return (outs[0] if len(outs) == 1 else tuple(outs)), result[-1]

    def forward(*args):
        return split(args)[0]

    def backward(dout, *args):
        out, cache = split(args)
        return layer_backward(*dout, cache) if isinstance(out, tuple) else layer_backward(
            dout, cache)

    forward.__name__ = getattr(layer_forward, "__name__", "forward")
    backward.__name__ = getattr(layer_backward, "__name__", "backward")
    with contextlib.suppress(TypeError, ValueError):  # builtins may have no signature
        forward.__signature__ = inspect.signature(layer_forward)

    def rebind(rebound):  # lets the JAX oracle run a NumPy layer_forward under jax.numpy
        inner = rebound(layer_forward)
        return None if inner is None else from_cache_style(inner, layer_backward)[0]

    forward.__vjp_rebind__ = rebind
    return forward, backward


def _gap(values, scan: Scan, bound) -> tuple[float, tuple | None]:
    """The largest disagreement of an exact oracle with the scan's estimate on smooth elements,
    and where it exceeds what the estimate's error allows (``None``: nowhere)."""
    usable = scan.scanned & scan.clean & ~scan.kink
    gap = np.where(usable, np.abs(values - scan.estimate), 0.0)
    allowed = 8 * scan.estimate_error + 4 * bound
    over = np.where(usable, gap / allowed, 0.0)
    worst = np.unravel_index(int(np.argmax(over)), over.shape) if over.size else ()
    bad = tuple(int(i) for i in worst) if over.size and over[worst] > 1 else None
    return float(np.max(gap, initial=0.0)), bad


def _opinion(probe: Probe, position: int, scan: Scan, bound64, jax_found, oracle: str):
    """The most exact opinion that passes validation, or the forced one; raises ValueError when
    a forced oracle cannot be used."""
    reasons = []
    everything = np.ones(scan.kink.shape, bool)
    if oracle in ("auto", "jax"):
        name, values, extra, reason = jax_found
        if values is not None:
            gap, bad = _gap(values, scan, bound64)
            if bad is None:
                return Opinion(name, values, everything, extra,
                               f"exact to rounding; agrees with finite differences element by "
                               f"element (largest gap {gap:.1e})", reasons)
            reason = f"{name} disagrees with finite differences at {bad}"
        reasons.append(reason)
    if oracle in ("auto", "complex-step"):
        try:
            values = vjp_oracles.complex_step(probe, position, scan.scanned)
            gap, bad = _gap(values, scan, bound64)
            if bad is None:
                return Opinion("complex step", values, scan.scanned, np.zeros(values.shape),
                               f"exact to rounding; agrees with finite differences element by "
                               f"element (largest gap {gap:.1e})", reasons)
            reasons.append(f"complex step disagrees with finite differences at {bad} (a "
                           "non-analytic operation: abs, np.var, .real?)")
        except vjp_oracles.OracleUnavailable as error:
            reasons.append(f"complex step: {error}")
    if oracle in ("auto", "ridders"):
        return _ridders(probe, position, scan, reasons)
    raise ValueError(f"oracle={oracle!r} cannot differentiate this forward: "
                     + "; ".join(reasons))


def _ridders(probe: Probe, position: int, scan: Scan, reasons: list[str]) -> Opinion:
    values, errors = vjp_oracles.ridders_gradient(probe, position, scan.scanned)
    relative = float(np.max(errors / np.maximum(np.abs(values), 1e-300), initial=0.0))
    return Opinion("ridders", values, scan.scanned, 2 * errors,
                   f"central differences extrapolated by Ridders' method: estimated error "
                   f"≤ {np.max(errors, initial=0.0):.1e} (relative {relative:.1e})", reasons)


def _jax(forward, layout: Layout, douts, reference, oracle: str):
    """``[(name, values, extra, reason)]`` per differentiable argument from ``jax.vjp``; in
    float32 ``extra`` is twice JAX's own float32 error at this point."""
    count = len(layout.wrt)
    if oracle not in ("auto", "jax"):
        return [(None, None, None, "")] * count
    try:
        name, grads = vjp_oracles.jax_gradients(forward, layout, douts, reference)
    except vjp_oracles.OracleUnavailable as error:
        return [(None, None, None, str(error))] * count
    extras = [np.zeros(g.shape) for g in grads]
    if layout.dtype == np.float32:
        try:
            _, grads32 = vjp_oracles.jax_gradients(forward, layout, douts, reference,
                                                   np.float32)
            extras = [2 * np.abs(g32 - g) for g32, g in zip(grads32, grads, strict=True)]
        except vjp_oracles.OracleUnavailable:
            pass
    return [(name, g, e, "") for g, e in zip(grads, extras, strict=True)]


def _contradicted(probe, position, got, opinion: Opinion, report, tolerance) -> bool:
    """Whether Ridders, at the worst element of a failure against an exact oracle, sides with
    the backward against the oracle (else the failure is confirmed, and ``trust`` says so)."""
    if report.passed or report.worst_index is None or report.worst_at_kink or got is None:
        return False
    if got.shape != opinion.values.shape or opinion.name == "ridders":
        return False
    mask = np.zeros(got.shape, bool)
    mask[report.worst_index] = True
    values, errors = vjp_oracles.ridders_gradient(probe, position, mask)
    j = report.worst_index
    allowed = 2 * errors[j] + tolerance[j]
    if abs(values[j] - got[j]) <= allowed < abs(values[j] - opinion.values[j]):
        return True
    opinion.trust += f"; Ridders confirms the value expected at {j} ({values[j]:.6g})"
    return False


def check_vjp(forward, backward, *args, dout=None, dtype=None, seed: int = 0, wrt=None,
              names=None, oracle: str = "auto", max_elements: int = 4096) -> VJPResult:
    """Check ``backward(dout, *args)`` against ``dout · ∂forward(*args)/∂args``.

    ``dtype`` ("float64"/"float32"; default: the first float argument's) is what the pair runs
    in; oracles run in float64 on the same values. ``dout`` defaults to a random normal one
    (``seed``). ``wrt`` gives the differentiable positions (default: every float array),
    ``names`` the arguments' names (default: the forward's parameters). ``oracle`` forces one of
    ``ORACLES``. Arguments larger than ``max_elements`` are scanned on a random sample.
    """
    if oracle not in ORACLES:
        raise ValueError(f"oracle: expected one of {ORACLES}, got {oracle!r}")
    layout = Layout.build(forward, args, wrt, dtype, names)
    rng = np.random.default_rng(seed)
    outputs, is_tuple = as_outputs(forward(*layout.call_args()))
    again, _ = as_outputs(forward(*layout.call_args()))
    if not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(outputs, again, strict=True)):
        raise ValueError("forward: two calls on the same arguments returned different outputs; "
                         "a random forward (dropout) needs its seed among the arguments")
    douts = make_dout(outputs, is_tuple, dout, layout.dtype, rng)
    warnings = degenerate_warnings(layout, douts, dout is not None)
    dout_arg = tuple(douts) if is_tuple else douts[0]
    grads, notes = as_gradients(backward(dout_arg, *layout.call_args()), layout)

    probe = Probe(forward, layout, douts)
    count = rounding_count([*layout.differentiable(), *douts])
    reference = [o for o in probe.base if o is not None]
    found = _jax(forward, layout, douts, reference, oracle)
    scans, opinions, tolerances = [], [], []
    for slot, position in enumerate(layout.wrt):
        scan = scan_argument(probe, position, max_elements, rng)
        bound64 = rounding_bound(scan, count, np.float64)
        opinion = _opinion(probe, position, scan, bound64, found[slot], oracle)
        scans.append(scan)
        opinions.append(opinion)
        tolerances.append(rounding_bound(scan, count, layout.dtype) + bound64 + opinion.extra)

    names_wrt = [layout.names[i] for i in layout.wrt]
    dims = {}  # every size a factor may be, named by its first appearance
    for name, value in [*zip(names_wrt, layout.differentiable(), strict=True),
                        *(("the output", o) for o in reference)]:
        for axis, size in enumerate(np.shape(value)):
            if size not in dims.values():
                dims[f"axis {axis} of {name}"] = size
    first = layout.differentiable()[0]
    batch = first.shape[0] if first.ndim else None
    reports = []
    for slot, position in enumerate(layout.wrt):
        others = {n: o.values for n, o in zip(names_wrt, opinions, strict=True)
                  if n != names_wrt[slot] and o.values.shape == opinions[slot].values.shape}
        context = Context(batch, dims, others, probe.douts)
        scan, opinion, tolerance = scans[slot], opinions[slot], tolerances[slot]
        tie = tie_check(probe, position, scan)

        def report_with(opinion, slot=slot, scan=scan, tolerance=tolerance, tie=tie,
                        context=context, position=position):
            return compare(names_wrt[slot], position, grads[slot], notes[slot], opinion,
                           scan, tolerance, context, tie)

        report = report_with(opinion)
        if _contradicted(probe, position, grads[slot], opinion, report, tolerance):
            # Ridders sides with the backward: the exact oracle is suspect, use Ridders.
            reason = f"{opinion.name} contradicted by Ridders at {report.worst_index}"
            ridders = _ridders(probe, position, scan, [reason])
            report = report_with(ridders, tolerance=tolerance - opinion.extra + ridders.extra)
        report.trust = report.trust if report.oracle == "ridders" else opinion.trust
        reports.append(report)
    return VJPResult(
        arguments=reports, dtype=layout.dtype.name,
        forward_name=getattr(forward, "__name__", repr(forward)),
        backward_name=getattr(backward, "__name__", repr(backward)),
        dout="given" if dout is not None else f"random (seed {seed})", warnings=warnings)
