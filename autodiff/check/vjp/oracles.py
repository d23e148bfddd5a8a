"""Oracles for ``dout · ∂out/∂x`` of a user's forward, from most to least exact.

* ``jax_gradients``: ``jax.vjp`` of the forward run on ``jax.numpy`` arrays — directly for a
  forward written against the array API (``xp = x.__array_namespace__()``), else once more with
  the ``numpy`` module in its globals (and its same-module helpers') swapped for ``jax.numpy``:
  vectorized NumPy forwards then run under JAX too. Either way the JAX output must match the
  NumPy one, or the oracle is not used. Exact to rounding.
* ``complex_step``: ``Im φ(x + i·h·e_j) / h``, one complex evaluation per element, exact to
  rounding — but only for a forward that keeps the imaginary part. A complex value written into
  a real buffer (``np.zeros(shape)``, ``astype(float)``) loses it and looks like a zero
  derivative: NumPy's ComplexWarning is turned into an error here, real outputs are refused, and
  the caller validates the result against finite differences, which catches the silent cases
  (``abs``, ``np.var``, ``.real``).
* ``ridders_gradient``: Ridders' extrapolation of central differences, element by element, with
  its own error estimate. Works on any forward that is smooth within its first step of the
  point; steps that straddle a kink converge to the mean of the slopes on either side, with a
  small error estimate — ``opinions.ridders_checked`` guards against that.
"""

from __future__ import annotations

import copy
import types
import warnings
import weakref

import numpy as np

from autodiff.check.vjp import compiled
from autodiff.check.vjp.args import Layout
from autodiff.check.vjp.probe import Probe

COMPLEX_STEP = 1e-20  # times the element's scale: far below √u, far above underflow
RIDDERS_FIRST = 0.1   # Ridders' first step, times the element's scale, unless given
RIDDERS_STEPS = 10    # steps h, h/2, …, h/512
FAST_COMPILE = {"xla_backend_optimization_level": 0}
JAX_NAMES = ("jax.vjp", "jax.vjp (numpy rebound to jax.numpy)")


class OracleUnavailable(Exception):
    """This oracle cannot differentiate this forward; the message says why."""


# What the usual failures of NumPy code under JAX mean, in the user's terms.
_JAX_FAILURES = {
    "TracerArrayConversionError": "it converts its input to a NumPy array",
    "in-place item assignment": "it assigns into an array in place",
    "setting an array element with a sequence": "it writes into a NumPy buffer",
    "ConcretizationTypeError": "its Python control flow depends on input values",
}


def _first_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {str(error).strip()}"
    for marker, meaning in _JAX_FAILURES.items():
        if marker in text:
            return meaning
    return text.splitlines()[0][:120]


def rebound(function):
    """``function`` with ``numpy`` swapped for ``jax.numpy`` in its globals (and in the same
    module's functions it calls), or ``None`` when it does not use the ``numpy`` module."""
    hook = getattr(function, "__vjp_rebind__", None)
    if hook is not None:
        return hook(rebound)
    if not isinstance(function, types.FunctionType):
        return None
    old = function.__globals__
    if not any(value is np for value in old.values()):
        return None
    import jax.numpy as jnp

    new = dict(old)

    def copy_function(f):
        return types.FunctionType(f.__code__, new, f.__name__, f.__defaults__, f.__closure__)

    for name, value in old.items():
        if value is np:
            new[name] = jnp
        elif isinstance(value, types.FunctionType) and value.__globals__ is old:
            new[name] = copy_function(value)
    return copy_function(function)


def of_differentiable(function, layout: Layout):
    """``f(*diff) -> (float outputs)``: ``function`` (a callable, or a weak reference to one: see
    ``compiled``) of the differentiable arguments alone, the others held as constants."""
    import jax.numpy as jnp

    constants = layout.call_args()

    def f(*diff):
        args = copy.deepcopy(constants)
        for position, value in zip(layout.wrt, diff, strict=True):
            args[position] = value
        out = (function() if isinstance(function, weakref.ref) else function)(*args)
        outputs = [jnp.asarray(o) for o in (out if isinstance(out, (tuple, list)) else [out])]
        return tuple(o for o in outputs if jnp.issubdtype(o.dtype, jnp.inexact))

    return f


