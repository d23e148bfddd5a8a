"""One library layer's hand backward against ``jax.vjp`` of its own forward.

The truth is ``jax.vjp`` in float64 at the checked inputs (already rounded to the checked
dtype, so both sides see the same numbers). Its tolerance is derived, element by element, from
the running-error bound of that very computation (``autodiff.core.running_error``): ``bound``,
in units of the roundoff, bounds how far JAX's ``vjp`` done in a dtype with unit roundoff ``u``
can be from the exact gradient, through every rounding of its forward residuals and of its
backward pass — the cancellation in ``x - μ`` of a norm or in ``dP - Σ P dP`` of a softmax, the
``1 - tanh²`` that is exactly 0 in saturation. A correct hand backward computes the same
mathematics in a different order, so its error is of the same kind; the two agree within::

    tolerance = 2 · HEADROOM · u · bound + FLUSH_STEPS · tiny

(the 2: each of two opinions within ``HEADROOM · u · bound`` of the exact value; ``tiny`` is
the dtype's smallest normal: XLA flushes subnormal results to zero, so every step of JAX's
computation may lose up to ``tiny`` outright, where NumPy keeps a value of 1e-307, and
``FLUSH_STEPS`` = 1024 steps cover any computation here — 2e-305 in float64).

``HEADROOM`` = 4 is measured, not guessed: the hand's order of operations is not JAX's, and
over 12 seeds of every layer's example at input scales 0.01, 1, 10 and 100 in both dtypes the
largest ``|hand - jax| / (u · bound)`` was 1.97 (softplus, whose hand ``dout · σ(x)`` rounds
differently from JAX's derivative of ``max(x, 0) + log1p(exp(-|x|))``); every other layer
stayed below 1.3. So no correct backward came within 1/4 of the tolerance, while a planted
mistake is an error of the gradient's own size, orders of magnitude above it. Bounds are worst
case: typical errors are far smaller.
"""

from __future__ import annotations

import functools

import numpy as np

from autodiff.check.layers.kinks import excuse_kinks
from autodiff.check.layers.report import LayerResult
from autodiff.core.inputs import random_dout, resolve_dtype
from autodiff.core.layers import cast, is_differentiable, vjp_bounded
from autodiff.core.report import BlockReport
from reference.layers import LAYERS, Draw, Layer
from reference.layers.catalog import IDS, IMAGES

HEADROOM = 4
FLUSH_STEPS = 1024


def tolerance(bound: np.ndarray, dtype) -> np.ndarray:
    """The per-element tolerance of a ``dtype`` gradient whose computation's running-error
    bound is ``bound`` (in units of u): ``2 · HEADROOM · u · bound + FLUSH_STEPS · tiny``."""
    u = float(np.finfo(dtype).eps) / 2
    return 2 * HEADROOM * u * np.asarray(bound) + FLUSH_STEPS * float(np.finfo(dtype).tiny)


def compare(name: str, hand, truth: np.ndarray, bound: np.ndarray, dtype) -> BlockReport:
    """One gradient's row: ``hand`` against ``truth`` within ``tolerance(bound)``; a missing or
    misshapen ``hand`` fails with a note saying so."""
    tol = tolerance(bound, dtype)
    if hand is None or np.shape(hand) != truth.shape:
        note = ("missing" if hand is None else
                f"has shape {np.shape(hand)}, expected {truth.shape}")
        return BlockReport.compare(name, None, truth, None, tol / 2, None, False, note)
    # BlockReport allows twice its ``bound`` (two opinions, each within it): pass half. An
    # error over an exact zero's tiny tolerance may overflow the ratio to inf: still a fail.
    with np.errstate(over="ignore"):
        return BlockReport.compare(name, np.asarray(hand, np.float64), truth, None, tol / 2,
                                   None, False)


def compare_all(names, hand, truth, bounds, dtype) -> list[BlockReport]:
    """Rows for every gradient; a backward returning the wrong number of them fails in full."""
    hand = tuple(hand) if isinstance(hand, (tuple, list)) else (hand,)
    rows = [compare(name, h, t, b, dtype) for name, h, t, b in
            zip(names, hand + (None,) * (len(names) - len(hand)), truth, bounds, strict=False)]
    if len(hand) > len(names):
        rows[-1].note = (f"the backward returned {len(hand)} gradients, expected "
                         f"{len(names)}: {', '.join(names)}")
        rows[-1].status = "fail"
    return rows


@functools.lru_cache(maxsize=256)
def _layer_at(name: str, options: tuple, index: int):
    """``f(a, *rest)``: the layer's forward with ``a`` as its argument ``index`` (one function
    per layer, options and argument, so that its compiled derivatives are reused)."""
    layer = LAYERS[name]

    def forward(a, *rest):
        return layer.forward(*rest[:index], a, *rest[index:], **dict(options))

    return forward


def excuse_layer_kinks(layer: Layer, blocks: list[BlockReport], args: tuple, options: dict,
                       dout, hand, truth, bounds, dtype) -> list[BlockReport]:
    """``blocks`` with each failing gradient that differs from ``jax.vjp`` only at kinks of the
    layer's forward passed and noted (``autodiff.check.layers.kinks``). Skipped for a tuple
    output or options that cannot key a cache (no such layer has kinks)."""
    try:
        key = tuple(sorted(options.items()))
        hash(key)
    except TypeError:
        return blocks
    if isinstance(dout, tuple):
        return blocks
    positions = [i for i, arg in enumerate(args) if is_differentiable(arg)]
    for g, block in enumerate(blocks):
        if block.status != "fail" or block.note or g >= len(positions):
            continue
        index = positions[g]
        rest = args[:index] + args[index + 1:]
        blocks[g] = excuse_kinks(block, _layer_at(layer.name, key, index), args[index], rest,
                                 dout, hand[g], truth[g], tolerance(bounds[g], dtype))
    return blocks


