"""What every layer's forward and backward share: the array namespace and the input checks.

A forward is written once against the Python array API: ``xp = namespace(x, w)`` is NumPy for
NumPy arrays and ``jax.numpy`` for JAX arrays and tracers (both provide
``__array_namespace__``), so NumPy runs the forward and JAX differentiates the very same code.
Where the standard has a gap, the forwards stay inside what both namespaces share: no in-place
updates (JAX arrays are immutable), zero-padding by ``concat`` (the standard has no ``pad``).

The checks work on both kinds of array: shapes and dtypes are static under JAX tracing, so
they are always checked; values (finite, labels in range) only when they are concrete NumPy
arrays, which is every call a user makes.
"""

from __future__ import annotations

import numpy as np


def namespace(*arrays):
    """The array namespace of ``arrays``: JAX's if any is a JAX array or tracer, else NumPy's.

    NumPy arrays mixed with JAX ones (a dropout mask, integer labels) defer to JAX, which
    accepts them; anything without ``__array_namespace__`` (a list) counts as NumPy.
    """
    found = {a.__array_namespace__() for a in arrays if hasattr(a, "__array_namespace__")}
    found.discard(np)
    if len(found) > 1:
        names = sorted(module.__name__ for module in found)
        raise TypeError(f"arrays: expected one array library, got {names}")
    return found.pop() if found else np


def as_array(value: object, name: str) -> object:
    """``value`` itself if it is an array of some namespace, else ``np.asarray(value)``."""
    if hasattr(value, "__array_namespace__") and hasattr(value, "shape"):
        return value
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists, for example
        raise TypeError(f"{name}: expected an array, got {error}") from None


def real(value: object, name: str, ndim: int, layout: str) -> object:
    """``value`` as a real floating array of ``ndim`` dimensions, finite where concrete.

    ``layout`` names the expected axes, e.g. ``"(n_in, N)"``, for the error message.
    """
    array = as_array(value, name)
    dtype = getattr(array, "dtype", None)
    if dtype is None or not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(f"{name}: expected a real floating array {layout}, got dtype {dtype}"
                        " — convert it with .astype(np.float64)")
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array {layout}, got shape {array.shape}")
    if isinstance(array, np.ndarray) and not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name}: expected finite values, got {array[bad]} at index {bad}")
    return array


def real_any(value: object, name: str, layout: str = "(any shape)") -> object:
    """``value`` as a real floating array of any number of dimensions (see ``real``)."""
    array = as_array(value, name)
    return real(array, name, array.ndim, layout)


def indices(value: object, name: str, ndim: int, upper: int, layout: str) -> object:
    """``value`` as an integer array of ``ndim`` dimensions with entries in ``[0, upper)``."""
    array = as_array(value, name)
    dtype = getattr(array, "dtype", None)
    if dtype is None or not np.issubdtype(np.dtype(dtype), np.integer):
        raise TypeError(f"{name}: expected an integer array {layout}, got dtype {dtype}")
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array {layout}, got shape {array.shape}")
    if isinstance(array, np.ndarray) and array.size and (array.min() < 0 or array.max() >= upper):
        bad = int(array.min()) if array.min() < 0 else int(array.max())
        raise ValueError(f"{name}: expected entries in [0, {upper}), got {bad}")
    return array


def same_shape(value: object, name: str, shape: tuple, why: str) -> None:
    """Raise a ValueError unless ``value.shape == shape`` (``why`` says what fixes the shape)."""
    if tuple(value.shape) != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)} {why}, got {tuple(value.shape)}")


def gradient(dout: object, shape: tuple, dtype, name: str = "dout") -> np.ndarray:
    """The upstream gradient of a backward pass as a NumPy array of the output's shape, in the
    computation's ``dtype`` (a float64 ``dout`` must not silently promote a float32 pass)."""
    dout = np.asarray(dout)
    if not np.issubdtype(dout.dtype, np.floating):
        raise TypeError(f"{name}: expected a real floating array, got dtype {dout.dtype}")
    same_shape(dout, name, shape, "(the forward's output)")
    return dout.astype(dtype, copy=False)


def zero_pad(xp, x, padding: int):
    """``x`` of shape ``(N, C, H, W)`` with ``padding`` zero rows and columns on every side."""
    if padding == 0:
        return x
    n, c, h, w = x.shape
    rows = xp.zeros((n, c, padding, w), dtype=x.dtype)
    x = xp.concat([rows, x, rows], axis=2)
    cols = xp.zeros((n, c, h + 2 * padding, padding), dtype=x.dtype)
    return xp.concat([cols, x, cols], axis=3)


def number(value: object, name: str, low: float, high: float, high_open: bool = False) -> float:
    """``value`` as a float in ``[low, high]`` (``[low, high)`` with ``high_open``)."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.floating))
          and low <= value and (value < high if high_open else value <= high))
    if not ok:
        interval = f"[{low}, {high})" if high_open else f"[{low}, {high}]"
        raise ValueError(f"{name}: expected a number in {interval}, got {value!r}")
    return float(value)


def positive_int(value: object, name: str, minimum: int = 1) -> int:
    """``value`` as an int at least ``minimum`` (hyper-parameters: stride, kernel size, …)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)
