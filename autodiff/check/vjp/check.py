"""``check_vjp``: any hand-written backward pass against an oracle, with derived tolerances.

A user brings ``forward(*args) -> out`` and ``backward(dout, *args) -> grads`` (the contract is
in ``args``), or a CS231n pair ``layer_forward(*args) -> (out, cache)`` and
``layer_backward(dout, cache) -> grads`` through ``from_cache_style``. For each differentiable
argument the backward's gradient is compared with ``dout · ∂out/∂x`` from the most exact oracle
that works on the forward (``oracles``: ``jax.vjp``, the complex step, Ridders), every
oracle cross-checked element by element against the finite-difference scan of ``kinks`` —
which also finds inputs on kinks and the range of valid derivatives there, and ``ties``
the range of a tie's sum — and a failure against an exact oracle confirmed by Ridders.
Tolerances come from ``tolerance``.
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import replace

import numpy as np

from autodiff.check.vjp import oracles as vjp_oracles
from autodiff.check.vjp.args import (
    Layout,
    as_gradients,
    degenerate_warnings,
    dout_copy,
    forward_outputs,
    make_dout,
    unchecked_gradients,
    written_warnings,
)
from autodiff.check.vjp.compare import compare
from autodiff.check.vjp.diagnose import Context
from autodiff.check.vjp.kinks import scan_argument
from autodiff.check.vjp.opinions import (
    Spread,
    choose,
    contradicted,
    from_jax,
    ridders_opinion,
    scanned_opinion,
)
from autodiff.check.vjp.probe import Probe
from autodiff.check.vjp.report import VJPResult
from autodiff.check.vjp.rerun import Rerun, judged_again
from autodiff.check.vjp.sampling import coverage
from autodiff.check.vjp.ties import tie_check
from autodiff.check.vjp.tolerance import cancellation, rounding_bound, rounding_count

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
    backward.__vjp_reruns_forward__ = True
    forward.__vjp_cache_key__ = layer_forward  # its compiled oracle is layer_forward's
    return forward, backward


def _contexts(layout: Layout, names, opinions, reference, douts) -> list[Context]:
    """What each argument's diagnosis may refer to (see ``diagnose.Context``)."""
    dims = {}  # every size a factor may be, named by its first appearance
    for name, value in [*zip(names, layout.differentiable(), strict=True),
                        *(("the output", o) for o in reference)]:
        for axis, size in enumerate(np.shape(value)):
            if size not in dims.values():
                dims[f"axis {axis} of {name}"] = size
    first = layout.differentiable()[0]
    batch = first.shape[0] if first.ndim else None
    return [Context(batch, dims, {n: o.values for n, o in zip(names, opinions, strict=True)
                                  if n != name and o.values.shape == opinion.values.shape},
                    douts) for name, opinion in zip(names, opinions, strict=True)]


