"""``∇f`` as a forward for ``check_vjp``, with forward-over-reverse as its exact derivative.

For a scalar ``f(*args)`` the differentiable arguments' gradient ``g = ∇f`` is a function
whose VJP with cotangent ``v`` is ``Hᵀ v = H v`` (the Hessian of a twice-differentiable ``f``
is symmetric). ``gradient_forward`` returns ``g`` compiled, with a ``jax.custom_vjp`` whose
backward is ``jax.jvp`` of ``jax.grad`` at the point along ``v``: so the oracle ``check_vjp``
takes from ``jax.vjp`` is forward-over-reverse, the usual way to compute ``H v``, and the
finite-difference scan of ``g`` (differences of ``jax.grad``) checks it element by element.
Built ``g`` are kept between checks of the same ``f`` (``vjp.compiled``'s cache: same shapes,
dtype and other arguments' values), so that ``check_vjp``'s compiled oracle for ``g`` is too.
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np

from autodiff.check.vjp import compiled
from autodiff.check.vjp.oracles import rebound

FORWARD_OVER_REVERSE = "jax.jvp of jax.grad"


def _with(args: list, wrt: tuple[int, ...], diff) -> list:
    """``args`` with the values ``diff`` at the ``wrt`` positions."""
    values = list(args)
    for position, value in zip(wrt, diff, strict=True):
        values[position] = value
    return values


def _traceable(f, args, wrt):
    """``f`` itself if ``jax.grad`` traces it on ``args``, else ``f`` with ``numpy`` rebound to
    ``jax.numpy`` (``vjp.oracles.rebound``); a ValueError says why neither works."""
    import jax

    name = getattr(f, "__name__", repr(f))
    diff = [args[i] for i in wrt]
    reasons = []
    for candidate in (f, rebound(f)):
        if candidate is None:
            continue

        def on_args(*d, candidate=candidate):
            return candidate(*_with(args, wrt, d))

        try:
            out = jax.eval_shape(on_args, *diff)
            if getattr(out, "shape", None) != ():
                raise ValueError(f"f: {name} must return a scalar, got shape "
                                 f"{getattr(out, 'shape', type(out).__name__)}")
            jax.eval_shape(jax.grad(on_args, argnums=tuple(range(len(diff)))), *diff)
            return candidate
        except ValueError as error:
            if str(error).startswith("f: "):
                raise
            reasons.append(f"{type(error).__name__}: {str(error).splitlines()[0][:120]}")
        except Exception as error:  # any failure to trace means "not traceable"
            reasons.append(f"{type(error).__name__}: {str(error).splitlines()[0][:120]}")
    raise ValueError(f"f: JAX cannot differentiate {name} twice ({'; '.join(reasons)}); "
                     "check_hvp needs f written with jax.numpy, the array API, or NumPy that "
                     "runs with numpy swapped for jax.numpy")


def gradient_forward(f, args: list, wrt: tuple[int, ...]):
    """``(g, traced)``: ``g(*args) -> ∇f`` at the ``wrt`` positions (an array for one, a tuple
    for several), jitted, with the other arguments held at their values in ``args``; ``traced``
    is ``f`` as JAX runs it."""
    entry_key = compiled.key("hvp: grad", np.result_type(*(args[i] for i in wrt)), wrt, args,
                             [])
    entry = compiled.lookup(f, entry_key)
    if entry is None:
        entry = _build(f, args, wrt)
        compiled.store(f, entry_key, entry)
    forward, traced = entry
    return forward, (traced() if isinstance(traced, weakref.ref) else traced)


def _build(f, args: list, wrt: tuple[int, ...]):
    """``gradient_forward``'s pair, ``f`` itself held weakly (the cache's key)."""
    import jax

    traced = _traceable(f, args, wrt)
    if traced is f:
        with contextlib.suppress(TypeError):  # a callable object without weak references
            traced = weakref.ref(f)
    constants = list(args)

    def function():
        return traced() if isinstance(traced, weakref.ref) else traced

    def grad(*diff):
        return jax.grad(lambda *d: function()(*_with(constants, wrt, d)),
                        argnums=tuple(range(len(diff))))(*diff)

    @jax.custom_vjp
    def g(*diff):
        return grad(*diff)

    def g_forward(*diff):
        return g(*diff), diff

    def g_backward(diff, v):
        return jax.jvp(grad, diff, tuple(v))[1]

    g.defvjp(g_forward, g_backward)
    compiled = jax.jit(g)

    def forward(*values):
        out = compiled(*(values[i] for i in wrt))
        return tuple(out) if len(wrt) > 1 else out[0]

    def rebind(_):  # already JAX: the oracle must not swap numpy inside it
        return None

    forward.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    forward.__vjp_rebind__ = rebind
    return forward, traced


def as_numpy(result, count: int, who: str = "hvp"):
    """The user's ``hvp`` result as NumPy arrays in ``check_vjp``'s layout (a lone array for one
    argument), leaving anything unusable for ``check_vjp`` to report."""
    if count > 1 and isinstance(result, (tuple, list)):
        return tuple(_array(r) for r in result)
    if count == 1 and isinstance(result, (tuple, list)) and len(result) == 1:
        return _array(result[0])
    return _array(result)


def _array(value):
    try:
        return np.asarray(value)
    except (TypeError, ValueError):
        return value
