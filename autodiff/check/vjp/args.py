"""The arguments, outputs and gradients of a user's ``forward``/``backward`` pair.

The contract of ``check_vjp``: ``forward(*args) -> out``, where ``out`` is a float array (or a
Python number) or a tuple/list of them, and ``backward(dout, *args) -> grads``, one gradient per
differentiable argument in order (a lone array where there is one; ``None`` may stand at the
positions of the other arguments). A tuple output takes a tuple ``dout``. Differentiable
arguments are the float ``np.ndarray`` ones, or the positions given as ``wrt``; everything
else — a dict of hyper-parameters, integer labels, a mask inside a dict, a Python number —
passes through and gets no gradient. Every call — the forward, the backward, every oracle —
gets fresh deep copies of the arguments and of ``dout``, so a forward that writes into what it
is given (batch norm's running statistics) sees the same inputs each time, and a backward that
writes into its ``dout`` (``dnext_c += …``) cannot change what it is compared with; such writes
are warned about (``written_warnings``), since they change the caller's arrays in a real
training loop.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from autodiff.core.inputs import fresh, random_dout, resolve_dtype


def _is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


def argument_names(function, count: int) -> list[str]:
    """The forward's parameter names for ``count`` positional arguments (``arg0``… where the
    signature does not say: ``*args``, builtins)."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = []
    for index in range(count):
        usable = index < len(parameters) and parameters[index].kind in (
            inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        names.append(parameters[index].name if usable else f"arg{index}")
    return names


@dataclass
class Layout:
    """Which arguments are differentiable (``wrt``), their names, and ``values``: the arguments
    with the differentiable ones cast to ``dtype`` (so they are exactly representable in it)."""

    values: list
    wrt: tuple[int, ...]
    names: list[str]
    dtype: np.dtype

    @classmethod
    def build(cls, forward, args, wrt=None, dtype=None, names=None) -> Layout:
        if wrt is None:
            wrt = tuple(i for i, value in enumerate(args) if _is_float_array(value))
        else:
            wrt = tuple(int(i) for i in wrt)
            for i in wrt:
                if not 0 <= i < len(args) or not _is_float_array(np.asarray(args[i])):
                    raise ValueError(f"wrt: position {i} is not a float array argument "
                                     f"(got {len(args)} arguments)")
        if not wrt:
            kinds = ", ".join(type(value).__name__ for value in args) or "none"
            raise TypeError("args: no float np.ndarray argument to differentiate "
                            f"(got {kinds}); pass the inputs as float arrays")
        names = list(names) if names is not None else argument_names(forward, len(args))
        if len(names) != len(args):
            raise ValueError(f"names: expected {len(args)} names, got {len(names)}")
        dtype = resolve_dtype(dtype, np.asarray(args[wrt[0]]))
        values = [np.array(value, dtype) if i in wrt else fresh(value)
                  for i, value in enumerate(args)]
        return cls(values, wrt, names, dtype)

    def call_args(self, replace: dict | None = None, dtype=None) -> list:
        """Fresh deep copies of the arguments; ``replace`` maps positions to new values and
        ``dtype`` recasts the differentiable ones (complex values keep their dtype)."""
        replace = replace or {}
        result = []
        for i, value in enumerate(self.values):
            if i in replace:
                value = replace[i]
            if i in self.wrt and dtype is not None and not np.iscomplexobj(value):
                result.append(np.array(value, dtype=dtype))
            else:
                result.append(fresh(value))
        return result

    def differentiable(self) -> list[np.ndarray]:
        return [self.values[i] for i in self.wrt]


def as_outputs(out, who: str = "forward") -> tuple[list, bool]:
    """``out`` as a list of arrays, and whether it was a tuple/list (so ``dout`` is one too)."""
    is_tuple = isinstance(out, (tuple, list))
    items = list(out) if is_tuple else [out]
    arrays = []
    for index, item in enumerate(items):
        array = np.asarray(item) if item is not None else None
        if array is None or not (np.issubdtype(array.dtype, np.number)
                                 or array.dtype == np.bool_):
            where = f"{who} output {index}" if is_tuple else f"{who} output"
            raise TypeError(f"{where}: expected an array or a number, got "
                            f"{type(item).__name__}")
        arrays.append(array)
    return arrays, is_tuple


def differentiable_outputs(outputs: list) -> list[bool]:
    """Which outputs carry a gradient: the inexact (float or complex) ones."""
    return [np.issubdtype(out.dtype, np.inexact) for out in outputs]


def make_dout(outputs, is_tuple: bool, dout, dtype, rng) -> list:
    """``dout`` as a list aligned with the outputs (``None`` for non-float ones): random
    standard normal where not given, else the given one checked against the outputs' shapes."""
    if dout is None:
        return list(random_dout(list(outputs), rng, dtype))
    carries = differentiable_outputs(outputs)
    given = list(dout) if is_tuple else [dout]
    if is_tuple and not isinstance(dout, (tuple, list)):
        raise TypeError(f"dout: the forward returns a tuple of {len(outputs)} outputs, so dout "
                        f"must be a tuple of {len(outputs)} arrays; got {type(dout).__name__}")
    if len(given) != len(outputs):
        raise ValueError(f"dout: expected {len(outputs)} arrays (one per output), got "
                         f"{len(given)}")
    result = []
    for index, (out, carry, item) in enumerate(zip(outputs, carries, given, strict=True)):
        if not carry:
            result.append(None)
            continue
        array = np.asarray(item, dtype=np.float64)
        if array.shape != out.shape:
            where = f"dout[{index}]" if is_tuple else "dout"
            raise ValueError(f"{where}: shape {array.shape} does not match the forward's "
                             f"output shape {out.shape} (nothing is broadcast)")
        result.append(array.astype(dtype))
    return result


def dout_copy(douts: list, is_tuple: bool):
    """A fresh copy of ``douts`` in the form the backward takes (a tuple for a tuple output)."""
    copies = fresh(douts)
    return tuple(copies) if is_tuple else copies[0]


def _changed(before, after) -> bool:
    return isinstance(after, np.ndarray) and (
        np.shape(before) != after.shape or not np.array_equal(before, after, equal_nan=True))


def written_warnings(who: str, layout: Layout, given: list, douts: list | None = None,
                     dout_given=None) -> list[str]:
    """Warnings for the float arrays ``who`` wrote into: ``given`` are the copies of the
    arguments it was called with (compared with ``layout.values``), ``dout_given`` the copy of
    ``douts`` it was given. Such a write is no error in the gradient, but the caller's arrays
    change (a CS231n ``dnext_c += …`` changes the upstream gradient for whoever reads it next)."""
    warnings = []
    if douts is not None:
        given_douts = list(dout_given) if isinstance(dout_given, tuple) else [dout_given]
        for index, (before, after) in enumerate(zip(douts, given_douts, strict=True)):
            if before is not None and _changed(before, after):
                where = f"dout[{index}]" if len(douts) > 1 else "dout"
                warnings.append(
                    f"the {who} writes into its {where} (in place): it was checked on a copy and "
                    "its gradients against the dout it was given, but in a network the caller's "
                    f"{where} changes; copy it first, or write `d = {where} + …` instead of "
                    f"`{where} += …`")
    for i in layout.wrt:
        if _changed(layout.values[i], given[i]):
            warnings.append(
                f"the {who} writes into its argument {layout.names[i]} (in place): it was "
                f"checked on a copy, but in a network the caller's {layout.names[i]} changes")
    return warnings


def degenerate_warnings(layout: Layout, dout: list, dout_given: bool) -> list[str]:
    """Warnings for a uniform ``dout`` or input: all-equal values hide real bugs."""
    warnings = []
    if dout_given:
        for index, array in enumerate(dout):
            if array is not None and array.size > 1 and np.all(array == array.flat[0]):
                where = f"dout[{index}]" if len(dout) > 1 else "dout"
                warnings.append(
                    f"{where} is uniform (every element {array.flat[0]:g}): a uniform dout "
                    "hides mistakes that cancel in sums (batch norm's mean path); leave dout "
                    "out for a random one")
    for i in layout.wrt:
        array = layout.values[i]
        if array.size > 1 and np.all(array == array.flat[0]):
            warnings.append(
                f"input {layout.names[i]} is uniform (every element {array.flat[0]:g}): "
                "swapped indices and wrong axes cannot show on it; use random values")
    return warnings


def unchecked_gradients(grads, layout: Layout) -> list[str]:
    """A warning for each non-float array the backward returned a gradient for: it is not
    checked (``np.arange(20.)`` is floats, ``np.arange(20)`` integers)."""
    if not isinstance(grads, (tuple, list)) or len(grads) != len(layout.values) or (
            len(grads) == len(layout.wrt)):
        return []
    return [f"the backward returns a gradient for {layout.names[i]} ({value.dtype} array), which "
            f"is not checked (only float arrays are differentiated); pass {layout.names[i]} as "
            "floats to check it"
            for i, (value, grad) in enumerate(zip(layout.values, grads, strict=True))
            if i not in layout.wrt and isinstance(value, np.ndarray) and grad is not None]


def _wrt_hint(layout: Layout, returned: int) -> str:
    """Where to say which arguments the gradients are for: ``wrt=``, with the first
    ``returned`` float positions as the example."""
    example = tuple(layout.wrt[:max(returned, 1)])
    shown = f"({example[0]},)" if len(example) == 1 else str(example)
    return (f"if the backward returns gradients for some arguments only, name their positions "
            f"with wrt= (e.g. wrt={shown} for {', '.join(layout.names[i] for i in example)})")


def as_gradients(grads, layout: Layout) -> tuple[list, list[str]]:
    """The backward's result as one array (float64) per differentiable argument, or ``None``
    with a note where it is missing, not numeric or misshapen. A wrong count raises TypeError."""
    count = len(layout.wrt)
    if isinstance(grads, (tuple, list)):
        items = list(grads)
        if len(items) == len(layout.values) and len(items) != count:
            items = [items[i] for i in layout.wrt]
    elif count == 1:
        items = [grads]
    else:
        raise TypeError(f"backward: expected a tuple of {count} gradients (for "
                        f"{', '.join(layout.names[i] for i in layout.wrt)}), got "
                        f"{type(grads).__name__}; {_wrt_hint(layout, 1)}")
    if len(items) != count:
        returned = ", ".join(str(np.shape(item)) for item in items)
        expected = ", ".join(f"{layout.names[i]} {layout.values[i].shape}" for i in layout.wrt)
        raise TypeError(f"backward: returned {len(items)} gradients (shapes {returned}), "
                        f"expected {count}, one per float argument: {expected}; "
                        f"{_wrt_hint(layout, len(items))}")
    arrays, notes = [], []
    for i, item in zip(layout.wrt, items, strict=True):
        name, shape = layout.names[i], layout.values[i].shape
        try:
            array = np.asarray(item, dtype=np.float64)
        except (TypeError, ValueError):
            arrays.append(None)
            notes.append(f"the gradient of {name} is {type(item).__name__}, not an array")
            continue
        arrays.append(array)
        notes.append("" if array.shape == shape else
                     f"the gradient of {name} has shape {array.shape}, expected {shape}")
    return arrays, notes


def forward_outputs(forward, layout: Layout) -> tuple[list, bool, list[str]]:
    """``(outputs, is_tuple, warnings)`` of ``forward`` on fresh copies of the arguments,
    called twice: a forward whose two answers differ (dropout without its seed among the
    arguments) is refused, one that writes into its arguments or answers in a narrower float
    than the check's dtype (JAX without float64 on) is warned about."""
    given = layout.call_args()
    outputs, is_tuple = as_outputs(forward(*given))
    warnings = written_warnings("forward", layout, given)
    again, _ = as_outputs(forward(*layout.call_args()))
    if not all(np.array_equal(a, b, equal_nan=True) for a, b in zip(outputs, again, strict=True)):
        raise ValueError("forward: two calls on the same arguments returned different outputs; "
                         "a random forward (dropout) needs its seed among the arguments")
    narrow = sorted({o.dtype.name for o in outputs if np.issubdtype(o.dtype, np.floating)
                     and np.finfo(o.dtype).eps > np.finfo(layout.dtype).eps})
    if narrow:
        warnings.append(
            f"forward: returned {'/'.join(narrow)} for {layout.dtype.name} arguments, so its "
            f"rounding is {narrow[0]}'s and the check compares it with {layout.dtype.name} "
            "oracles; JAX computes in float32 unless float64 is on: call the check inside "
            "`with jax.enable_x64(True):`, or check in dtype='float32'")
    return outputs, is_tuple, warnings