def _report(probe, name, position, got, note, scan, bound64, opinion, tolerance, context,
            spread, rerun):
    """One argument's report; a float32 failure against JAX is judged again with JAX's own
    float32 error added to the tolerance, a failure against an exact oracle with the
    backward's own rounding (``rerun.judged_again``), one against ``jax.vjp`` whose own
    rounding is a large share of the tolerance against its program run in ``longdouble``, and
    one still failing goes to Ridders (see ``opinions.contradicted``)."""
    ties = tie_check(probe, position, scan)

    def judge(values, tolerance):
        return compare(name, position, values, note, opinion, scan, tolerance, context, ties)

    report = judge(got, tolerance)
    if not report.passed and spread is not None and opinion.name in vjp_oracles.JAX_NAMES:
        extra = spread()
        if extra is not None:
            tolerance = tolerance + extra
            opinion = replace(opinion, extra=opinion.extra + extra,
                              trust=opinion.trust + "; tolerance widened by JAX's own float32 "
                              "error here")
            report = judge(got, tolerance)
    report, tolerance = judged_again(rerun, rerun.layout.wrt.index(position), report, judge, got,
                                     opinion, scan, bound64, tolerance)
    opinion = replace(opinion, trust=report.trust)
    if not report.passed and opinion.name in vjp_oracles.JAX_NAMES:
        exact = rerun.oracle_extended(rerun.layout.wrt.index(position), opinion.name)
        strays = None if exact is None else np.abs(exact - opinion.values)
        if strays is not None and np.any(strays > tolerance / 2):
            # jax.vjp's own float64 rounding is a large share of the tolerance somewhere (a
            # derivative rule cancelling inside): judge against its program run in longdouble.
            opinion = replace(opinion, values=exact, trust=(
                f"{report.trust}; its program rerun in longdouble differs from its float64 "
                f"answer by up to {float(np.max(strays)):.1e} (its own rounding): judged "
                "against the longdouble values"))
            report = judge(got, tolerance)
    if contradicted(probe, position, scan, bound64, got, opinion, report, tolerance):
        # Ridders sides with the backward: the exact oracle is suspect, use Ridders.
        reason = f"{opinion.name} contradicted by Ridders at {report.worst_index}"
        ridders = ridders_opinion(probe, position, scan, bound64, [reason])
        return compare(name, position, got, note, ridders, scan,
                       tolerance - opinion.extra + ridders.extra, context, ties)
    report.trust = opinion.trust
    return report


def _bounds(scan, count: int, dtype, cancelled, condition: float, opinion):
    """``(bound64, tolerance)`` of one argument with the cancellation in ``x − mean`` included
    (``tolerance.cancellation``: ``cancelled`` is the argument's own term, ``condition`` the
    largest ``κ`` of every argument's fully scanned slices)."""
    bound64 = rounding_bound(scan, count, np.float64, cancelled, condition)
    return bound64, rounding_bound(scan, count, dtype, cancelled, condition) + bound64 + (
        opinion.extra)


LOOSE = 1e-3  # a tolerance above this share of the gradient's size is worth a word


def _conditioning_warnings(names, cancelled, tolerances, opinions, dtype) -> list[str]:
    """A warning for each argument whose tolerance the cancellation in ``x − mean`` widened
    past ``LOOSE`` of its gradient's size: a mistake smaller than that passes here."""
    warnings = []
    for name, (own, kappa), tolerance, opinion in zip(names, cancelled, tolerances, opinions,
                                                      strict=True):
        checked = opinion.checked & (own > 0)
        scale = float(np.max(np.abs(opinion.values[opinion.checked]), initial=0.0))
        loose = float(np.max(tolerance[checked], initial=0.0))
        if scale > 0 and loose > LOOSE * scale:
            warnings.append(
                f"{name} is spread narrowly for its size (|x| over its spread up to "
                f"{kappa:.3g}, counting the slice's length): x − mean loses precision, and in "
                f"{dtype.name} the gradient is held only to {loose / scale:.1e} of its size "
                "here; check such inputs in float64, or spread them wider")
    return warnings


_DOUT_STREAM = 0x646F7574  # "dout": keeps the checker's draws apart from the user's seed


