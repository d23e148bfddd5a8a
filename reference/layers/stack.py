"""Networks as any stack of catalogue layers ending in a loss, and their hand-derived gradients.

A ``Stack`` is a sequence of layers with their options, from an input shape to a loss;
``params`` is a list with one tuple per layer before the loss (empty for a layer without
parameters), in the order its forward takes them after the input. The forward of a stack
(``outputs``, ``loss``) is written against the array API like its layers, so JAX differentiates
the very same code; ``gradients`` is the hand backward: the loss's backward, then each
layer's, from the top down, every layer handing its input gradient to the one below.

Shapes are inferred from the input: an image batch ``(N, C, H, W)`` reaching a layer that takes
columns is flattened (a ``flatten`` is inserted), and a stack whose last layer is not a loss
gets a ``squared_error``. ``Stack.parse("conv2d(filters=4),relu,maxpool,dense,softmax_cross_
entropy")`` reads the command line's syntax: names separated by commas, options in brackets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reference.layers.catalog import ANY, COLUMNS, IDS, IMAGES, LAYERS, Draw, Layer

# The input drawn for a stack when none is given, by what its first layer takes.
DEFAULT_INPUT = {IMAGES: (2, 3, 6, 6), COLUMNS: (4, 5), ANY: (4, 5), IDS: (5,)}
Params = list[tuple[np.ndarray, ...]]


def _options(layer: Layer, given: dict) -> tuple[tuple[str, object], ...]:
    allowed = {**layer.keywords, **layer.role.options}  # a stack's defaults win
    allowed.pop("running", None)  # running statistics are state, kept outside the stack
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(f"{layer.name}: unknown option {unknown[0]!r}; expected one of "
                         f"{sorted(allowed) or 'none'}")
    return tuple(sorted({**allowed, **given}.items()))


def _layer(name: str) -> Layer:
    if name not in LAYERS:
        raise ValueError(f"stack: unknown layer {name!r}; expected one of {sorted(LAYERS)}")
    return LAYERS[name]


@dataclass(frozen=True)
class Stack:
    """``layers``: ``((name, options), …)``, the loss last; ``shapes``: the input shape, then
    each layer's output shape. Build one with ``Stack.build`` or ``Stack.parse``."""

    layers: tuple[tuple[str, tuple[tuple[str, object], ...]], ...]
    shapes: tuple[tuple[int, ...], ...]

    @classmethod
    def build(cls, items, input_shape: tuple[int, ...] | None = None) -> Stack:
        """From ``[name or (name, {option: value}), …]``, inferring every shape from the input's."""
        items = [(item, {}) if isinstance(item, str) else (item[0], dict(item[1]))
                 for item in items]
        if not items:
            raise ValueError("stack: expected at least one layer, got none")
        if LAYERS.get(items[-1][0]) is None or _layer(items[-1][0]).kind != "loss":
            items.append(("squared_error", {}))
        first = _layer(items[0][0])
        shape = tuple(input_shape or DEFAULT_INPUT[first.role.takes])
        layers, shapes = [], [shape]
        for index, (name, given) in enumerate(items):
            layer = _layer(name)
            if layer.kind == "loss" and index != len(items) - 1:
                raise ValueError(f"stack: the loss {name!r} must come last")
            if layer.role.takes == COLUMNS and len(shape) == 4:
                layers.append(("flatten", ()))
                shape = LAYERS["flatten"].role.out_shape(shape, {})
                shapes.append(shape)
            _check_takes(layer, shape, index)
            options = _options(layer, given)
            layers.append((name, options))
            if layer.kind != "loss":
                shape = tuple(layer.role.out_shape(shape, dict(options)))
                if min(shape) < 1:
                    raise ValueError(f"stack: layer {name!r} would output shape {shape}")
                shapes.append(shape)
        return cls(tuple(layers), tuple(shapes))

    @classmethod
    def parse(cls, text: str, input_shape: tuple[int, ...] | None = None) -> Stack:
        """From ``"name,name(option=value,…),…"``; values are integers, floats or ``None``."""
        items = []
        for match in re.finditer(r"\s*([A-Za-z_0-9]+)\s*(?:\(([^()]*)\))?\s*(?:,|$)", text):
            if match.group(1):
                items.append((match.group(1), _parse_options(match.group(2) or "", text)))
        if ",".join(name for name, _ in items) != re.sub(r"\([^()]*\)|\s", "", text):
            raise ValueError(f"stack: expected names like conv2d(stride=2),relu,dense,"
                             f"softmax_cross_entropy, got {text!r}")
        return cls.build(items, input_shape)

    @property
    def body(self) -> list[tuple[Layer, dict]]:
        """The layers before the loss, each with its options."""
        return [(LAYERS[name], dict(options)) for name, options in self.layers[:-1]]

    @property
    def loss_layer(self) -> Layer:
        return LAYERS[self.layers[-1][0]]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.layers]

    def describe(self) -> str:
        """One line: the input shape, each layer with its output shape, the loss."""
        steps = [f"{name} {shape}" for (name, _), shape in
                 zip(self.layers[:-1], self.shapes[1:], strict=True)]
        return " → ".join([f"input {self.shapes[0]}", *steps, self.layers[-1][0]])


