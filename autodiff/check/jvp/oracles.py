"""Oracles for ``J·t`` of a user's forward, from most to least exact, each validated.

* ``jax.jvp`` of the forward, run as given or with ``numpy`` rebound to ``jax.numpy``
  (``vjp.oracles.rebound``), compiled once and kept in ``vjp.compiled``'s cache; its primal
  output must reproduce the NumPy one.
* The complex step along ``t``: ``Im g(i·η) / η``, one complex evaluation for every output.
* Ridders along ``t``: central differences of ``g`` extrapolated in a Neville tableau; the
  evaluations are shared by every output element, so it costs twenty forward calls in all.

As in ``check_vjp``, an exact oracle is used only after it agrees with the scan's estimate on
every smooth element (``vjp.opinions._gap``'s allowance); Ridders is held to the scan too and
rerun from the scan's own step where it is not.
"""

from __future__ import annotations

import warnings

import numpy as np

from autodiff.check.jvp.direction import Direction
from autodiff.check.vjp import compiled
from autodiff.check.vjp.compare import Opinion
from autodiff.check.vjp.kinks import Scan
from autodiff.check.vjp.oracles import (
    COMPLEX_STEP,
    FAST_COMPILE,
    RIDDERS_FIRST,
    RIDDERS_STEPS,
    OracleUnavailable,
    _first_line,
    cached_program,
    of_differentiable,
)

JAX_NAMES = ("jax.jvp", "jax.jvp (numpy rebound to jax.numpy)")


def _program(function, layout):
    """``jit((inputs, tangents) -> (primal, J·t))`` of ``function`` (see
    ``vjp.oracles.of_differentiable``)."""
    import jax

    f = of_differentiable(function, layout)

    def primal_and_tangents(inputs, tangents):
        return jax.jvp(f, tuple(inputs), tuple(tangents))

    return jax.jit(primal_and_tangents, compiler_options=FAST_COMPILE)


def _run(program, layout, tangents) -> tuple[list, list]:
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(True):
        inputs = [jnp.asarray(v, np.float64) for v in layout.differentiable()]
        moves = [jnp.asarray(t, np.float64) for t in tangents]
        primal, tangent = program(inputs, moves)
        return ([np.asarray(p, np.float64) for p in primal],
                [np.asarray(t, np.float64) for t in tangent])


def _cached(forward, label: str, layout):
    zeros = [np.zeros(np.shape(v)) for v in layout.differentiable()]
    return cached_program(forward, compiled.key(label, np.float64, layout.wrt, layout.values, []),
                          label, lambda target: _program(target, layout),
                          lambda program: _run(program, layout, zeros))


def jax_tangents(forward, direction: Direction) -> tuple[str, list]:
    """``(name, [J·t per float output])`` by ``jax.jvp`` in float64; raises OracleUnavailable
    with the reasons when neither way works or its output differs from the NumPy one."""
    reasons = []
    reference = [b for b in direction.base if b is not None]
    for name, label in zip(JAX_NAMES, ("jax.jvp", "rebound to jax.numpy"), strict=True):
        try:
            program = _cached(forward, label, direction.layout)
            outputs, tangents = _run(program, direction.layout, direction.tangents)
        except OracleUnavailable as error:
            reasons.append(f"{label}: {error}")
            continue
        except Exception as error:  # the program fails on these values: not usable
            reasons.append(f"{label}: {_first_line(error)}")
            continue
        if len(outputs) != len(reference) or any(
                o.shape != r.shape or np.any(np.abs(o - r) > 1e-8 * (
                    np.abs(r) + float(np.max(np.abs(r), initial=0.0))))
                for o, r in zip(outputs, reference, strict=True)):
            reasons.append(f"{label}: its output differs from the NumPy forward's")
            continue
        return name, tangents
    raise OracleUnavailable("; ".join(reasons))


def complex_step(direction: Direction) -> list:
    """``J·t`` per float output by one complex evaluation along ``t``."""
    eta = COMPLEX_STEP * direction.scale
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        try:
            outputs = direction.outputs(1j * eta)
        except np.exceptions.ComplexWarning:
            raise OracleUnavailable("complex values cast to real (ComplexWarning): a real "
                                    "buffer drops the imaginary part") from None
        except Exception as error:
            raise OracleUnavailable(f"the forward fails on complex input: "
                                    f"{_first_line(error)}") from None
    if any(o is not None and not np.iscomplexobj(o) for o in outputs):
        raise OracleUnavailable("the forward returns real values for complex input: the "
                                "imaginary part is dropped on the way")
    return [None if o is None else np.imag(o) / eta for o in outputs]