def _primal_and_grads(function, layout: Layout):
    """``(inputs, cotangents) -> (primal, grads)`` of ``function`` by ``jax.vjp`` (see
    ``of_differentiable``): the oracle's program, before it is compiled."""
    import jax

    f = of_differentiable(function, layout)

    def primal_and_grads(inputs, cotangents):
        primal, vjp = jax.vjp(f, *inputs)
        if len(primal) != len(cotangents):
            raise OracleUnavailable("its outputs under JAX differ in number from NumPy's")
        return primal, vjp(cotangents)

    return primal_and_grads


def _program(function, layout: Layout, dtype):
    """``jit`` of ``_primal_and_grads``."""
    import jax

    # One compiled program (eager JAX would compile every primitive separately), compiled for
    # speed of compiling: on a small layer compiling costs far more than running.
    return jax.jit(_primal_and_grads(function, layout), compiler_options=FAST_COMPILE)


def _arguments(layout: Layout, douts: list, dtype) -> tuple[list, tuple]:
    """``(inputs, cotangents)`` of the program, as NumPy arrays of ``dtype`` (its dispatch
    moves them faster than one ``device_put`` each)."""
    return ([np.asarray(v, dtype) for v in layout.differentiable()],
            tuple(np.asarray(d, dtype) for d in douts if d is not None))


def _run_jax(program, layout: Layout, douts: list, dtype) -> tuple[list, list]:
    import jax

    with jax.enable_x64(True):
        primal, grads = program(*_arguments(layout, douts, dtype))
        return ([np.asarray(p, np.float64) for p in primal],
                [np.asarray(g, np.float64) for g in grads])


def cached_program(forward, entry_key, mode: str, build, trial):
    """The compiled program of ``forward`` run as given (``mode`` "jax.vjp" or "jax.jvp") or
    rebound to ``jax.numpy``, from the cache of ``compiled`` under ``entry_key`` where it was
    built before: ``build(target)`` compiles it and ``trial(program)`` runs it once. Raises
    OracleUnavailable with the reason (remembered too) when it cannot be built."""
    entry = compiled.lookup(forward, entry_key)
    if entry is None:
        try:
            if mode in ("jax.vjp", "jax.jvp"):
                try:
                    target = weakref.ref(forward)
                except TypeError:
                    target = forward
            else:
                target = rebound(forward)
                if target is None:
                    raise OracleUnavailable("it does not use the numpy module")
            entry = build(target)
            trial(entry)  # traces and compiles, or fails
        except OracleUnavailable as error:
            entry = str(error)
        except Exception as error:  # any failure of the user's code under JAX: not usable
            entry = _first_line(error)
        compiled.store(forward, entry_key, entry)
    if isinstance(entry, str):
        raise OracleUnavailable(entry)
    return entry


def _cached_program(forward, mode: str, layout: Layout, douts: list, dtype):
    return cached_program(forward, compiled.key(mode, dtype, layout.wrt, layout.values, douts),
                          mode, lambda target: _program(target, layout, dtype),
                          lambda program: _run_jax(program, layout, douts, dtype))


def jax_gradients(forward, layout: Layout, douts: list, reference: list,
                  dtype=np.float64) -> tuple[str, list]:
    """``(name, [gradient per differentiable argument])`` by ``jax.vjp`` in ``dtype``.
    ``reference`` is the float64 NumPy output (float outputs only, in order), which the JAX
    output must reproduce. Raises OracleUnavailable with the reasons when neither way works."""
    reasons = []
    for name, label in zip(JAX_NAMES, ("jax.vjp", "rebound to jax.numpy"), strict=True):
        try:
            program = _cached_program(forward, label, layout, douts, dtype)
            outputs, grads = _run_jax(program, layout, douts, dtype)
        except OracleUnavailable as error:
            reasons.append(f"{label}: {error}")
            continue
        except Exception as error:  # the program fails on these values: not usable
            reasons.append(f"{label}: {_first_line(error)}")
            continue
        relative = 1e-8 if np.dtype(dtype) == np.float64 else 1e-3
        for out, ref in zip(outputs, reference, strict=True):
            scale = np.abs(ref) + float(np.max(np.abs(ref), initial=0.0))
            if out.shape != ref.shape or np.any(np.abs(out - ref) > relative * scale):
                reasons.append(f"{label}: its output differs from the NumPy forward's")
                break
        else:
            return name, grads
    raise OracleUnavailable("; ".join(reasons))


