"""A stack's hand gradients against ``jax.grad``, and the first wrong layer found by feeding
each layer's hand backward the true upstream gradient.

``check_stack`` runs the stack's hand forward and backward (``reference.layers.stack``) in the
checked dtype and compares every parameter gradient, and the input's, with ``jax.grad`` of the
same forward code (``autodiff.core.layers``), within the rounding-probe tolerance of
``autodiff.check.layers.check``. Then, layer by layer from the loss down, it hands each layer's
own backward the *true* gradient at its output (``jax.vjp`` of everything above it) at its
inputs, and compares what comes out with ``jax.vjp`` of that layer alone. A correct layer
passes this whatever the layers above it do wrong, so the first one that fails, walking down
from the loss, is where the hand backprop first goes wrong.
"""

from __future__ import annotations

import functools

import numpy as np

from autodiff.check.layers.check import (
    compare,
    compare_all,
    diagnose,
    examples,
    tolerance,
)
from autodiff.check.layers.kinks import excuse_kinks
from autodiff.check.layers.report import LayerResult, StackResult
from autodiff.core.inputs import resolve_dtype
from autodiff.core.layers import cast, layer_grads, stack_grads, takes_gradient
from reference.layers import LAYERS, Layer, Stack
from reference.layers import stack as stacks
from reference.layers.catalog import IDS, IMAGES


@functools.lru_cache(maxsize=256)
def _layer_in_stack(name: str, options: tuple):
    """``f(a, *params)``: a layer as the stack calls it (one function per layer and options,
    so that its compiled derivatives are reused)."""
    layer = LAYERS[name]

    def forward(a, *params):
        return layer.stack_forward(a, params, dict(options))

    return forward


def param_names(layer: Layer, n_params: int) -> tuple[str, ...]:
    """The names of a layer's ``n_params`` parameters in a stack (the arguments after its input)."""
    return (layer.grads[1:] if layer.role.input_grad else layer.grads)[:n_params]


def _name_of(function, default: str = "hand") -> str:
    return getattr(function, "__name__", default) if function is not None else default


def _local(index, stack, activations, params, upstream, target, backwards, dtype,
           truth, bounds) -> LayerResult:
    """Layer ``index``'s hand backward, fed the true ``upstream``, against ``jax.vjp`` of it."""
    name, options = stack.layers[index]
    layer = LAYERS[name]
    replacement = backwards.get(index, backwards.get(name))
    if layer.kind == "loss":
        hand = (replacement or layer.backward)(np.ones((), dtype), activations[-1], target)
        names = tuple(f"d{g}" for g in layer.grads)
    else:
        hand = layer.stack_backward(upstream, activations[index],
                                    tuple(params[index]), dict(options), replacement)
        names = (("dinput",) if layer.role.input_grad else ()) + tuple(
            f"d{g}" for g in param_names(layer, len(params[index])))
    blocks = compare_all(names, hand, truth, bounds, dtype)
    if (layer.kind != "loss" and layer.role.input_grad and blocks[0].status == "fail"
            and not blocks[0].note):
        # differs only at a kink (a max-pool tie among ReLU zeros): a valid derivative there
        blocks[0] = excuse_kinks(blocks[0], _layer_in_stack(name, options), activations[index],
                                 tuple(params[index]), upstream, hand[0], truth[0],
                                 tolerance(bounds[0], dtype))
    if layer.kind == "loss":
        def run(backward):
            return backward(np.ones((), dtype), activations[-1], target)
    else:
        def run(backward):
            return layer.stack_backward(upstream, activations[index], tuple(params[index]),
                                        dict(options), backward)
    hand = tuple(hand) if isinstance(hand, (tuple, list)) else (hand,)
    found = diagnose(layer, blocks, hand, truth, bounds, dtype, run,
                     examples(layer, activations[index] if layer.kind != "loss"
                              else activations[-1]))
    return LayerResult(name, blocks, dtype.name, _name_of(replacement), index + 1,
                       diagnosis=found)


def check_stack(stack: Stack | str, params=None, x=None, target=None, *, backwards=None,
                dtype=None, seed: int = 0, scale: float = 1.0) -> StackResult:
    """Check the hand gradients of ``stack`` (a ``Stack`` or its text) against ``jax.grad``.

    Without ``params``, ``x`` and ``target``, they are drawn from ``seed`` (weights times
    ``scale``). ``backwards`` maps layer names (or 0-based indices) to replacement backwards,
    as ``reference.layers.gradients`` takes them. ``dtype`` defaults to float64.
    """
    stack = Stack.parse(stack) if isinstance(stack, str) else stack
    dtype = resolve_dtype(dtype or "float64")
    backwards = backwards or {}
    if params is None:
        params, x, target = stacks.init(stack, seed, dtype, scale)
    params = [cast(tuple(p), dtype) for p in params]
    x, target = cast(x, dtype), cast(target, dtype)

    activations = stacks.outputs(stack, params, x)
    hand, hand_upstream = stacks.backward(stack, params, activations, target, backwards)
    (loss, truth, truth_dx, upstream), (_, bounds, bound_dx, _) = stack_grads(
        stack, params, x, target)

    blocks = []
    for index, (layer, _) in enumerate(stack.body):
        names = param_names(layer, len(params[index]))
        for pname, h, t, b in zip(names, hand[index], truth[index], bounds[index], strict=True):
            blocks.append(compare(f"{index + 1}:{layer.name}.{pname}", h, t, b, dtype))
    if takes_gradient(stack):
        first, options = stack.body[0]
        replacement = backwards.get(0, backwards.get(first.name))
        hand_dx = first.stack_backward(hand_upstream[0], x, tuple(params[0]), options,
                                       replacement)[0]
        blocks.append(compare("input", hand_dx, truth_dx, bound_dx, dtype))

    # Each layer's hand backward gets the true upstream gradient rounded to the dtype, and so
    # does its jax.vjp: both see the same numbers.
    upstream = [cast(u, dtype) for u in upstream]
    local = layer_grads(stack, activations, params, upstream, target)
    upstream = [*upstream, None]  # the loss is fed dloss = 1
    layers = [_local(index, stack, activations, params, upstream[index], target, backwards,
                     dtype, *local[index])
              for index in reversed(range(len(stack.layers)))]
    replaced = sorted({_name_of(b) for b in backwards.values()})
    return StackResult(stack.describe(), blocks, layers, dtype.name, loss,
                       ", ".join(replaced) or "hand")


def stack_around(name: str, options: dict | None = None) -> Stack:
    """A small stack with layer ``name`` in its middle, where a mistake in its backward shows in
    the gradients of the layers below and above it: dense layers around a layer that takes
    columns, convolutions around one that takes images, a dense layer below a loss."""
    if name not in LAYERS:
        raise ValueError(f"layer: unknown name {name!r}; expected one of {list(LAYERS)}")
    layer = LAYERS[name]
    item = (name, dict(options or {}))
    if layer.kind == "loss":
        return Stack.build(["dense", "tanh", ("dense", {"units": 3}), item])
    if layer.role.takes == IDS:
        return Stack.build([item, "tanh", ("dense", {"units": 3}), "softmax_cross_entropy"])
    if layer.role.takes == IMAGES:
        return Stack.build([("conv2d", {"filters": 3}), "tanh", item, ("dense", {"units": 3}),
                            "softmax_cross_entropy"])
    return Stack.build(["dense", "tanh", item, ("dense", {"units": 3}), "squared_error"])