def _check_takes(layer: Layer, shape: tuple, index: int) -> None:
    takes = layer.role.takes
    if takes == IMAGES and len(shape) != 4:
        raise ValueError(f"stack: {layer.name!r} takes {takes}, but gets shape {shape}")
    if takes == IDS and index != 0:
        raise ValueError(f"stack: {layer.name!r} takes {takes}: it must be the first layer")


def _parse_options(text: str, whole: str) -> dict:
    options = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"stack: expected option=value, got {part!r} in {whole!r}")
        try:
            options[key.strip()] = None if value.strip() == "None" else (
                float(value) if any(c in value for c in ".e") else int(value))
        except ValueError:
            raise ValueError(f"stack: expected a number for {key.strip()!r}, got {value!r}"
                             ) from None
    return options


def init(stack: Stack, seed: int = 0, dtype=np.float64, scale: float = 1.0):
    """``(params, x, target)`` drawn for ``stack`` from ``seed``: parameters, an input of the
    stack's input shape (token ids below the vocabulary for an embedding) and a target."""
    draw = Draw(np.random.default_rng(seed), np.dtype(dtype), scale)
    params = [tuple(layer.role.params(shape, draw, options))
              for (layer, options), shape in zip(stack.body, stack.shapes[:-1], strict=True)]
    first, options = LAYERS[stack.layers[0][0]], dict(stack.layers[0][1])
    if first.role.takes == IDS:
        x = draw.ints(options["vocab"], *stack.shapes[0])
    else:
        x = draw.normal(*stack.shapes[0], scale=1.0)
    target = stack.loss_layer.target(stack.shapes[-1], draw)
    return params, x, target


def _at(index: int, layer: Layer, call: Callable, *args):
    """Run one layer's pass; a bad input's error says which layer of the stack it reached."""
    try:
        return call(*args)
    except (ValueError, TypeError) as error:
        raise type(error)(f"layer {index + 1} ({layer.name}): {error}") from None


def outputs(stack: Stack, params: Params, x, state: dict | None = None) -> list:
    """``[x, a_1, …, a_L]``: the input and every layer's output, the loss excluded.

    ``state`` (NumPy only) collects batch norms' running statistics, keyed by layer index."""
    if not isinstance(params, (list, tuple)) or len(params) != len(stack.body):
        got = len(params) if isinstance(params, (list, tuple)) else type(params).__name__
        raise ValueError(f"params: expected {len(stack.body)} tuples, one per layer before the "
                         f"loss ({', '.join(stack.names[:-1])}), got {got}")
    activations = [x]
    for index, ((layer, options), layer_params) in enumerate(zip(stack.body, params, strict=True)):
        if state is not None and layer.name == "batchnorm":
            options = {**options, "running": state.setdefault(index, {})}
        a = _at(index, layer, layer.stack_forward, activations[-1], tuple(layer_params), options)
        activations.append(a)
    return activations


def loss(stack: Stack, params: Params, x, target):
    """The stack's loss, a scalar (NumPy's or JAX's, as the arrays are)."""
    a = outputs(stack, params, x)[-1]
    return _at(len(stack.body), stack.loss_layer, stack.loss_layer.forward, a, target)


def backward(stack: Stack, params: Params, activations: list, target,
             backwards: dict | None = None) -> tuple[Params, list[np.ndarray]]:
    """``(grads, upstream)``: hand gradients like ``params``, and ``upstream[l]``, the gradient
    of the loss with respect to ``activations[l + 1]`` as the hand pass carried it down.

    ``backwards`` maps a layer name (or a 0-based index into the stack) to a replacement
    backward with the layer's signature — how planted mistakes are swapped in."""
    backwards = backwards or {}
    loss_layer, last = stack.loss_layer, len(stack.body)
    loss_back = backwards.get(last, backwards.get(loss_layer.name, loss_layer.backward))
    dtype = np.asarray(activations[-1]).dtype
    d = _at(last, loss_layer, loss_back, np.ones((), dtype), activations[-1], target)[0]
    grads, upstream = [None] * last, [None] * last
    for index in reversed(range(last)):
        layer, options = stack.body[index]
        upstream[index] = d
        replacement = backwards.get(index, backwards.get(layer.name))
        result = _at(index, layer, layer.stack_backward, d, activations[index],
                     tuple(params[index]), options, replacement)
        if layer.role.input_grad:
            d, result = result[0], result[1:]
        grads[index] = tuple(result)
    return grads, upstream


def gradients(stack: Stack, params: Params, x, target, backwards: dict | None = None,
              state: dict | None = None) -> Params:
    """Hand gradients of the stack's loss, one tuple per layer, shaped like ``params``."""
    activations = outputs(stack, params, x, state)
    return backward(stack, params, activations, target, backwards)[0]