def jax_extended(forward, layout: Layout, douts: list, name: str) -> list | None:
    """``jax.vjp``'s gradients (oracle ``name``) by the very program it runs, evaluated in
    ``longdouble`` (``core.extended``), as float64, per differentiable argument; ``None``
    where ``longdouble`` is float64 or the program has a primitive without a rule there."""
    import jax

    from autodiff.core import extended

    function = forward if name == JAX_NAMES[0] else rebound(forward)
    if function is None or not extended.available():
        return None
    program = _primal_and_grads(function, layout)
    try:
        with jax.enable_x64(True):
            arguments = _arguments(layout, douts, np.float64)
            closed = jax.make_jaxpr(program)(*arguments)
            flat = extended.evaluate(closed, *jax.tree.leaves(arguments))
    except Exception:  # a primitive without a rule, or code JAX cannot trace: no answer
        return None
    # The outputs are the primal's, then one gradient per differentiable argument.
    return [np.asarray(g, np.float64) for g in flat[len(flat) - len(arguments[0]):]]


def complex_step(probe: Probe, position: int, mask: np.ndarray) -> np.ndarray:
    """``∂φ/∂x_j`` at the elements in ``mask`` (zeros elsewhere) by the complex step."""
    x = probe.value(position)
    scale = probe.scale(position)
    result = np.zeros(x.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        for j in np.flatnonzero(mask.ravel()):
            h = COMPLEX_STEP * max(abs(float(x.flat[j])), scale)
            moved = x.astype(np.complex128)
            moved.flat[j] += 1j * h
            try:
                outputs = probe.outputs(position, moved)
            except np.exceptions.ComplexWarning:
                raise OracleUnavailable(
                    "complex values cast to real (ComplexWarning): a real buffer "
                    "(np.zeros(shape), astype(float)) drops the imaginary part, which would "
                    "read as a zero derivative") from None
            except Exception as error:
                raise OracleUnavailable(f"the forward fails on complex input: "
                                        f"{_first_line(error)}") from None
            if any(o is not None and not np.iscomplexobj(o) for o in outputs) or len(
                    [o for o in outputs if o is not None]) == 0:
                raise OracleUnavailable("the forward returns real values for complex input: "
                                        "the imaginary part is dropped on the way")
            result[j] = float(probe.weigh(outputs).imag) / h
    return result.reshape(x.shape)


def ridders(psi, first_step: float, steps: int = RIDDERS_STEPS) -> tuple[float, float]:
    """``(ψ'(0), error estimate)`` by Ridders' method: central differences at steps
    ``first_step / 2^i`` extrapolated to zero in a Neville tableau; the entry whose change from
    its neighbours is smallest wins, and that change is its error estimate, plus the rounding
    of its smallest step (``psi(t)`` returns ``(value, rounding bound)``; extrapolation weights
    sum to less than 3 times it)."""
    best, error = np.nan, np.inf
    previous: list[float] = []
    h = first_step
    for _ in range(steps):
        (up, up_noise), (down, down_noise) = psi(h), psi(-h)
        noise = 3 * (up_noise + down_noise) / (2 * h)
        row = [(up - down) / (2 * h)]
        factor = 4.0
        for k in range(1, len(previous) + 1):
            row.append((factor * row[k - 1] - previous[k - 1]) / (factor - 1))
            change = max(abs(row[k] - row[k - 1]), abs(row[k] - previous[k - 1])) + noise
            if change <= error:
                best, error = row[k], change
            factor *= 4.0
        previous = row
        h /= 2
    return float(best), float(error)


def ridders_gradient(probe: Probe, position: int, mask: np.ndarray,
                     first_steps: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(∂φ/∂x_j, error estimate)`` by Ridders at the elements in ``mask`` (zeros elsewhere),
    starting from ``first_steps`` (per element, shaped like the argument; default
    ``RIDDERS_FIRST`` times the element's scale)."""
    x = probe.value(position)
    if first_steps is None:
        first_steps = RIDDERS_FIRST * np.maximum(np.abs(x), probe.scale(position))
    values, errors = np.zeros(x.size), np.zeros(x.size)
    for j in np.flatnonzero(mask.ravel()):
        step = float(first_steps.flat[j])

        def psi(t, j=j):
            moved = x.copy()
            moved.flat[j] += t
            differences = probe.differences(position, moved)
            return float(probe.weigh(differences).real), probe.noise(differences)

        values[j], errors[j] = ridders(psi, step)
    return values.reshape(x.shape), errors.reshape(x.shape)
