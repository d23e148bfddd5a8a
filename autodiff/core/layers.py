"""The JAX twin of ``reference.layers``: ``jax.vjp`` of a layer and ``jax.grad`` of a stack,
each with a bound on its own rounding error.

There is no second copy of any forward here. A ``reference.layers`` forward is written against
the array API, so handing it JAX arrays makes JAX trace — and differentiate — the very code
that NumPy runs. What this module adds is the plumbing: which arguments are differentiable
(the floating ones), the ``jax.enable_x64`` scope, compiled functions reused across calls, and,
next to every gradient, the first-order running-error bound of its computation
(``autodiff.core.running_error``), in units of the unit roundoff: multiplied by the ``u`` of a
dtype, it bounds how far the same computation done in that dtype can be from the exact one.

Checks compile once per layer (or stack), options and shapes and then run once, so they are
compiled with XLA's cheap settings (``CHECK_COMPILER_OPTIONS``): about 40% less compile time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from autodiff.core import running_error
from reference.layers import stack as stacks

CHECK_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0,
                          "xla_llvm_disable_expensive_passes": True}


@functools.cache
def _compiler_options() -> tuple:
    """``CHECK_COMPILER_OPTIONS`` if this backend accepts them, else none."""
    import jax

    try:
        jax.jit(lambda v: v + 1, compiler_options=CHECK_COMPILER_OPTIONS).lower(1.0).compile()
    except Exception:  # an XLA build without these flags: compile as usual
        return ()
    return tuple(CHECK_COMPILER_OPTIONS.items())


def _jit(function):
    import jax

    return jax.jit(function, compiler_options=dict(_compiler_options()))


def is_differentiable(value) -> bool:
    """Floating arrays get gradients; integer ids, labels and boolean masks do not."""
    return hasattr(value, "dtype") and np.issubdtype(np.asarray(value).dtype, np.floating)


def cast(tree, dtype):
    """Every floating array in ``tree`` (arrays, tuples, lists) cast to ``dtype``; others kept."""
    if isinstance(tree, (tuple, list)):
        return type(tree)(cast(item, dtype) for item in tree)
    return np.asarray(tree, dtype) if is_differentiable(tree) else tree


def bounded(function):
    """``function`` (of JAX arrays) returning ``(outputs, bounds)``: its outputs, and for each
    floating leaf the running-error bound of computing it, in units of u."""
    import jax

    def run(*args):
        closed, shape = jax.make_jaxpr(function, return_shape=True)(*args)
        outs, bounds = running_error.evaluate(closed, *jax.tree.leaves(args))
        treedef = jax.tree.structure(shape)
        return jax.tree.unflatten(treedef, outs), jax.tree.unflatten(treedef, bounds)

    return run


def _pullback(forward: Callable, options: dict, mask: tuple[bool, ...]):
    """``(floats, others, dout) -> grads``: ``jax.vjp`` with respect to the floating arguments;
    the others (``mask`` says which is which, in argument order) pass through."""
    import jax

    def pullback(floats, others, dout):
        def f(*fl):
            floats_it, others_it = iter(fl), iter(others)
            args = [next(floats_it) if m else next(others_it) for m in mask]
            return forward(*args, **options)
        out, pull = jax.vjp(f, *floats)
        # constants the forward closes over may promote float32 arguments' output to float64
        return pull(jax.tree.map(lambda d, o: d.astype(o.dtype), dout, out))

    return pullback


@functools.lru_cache(maxsize=512)
def _compiled_vjp(forward: Callable, options: tuple, mask: tuple[bool, ...]):
    return _jit(bounded(_pullback(forward, dict(options), mask)))


def _split(args, mask):
    return ([np.asarray(a) for a, m in zip(args, mask, strict=True) if m],
            [a for a, m in zip(args, mask, strict=True) if not m])


def vjp_bounded(forward: Callable, args: tuple, dout, options: dict | None = None):
    """``(grads, bounds)``: ``jax.vjp`` of ``forward(*args, **options)`` at ``args`` applied to
    ``dout``, in float64, one array per floating argument, and each one's running-error bound
    in units of u. ``dout`` is an array, or a tuple for a tuple output. Options that cannot key
    a cache (a dict of running statistics) run uncompiled."""
    import jax
    import jax.numpy as jnp

    options = options or {}
    mask = tuple(is_differentiable(a) for a in args)
    floats, others = _split(cast(args, np.float64), mask)
    try:
        key = tuple(sorted(options.items()))
        hash(key)
    except TypeError:
        key = None
    with jax.enable_x64(True):
        dout = jax.tree.map(jnp.asarray, cast(dout, np.float64))
        if key is None:
            grads, bounds = bounded(_pullback(forward, options, mask))(floats, others, dout)
        else:
            grads, bounds = _compiled_vjp(forward, key, mask)(floats, others, dout)
        return (tuple(np.asarray(g) for g in grads), tuple(np.asarray(b) for b in bounds))


def vjp(forward: Callable, args: tuple, dout, options: dict | None = None):
    """``jax.vjp`` of ``forward`` in float64, without the bounds (see ``vjp_bounded``)."""
    return vjp_bounded(forward, args, dout, options)[0]


def takes_gradient(stack: stacks.Stack) -> bool:
    """Whether the stack's input is differentiable (not for token ids)."""
    return stack.body[0][0].role.input_grad if stack.body else True