def ridders(direction: Direction, first: float) -> tuple[list, list]:
    """``(J·t, error estimate)`` per float output by Ridders' method along ``t`` from the
    step ``first``; the tableau runs element-wise on whole outputs."""
    values, errors = [], []
    cache = {}

    def central(h):
        if h not in cache:
            up, down = direction.differences(h), direction.differences(-h)
            cache[h] = [None if u is None else (u - d) / (2 * h) for u, d in zip(up, down,
                                                                              strict=True)]
        return cache[h]

    for slot, base in enumerate(direction.base):
        if base is None:
            values.append(None)
            errors.append(None)
            continue
        noise = 3 * 2 * direction.noise(slot)
        best, error = np.full(base.shape, np.nan), np.full(base.shape, np.inf)
        previous, h = [], first
        for _ in range(RIDDERS_STEPS):
            row, factor = [central(h)[slot]], 4.0
            for k in range(1, len(previous) + 1):
                row.append((factor * row[k - 1] - previous[k - 1]) / (factor - 1))
                change = np.maximum(np.abs(row[k] - row[k - 1]),
                                    np.abs(row[k] - previous[k - 1])) + noise / (2 * h)
                better = change <= error
                best, error = np.where(better, row[k], best), np.where(better, change, error)
                factor *= 4.0
            previous, h = row, h / 2
        values.append(best)
        errors.append(error)
    return values, errors


def _agrees(values, scan: Scan, bound, error=0.0) -> tuple[float, tuple | None]:
    """The largest gap to the scan's estimate on smooth elements, and where it exceeds what
    the estimate's error allows (``None``: nowhere)."""
    usable = scan.clean & ~scan.kink
    gap = np.where(usable, np.abs(values - scan.estimate), 0.0)
    over = np.where(usable, gap / (8 * scan.estimate_error + 4 * bound + 2 * error), 0.0)
    worst = np.unravel_index(int(np.argmax(over)), over.shape) if over.size else ()
    bad = tuple(int(i) for i in worst) if over.size and over[worst] > 1 else None
    return float(np.max(gap, initial=0.0)), bad


def choose(direction: Direction, scans: list, bounds: list, jax_found, oracle: str) -> list:
    """One ``Opinion`` per float output (``None`` elsewhere): the most exact oracle that agrees
    with the scan on every output, or the forced one (ValueError when it cannot be used)."""
    reasons, slots = [], [i for i, s in enumerate(scans) if s is not None]

    def validated(name, values, trust):
        gaps = [_agrees(values[i], scans[i], bounds[i]) for i in slots]
        bad = next(((i, where) for i, (_, where) in zip(slots, gaps, strict=True)
                    if where is not None), None)
        if bad is not None:
            reasons.append(f"{name} disagrees with finite differences at output {bad[0]} "
                           f"{bad[1]}")
            return None
        largest = max((gap for gap, _ in gaps), default=0.0)
        return [None if s is None else Opinion(
            name, values[i], np.ones(s.kink.shape, bool), np.zeros(s.kink.shape),
            f"{trust}; agrees with finite differences along the tangent element by element "
            f"(largest gap {largest:.1e})", reasons) for i, s in enumerate(scans)]

    if oracle in ("auto", "jax"):
        name, values, reason = jax_found
        found = validated(name, values, "exact to rounding") if values is not None else None
        if found is not None:
            return found
        if values is None:
            reasons.append(reason)
    if oracle in ("auto", "complex-step"):
        try:
            found = validated("complex step", complex_step(direction), "exact to rounding")
            if found is not None:
                return found
        except OracleUnavailable as error:
            reasons.append(f"complex step: {error}")
    if oracle in ("auto", "ridders"):
        values, errors = ridders(direction, RIDDERS_FIRST * direction.scale)
        for i in slots:  # long steps may straddle a kink the scan did not see: rerun short
            _, bad = _agrees(values[i], scans[i], bounds[i], errors[i])
            if bad is not None:
                short, short_errors = ridders(direction, scans[i].step.flat[0])
                values[i], errors[i] = short[i], short_errors[i]
        largest = max((float(np.max(errors[i], initial=0.0)) for i in slots), default=0.0)
        return [None if s is None else Opinion(
            "ridders", values[i], np.ones(s.kink.shape, bool), 2 * errors[i],
            f"central differences along the tangent extrapolated by Ridders' method: "
            f"estimated error ≤ {largest:.1e}", reasons) for i, s in enumerate(scans)]
    raise ValueError(f"oracle={oracle!r} cannot differentiate this forward: "
                     + "; ".join(reasons))


def ask(forward, direction: Direction, name: str) -> list | None:
    """``J·t`` per output (``None`` elsewhere) from the oracle called ``name`` at another
    point or direction, unvalidated (for diagnoses and sensitivities); ``None`` when it does
    not answer there."""
    try:
        if name in JAX_NAMES:
            values = iter(jax_tangents(forward, direction)[1])
            return [None if b is None else next(values) for b in direction.base]
        if name == "complex step":
            return complex_step(direction)
        return ridders(direction, RIDDERS_FIRST * direction.scale)[0]
    except OracleUnavailable:
        return None