def examples(layer: Layer, first_arg) -> int | None:
    """The batch size N of a layer's first argument (for naming a missing or extra 1/N)."""
    shape = np.shape(first_arg)
    if layer.role.takes in (IMAGES, IDS):
        return shape[0] if shape else None
    return shape[-1] if len(shape) >= 2 else None


def diagnose(layer: Layer, blocks: list[BlockReport], hand, truth, bounds, dtype,
             run_backward, batch: int | None) -> dict[str, str]:
    """For each failing gradient, what the mistake looks like: a sign, a factor (2, N, 1/N), a
    transpose (``autodiff.core.diagnose``) or one of the layer's classic slips
    (``autodiff.check.layers.mistakes``), each run on the same inputs as a candidate.
    ``run_backward(backward)`` runs a backward of the layer's signature on those inputs."""
    from autodiff.check.layers.mistakes import LAYER_MISTAKES
    from autodiff.core import diagnose as engine

    failing = [i for i, block in enumerate(blocks) if block.status == "fail"
               and i < len(hand) and hand[i] is not None and np.size(hand[i]) == np.size(truth[i])]
    if not failing:
        return {}
    candidates: list[list] = [[] for _ in blocks]
    for mistake in LAYER_MISTAKES.values():
        if mistake.layer != layer.name:
            continue
        try:
            outputs = run_backward(mistake)
        except (ValueError, TypeError, IndexError):  # the slip needs other shapes
            continue
        for i, value in enumerate(outputs[:len(blocks)]):
            candidates[i].append(engine.Candidate(mistake.name, f"{mistake.name}: "
                                                  f"{mistake.description}", np.asarray(value),
                                                  exact_shape=True))
    found = {}
    for i in failing:
        named = engine.diagnose(truth[i], np.asarray(hand[i], np.float64),
                                tolerance(bounds[i], dtype), batch=batch,
                                candidates=candidates[i])
        found[blocks[i].name] = "; ".join(d.text for d in named)
    return found


def example_inputs(layer: Layer, seed: int = 0, dtype="float64", scale: float = 1.0,
                   options: dict | None = None) -> tuple[tuple, dict, object]:
    """``(args, options, dout)`` for checking ``layer``: its example arguments drawn from
    ``seed`` (inputs times ``scale``) in ``dtype``, the drawn options updated by ``options``, and
    a random upstream gradient shaped like the output."""
    dtype = resolve_dtype(dtype)
    rng = np.random.default_rng(seed)
    args, drawn = layer.example(Draw(rng, dtype, scale))
    options = {**drawn, **(options or {})}
    args = cast(tuple(args), dtype)
    return args, options, random_dout(layer.forward(*args, **options), rng, dtype)


def check_library_layer(layer: str | Layer, args: tuple | None = None,
                        options: dict | None = None, backward=None, dout=None,
                        dtype="float64", seed: int = 0, scale: float = 1.0) -> LayerResult:
    """Check ``backward`` (default: the layer's own) against ``jax.vjp`` of the layer's forward.

    Without ``args``, example arguments are drawn from ``seed`` (inputs times ``scale``);
    ``dout`` defaults to a random upstream gradient. Floating arguments are cast to ``dtype``.
    """
    if isinstance(layer, str):
        if layer not in LAYERS:
            raise ValueError(f"layer: unknown name {layer!r}; expected one of {list(LAYERS)}")
        layer = LAYERS[layer]
    dtype = resolve_dtype(dtype)
    if args is None:
        args, options, drawn_dout = example_inputs(layer, seed, dtype, scale, options)
        dout = drawn_dout if dout is None else dout
    options = options or {}
    args = cast(tuple(args), dtype)
    if dout is None:
        dout = random_dout(layer.forward(*args, **options), np.random.default_rng(seed), dtype)
    backward = backward or layer.backward
    dout = cast(dout, dtype)  # both sides see the same upstream numbers
    hand = backward(dout, *args, **options)
    truth, bounds = vjp_bounded(layer.forward, args, dout, options)
    names = tuple(f"d{name}" for name in layer.grads)
    blocks = compare_all(names, hand, truth, bounds, dtype)
    hand = tuple(hand) if isinstance(hand, (tuple, list)) else (hand,)
    blocks = excuse_layer_kinks(layer, blocks, args, options, dout, hand, truth, bounds, dtype)
    found = diagnose(layer, blocks, hand, truth, bounds, dtype,
                     lambda b: b(dout, *args, **options), examples(layer, args[0]))
    return LayerResult(layer.name, blocks, dtype.name,
                       getattr(backward, "__name__", repr(backward)), diagnosis=found)


def check_vjp_of(name: str, backward=None, options: dict | None = None, dtype="float64",
                 seed: int = 0):
    """``check_vjp`` of library layer ``name`` with ``backward`` (default: its own) on the example
    arguments ``check_library_layer`` draws from ``seed``: a second opinion with an oracle it
    cross-checks by finite differences, and tolerances and diagnoses of its own."""
    from autodiff.check.vjp.check import check_vjp

    layer = LAYERS[name]
    args, options, dout = example_inputs(layer, seed, dtype, options=options)
    backward = backward or layer.backward

    def forward_with_options(*arrays):
        return layer.forward(*arrays, **options)

    def backward_with_options(d, *arrays):
        return backward(d, *arrays, **options)

    forward_with_options.__name__ = f"{name}_forward"
    backward_with_options.__name__ = getattr(backward, "__name__", f"{name}_backward")
    return check_vjp(forward_with_options, backward_with_options, *args, dout=dout, dtype=dtype,
                     names=list(layer.args))
