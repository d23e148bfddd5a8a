"""The catalogue of layers: each one's forward/backward pair, example arguments and stack role.

A ``Layer`` names its pair (``forward(*args, **keywords)``, ``backward(dout, *args, **keywords)``
returning one gradient per name in ``grads``) and its forward-mode rule ``jvp``, draws example
arguments for a check from a ``Draw``, and says how it sits in a stack (``Role``): what it
takes, the parameters it owns, its output shape. ``LAYERS`` maps names to layers, in the
order of ``LAYER_NAMES``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Draw:
    """Random arguments for a check: ``rng``, ``dtype``, a ``scale`` for inputs, and two sizes,
    ``n`` (batch) and ``w`` (a width from which each layer derives its other dimensions)."""

    rng: np.random.Generator
    dtype: np.dtype = np.dtype("float64")  # noqa: RUF009 (an immutable value)
    scale: float = 1.0
    n: int = 3
    w: int = 3

    def normal(self, *shape: int, scale: float | None = None) -> np.ndarray:
        s = self.scale if scale is None else scale
        return (s * self.rng.standard_normal(shape)).astype(self.dtype)

    def ints(self, high: int, *shape: int) -> np.ndarray:
        return self.rng.integers(0, high, size=shape)

    def choice(self, options: list):
        return options[int(self.rng.integers(len(options)))]


# What a layer takes in a stack: columns (D, N), images (N, C, H, W), token ids (N,), anything.
COLUMNS, IMAGES, IDS, ANY = "columns (D, N)", "images (N, C, H, W)", "token ids (N,)", "any"


def _same(shape, options):
    return shape


@dataclass(frozen=True)
class Role:
    """How a layer sits in a stack. ``params(in_shape, draw, options)`` draws the parameters
    that follow the input among the forward's arguments; ``out_shape(in_shape, options)``;
    ``options`` are the stack-level settings and their defaults (sizes, and the forward's own
    keywords). ``call``/``back``, when given, adapt the pair to ``f(a, *params)`` and
    ``(da, *dparams) = b(d, a, *params)`` (attention attends to itself, an LSTM passes h on)."""

    takes: str
    params: Callable = lambda shape, draw, options: ()
    out_shape: Callable = _same
    options: dict = field(default_factory=dict)
    call: Callable | None = None
    back: Callable | None = None
    input_grad: bool = True  # False where the input is not differentiable (token ids)


@dataclass(frozen=True)
class Layer:
    """One library layer (or loss) and everything a check or a stack needs to know about it."""

    name: str
    forward: Callable
    backward: Callable
    grads: tuple[str, ...]
    layout: str
    example: Callable[[Draw], tuple[tuple, dict]]
    role: Role
    kind: str = "layer"  # or "loss"
    target: Callable | None = None  # for a loss in a stack: target(prediction_shape, draw)
    # The hand-derived forward-mode rule: jvp((args…), (tangents…), **keywords) -> (out, dout),
    # a tangent per forward argument (None for a mask, ids, labels).
    jvp: Callable | None = None

    @property
    def args(self) -> tuple[str, ...]:
        """The forward's positional argument names."""
        return tuple(p.name for p in inspect.signature(self.forward).parameters.values()
                     if p.kind is p.POSITIONAL_OR_KEYWORD)

    @property
    def keywords(self) -> dict:
        """The forward's keyword-only hyper-parameters and their defaults."""
        return {p.name: p.default for p in inspect.signature(self.forward).parameters.values()
                if p.kind is p.KEYWORD_ONLY}

    def stack_forward(self, a, params, options: dict, forward: Callable | None = None):
        """The layer as a stack runs it: ``out = f(a, *params)`` with the options bound."""
        forward = forward or self.forward
        kwargs = {k: v for k, v in options.items() if k in self.keywords}
        if self.role.call:
            return self.role.call(forward, a, params, kwargs, options)
        return forward(a, *params, **kwargs)

    def stack_backward(self, d, a, params, options: dict, backward: Callable | None = None):
        """``(da, *dparams)`` (``(*dparams,)`` where ``role.input_grad`` is False)."""
        backward = backward or self.backward
        kwargs = {k: v for k, v in options.items() if k in self.keywords}
        if self.role.back:
            return tuple(self.role.back(backward, d, a, params, kwargs, options))
        return tuple(backward(d, a, *params, **kwargs))


LAYERS: dict[str, Layer] = {}


def register(layer: Layer) -> Layer:
    LAYERS[layer.name] = layer
    return layer
