"""Input checks shared by the general backprop: every error names the argument, what it got
and what was expected, so that a wrong shape is never silently broadcast into a wrong answer."""

from __future__ import annotations

import numpy as np

Params = list[tuple[np.ndarray, np.ndarray]]


def as_real_array(value: object, name: str, ndim: int = 2) -> np.ndarray:
    """Return ``value`` as a real floating array with ``ndim`` dimensions and finite entries."""
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as error:  # ragged nested lists, for example
            raise TypeError(f"{name}: expected a real floating array, got {error}") from None
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(
            f"{name}: expected a real floating array (float16/32/64), got dtype {array.dtype}"
            " — convert it with .astype(np.float64)"
        )
    if array.ndim != ndim:
        raise ValueError(
            f"{name}: expected a {ndim}-D array, got shape {array.shape}"
            + (" — biases are columns of shape (n, 1), not (n,)" if array.ndim == 1 else "")
        )
    if not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(
            f"{name}: expected finite values, got {array[bad]} at index {bad} "
            f"of shape {array.shape}"
        )
    return array


def check_params(params: object) -> Params:
    """Validate a network ``[(W1, b1), …, (WL, bL)]`` and return it with arrays as ndarrays.

    ``W`` is ``(n_out, n_in)``, ``b`` is ``(n_out, 1)`` and each layer's ``n_in`` is the previous
    layer's ``n_out``.
    """
    if not isinstance(params, (list, tuple)) or len(params) == 0:
        raise TypeError(
            "params: expected a non-empty list of (W, b) pairs, got "
            + (f"an empty {type(params).__name__}" if isinstance(params, (list, tuple))
               else type(params).__name__)
        )
    checked: Params = []
    for index, layer in enumerate(params):
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise TypeError(
                f"params[{index}]: expected a (W, b) pair, got {type(layer).__name__}"
                + (f" of length {len(layer)}" if isinstance(layer, (list, tuple)) else "")
            )
        W = as_real_array(layer[0], f"params[{index}] W")
        b = as_real_array(layer[1], f"params[{index}] b")
        if b.shape != (W.shape[0], 1):
            raise ValueError(
                f"params[{index}] b: expected shape {(W.shape[0], 1)} to match W of shape "
                f"{W.shape}, got {b.shape}"
            )
        if W.size == 0:
            raise ValueError(f"params[{index}] W: expected at least one unit, got shape {W.shape}")
        if checked and W.shape[1] != checked[-1][0].shape[0]:
            raise ValueError(
                f"params[{index}] W: expected {checked[-1][0].shape[0]} columns (the width of "
                f"layer {index}), got shape {W.shape}"
            )
        checked.append((W, b))
    return checked


def check_batch(params: Params, x: object, y: object | None = None) -> tuple[np.ndarray, ...]:
    """Validate inputs ``x`` of shape ``(n_in, N)`` and targets ``y`` of shape ``(n_out, N)``."""
    n_in = params[0][0].shape[1]
    n_out = params[-1][0].shape[0]
    x = as_real_array(x, "x")
    if x.shape[0] != n_in or x.shape[1] == 0:
        raise ValueError(
            f"x: expected shape ({n_in}, N) with N >= 1 examples as columns, got {x.shape}"
        )
    if y is None:
        return (x,)
    y = as_real_array(y, "y")
    if y.shape != (n_out, x.shape[1]):
        raise ValueError(
            f"y: expected shape {(n_out, x.shape[1])} (outputs, examples) to match x of "
            f"shape {x.shape}, got {y.shape}"
        )
    return x, y