@functools.lru_cache(maxsize=64)
def _compiled_stack(stack: stacks.Stack):
    import jax
    import jax.numpy as jnp

    def loss_with_offsets(params, x, offsets, target):
        # Zero offsets added to every layer's output: their gradients are ∂loss/∂a_l.
        a = x
        for (layer, options), p, offset in zip(stack.body, params, offsets, strict=True):
            a = layer.stack_forward(a, tuple(p), options) + offset
        return stack.loss_layer.forward(a, target)

    def grads(params, x, target):
        offsets = [jnp.zeros_like(a) for a in stacks.outputs(stack, params, x)[1:]]
        argnums = (0, 1, 2) if takes_gradient(stack) else (0, 2)
        value, found = jax.value_and_grad(loss_with_offsets, argnums)(params, x, offsets, target)
        dparams, *dx, upstream = found
        return value, dparams, dx[0] if dx else None, upstream

    return _jit(bounded(grads))


def stack_grads(stack: stacks.Stack, params, x, target):
    """``(truth, bounds)``: ``truth = (loss, dparams, dx, upstream)`` — the stack's loss,
    ``jax.grad`` with respect to its params (shaped like them) and its input (``None`` for token
    ids), and ``upstream[l] = ∂loss/∂a_l`` at every layer's output, in float64 — and ``bounds``,
    the running-error bound of each (in units of u), in the same structure."""
    import jax

    inputs = ([tuple(np.asarray(p) for p in layer) for layer in cast(params, np.float64)],
              cast(x, np.float64), cast(target, np.float64))
    with jax.enable_x64(True):
        result = _compiled_stack(stack)(*inputs)
        return tuple(_to_numpy(answer) for answer in result)


def _to_numpy(answer):
    value, dparams, dx, upstream = answer
    return (float(value), [tuple(np.asarray(g) for g in layer) for layer in dparams],
            None if dx is None else np.asarray(dx), [np.asarray(u) for u in upstream])


def _layer_forward(layer, options: dict):
    return lambda a, *params: layer.stack_forward(a, params, options)


@functools.lru_cache(maxsize=64)
def _compiled_locals(stack: stacks.Stack, masks: tuple[tuple[bool, ...], ...]):
    forwards = [_layer_forward(layer, options) for layer, options in stack.body]
    forwards.append(stack.loss_layer.forward)
    pullbacks = [bounded(_pullback(f, {}, mask)) for f, mask in zip(forwards, masks, strict=True)]

    def run(floats, douts, others):
        return [pull(f, o, d) for pull, f, d, o in zip(pullbacks, floats, douts, others,
                                                       strict=True)]

    return _jit(run)


def layer_grads(stack: stacks.Stack, activations: list, params, upstream: list, target):
    """For each layer of the stack, then the loss: ``(grads, bounds)`` of ``jax.vjp`` of that
    layer alone at its inputs (``activations[l]`` and its params; the last activation and the
    target for the loss), fed ``upstream[l]`` (1 for the loss) — one compiled call in all."""
    import jax
    import jax.numpy as jnp

    calls = [(activations[l], *params[l]) for l in range(len(stack.body))]
    calls.append((activations[-1], target))
    masks = tuple(tuple(is_differentiable(a) for a in args) for args in calls)
    split = [_split(cast(args, np.float64), m) for args, m in zip(calls, masks, strict=True)]
    with jax.enable_x64(True):
        douts = [jnp.asarray(d, jnp.float64) for d in [*upstream, np.ones(())]]
        result = _compiled_locals(stack, masks)([f for f, _ in split], douts,
                                                [o for _, o in split])
        return [tuple(tuple(np.asarray(g) for g in part) for part in pair) for pair in result]


@functools.lru_cache(maxsize=64)
def _compiled_sides(forward: Callable, n_params: int):
    import jax
    import jax.numpy as jnp

    def sides(a, params, dout, steps):
        def local(x):  # ⟨dout, forward(x)⟩: its gradient is the layer's vjp at x
            return jnp.vdot(dout, forward(x, *params))
        grad = jax.grad(local)
        flat_steps = steps.reshape(-1)
        n = flat_steps.size

        def side(sign):
            def at(i):  # the i-th partial derivative at x = a ± step_i · e_i
                bump = jnp.zeros(n, a.dtype).at[i].set(sign * flat_steps[i]).reshape(a.shape)
                return grad(a + bump).reshape(-1)[i]
            return jax.lax.map(at, jnp.arange(n)).reshape(a.shape)

        return side(1.0), side(-1.0)

    return _jit(sides)


def one_sided(forward: Callable, a, params: tuple, dout, relative_step: float = 1e-9):
    """``(right, left)``: for every element ``a_i`` of the input, the partial derivative of
    ``⟨dout, forward(a, *params)⟩`` with respect to ``a_i`` just right and just left of ``a``
    (``a_i ± relative_step · (1 + |a_i|)``), in float64. Where they differ, ``a_i`` sits on a
    kink — a tie in a max, a ReLU at 0 — and any value between them is a valid derivative."""
    import jax

    a64 = np.asarray(a, np.float64)
    steps = relative_step * (1 + np.abs(a64))
    with jax.enable_x64(True):
        right, left = _compiled_sides(forward, len(params))(
            a64, tuple(cast(tuple(params), np.float64)), np.asarray(dout, np.float64), steps)
        return np.asarray(right), np.asarray(left)