def check_vjp(forward, backward, *args, dout=None, dtype=None, seed: int = 0, wrt=None,
              names=None, oracle: str = "auto", max_elements: int = 4096) -> VJPResult:
    """Check ``backward(dout, *args)`` against ``dout · ∂forward(*args)/∂args``.

    ``dtype`` ("float64"/"float32"; default: the first float argument's) is what the pair runs
    in; oracles run in float64 on the same values. ``dout`` defaults to a random normal one
    (``seed``). ``wrt`` gives the differentiable positions (default: every float array),
    ``names`` the arguments' names (default: the forward's parameters). ``oracle`` forces one of
    ``ORACLES``. Finite differences scan every element up to ``max_elements`` (a random sample
    beyond), or where ``jax.vjp`` answers a sample widened where it matters
    (``opinions.scanned_opinion``); a failing argument is judged again on every element.
    """
    if oracle not in ORACLES:
        raise ValueError(f"oracle: expected one of {ORACLES}, got {oracle!r}")
    layout = Layout.build(forward, args, wrt, dtype, names)
    # Not default_rng(seed): users draw their inputs from that very stream (default_rng(0)),
    # and a dout equal to x hides mistakes (batch norm's exact dx vanishes for dout ∝ x).
    rng = np.random.default_rng([seed, _DOUT_STREAM])
    outputs, is_tuple, warnings = forward_outputs(forward, layout)
    douts = make_dout(outputs, is_tuple, dout, layout.dtype, rng)
    warnings += degenerate_warnings(layout, douts, dout is not None)
    dout_given, given = dout_copy(douts, is_tuple), layout.call_args()
    returned = backward(dout_given, *given)
    written = written_warnings("backward", layout, given, douts, dout_given)
    if getattr(backward, "__vjp_reruns_forward__", False):
        # A cache-style backward reruns the forward, whose writes were warned about above.
        written = [w for w in written if w.replace("backward", "forward", 1) not in warnings]
    warnings += written
    warnings += unchecked_gradients(returned, layout)
    grads, notes = as_gradients(returned, layout)

    probe = Probe(forward, layout, douts)
    count = rounding_count([*layout.differentiable(), *douts])
    reference = [o for o in probe.base if o is not None]
    found = from_jax(forward, layout, douts, reference, oracle)
    scans, bounds64, opinions, tolerances = map(list, zip(*(
        scanned_opinion(probe, position, found[slot], oracle, grads[slot], count, layout.dtype,
                        max_elements, rng) for slot, position in enumerate(layout.wrt)),
        strict=True))
    cancelled = [cancellation(probe, position, scan)
                 for scan, position in zip(scans, layout.wrt, strict=True)]
    condition = max(kappa for _, kappa in cancelled)
    for slot in range(len(scans)):
        bounds64[slot], tolerances[slot] = _bounds(scans[slot], count, layout.dtype,
                                                   cancelled[slot][0], condition,
                                                   opinions[slot])

    wrt_names = [layout.names[i] for i in layout.wrt]
    warnings += _conditioning_warnings(wrt_names, cancelled, tolerances, opinions, layout.dtype)
    contexts = _contexts(layout, wrt_names, opinions, reference, probe.douts)
    spread = Spread(forward, layout, douts, reference) if layout.dtype == np.float32 else None
    rerun = Rerun(forward, backward, layout, douts, is_tuple, rng)
    reports = [_report(probe, wrt_names[slot], position, grads[slot], notes[slot], scans[slot],
                       bounds64[slot], opinions[slot], tolerances[slot], contexts[slot],
                       spread and (lambda slot=slot: spread.of(slot)), rerun)
               for slot, position in enumerate(layout.wrt)]
    for slot, position in enumerate(layout.wrt):
        if not reports[slot].passed and scans[slot].sampled:  # judged on every element
            scan = scan_argument(probe, position, max_elements, rng, previous=scans[slot])
            bound64 = rounding_bound(scan, count, np.float64)
            opinion = choose(probe, position, scan, bound64, found[slot], oracle)
            opinion.trust += f"; {coverage(scan)}"
            own, kappa = cancellation(probe, position, scan)
            bound64, tolerance = _bounds(scan, count, layout.dtype, own,
                                         max(condition, kappa), opinion)
            reports[slot] = _report(
                probe, wrt_names[slot], position, grads[slot], notes[slot], scan, bound64,
                opinion, tolerance, contexts[slot],
                spread and (lambda slot=slot: spread.of(slot)), rerun)
    return VJPResult(
        arguments=reports, dtype=layout.dtype.name,
        forward_name=getattr(forward, "__name__", repr(forward)),
        backward_name=getattr(backward, "__name__", repr(backward)),
        dout="given" if dout is not None else f"random (seed {seed})", warnings=warnings)
