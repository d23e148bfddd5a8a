"""The project's fully connected network as one instance of a stack.

``reference.gradients(params, x, y, activation)`` — the worksheet's network generalised — is the
stack ``dense, activation, …, dense, activation, squared_error`` with the same params, and its
API is unchanged; these helpers convert between the two layouts, so the two hand backprops can
be held side by side (they agree to rounding: see ``tests/check/layers/test_layers_stack.py``).
"""

from __future__ import annotations

from reference.backprop import layer_widths
from reference.layers.stack import Params, Stack
from reference.validation import check_params


def network_stack(sizes: list[int], activation: str = "logistic") -> Stack:
    """The stack of a network with layer widths ``sizes = [n_in, …, n_out]``."""
    if activation not in ("logistic", "tanh"):
        raise ValueError(f"activation: expected 'logistic' or 'tanh', got {activation!r}")
    items: list = []
    for units in sizes[1:]:
        items += [("dense", {"units": int(units)}), activation]
    return Stack.build([*items, "squared_error"], input_shape=(int(sizes[0]), 1))


def stack_params(params) -> Params:
    """``[(W1, b1), …]`` as stack params: ``[(W1, b1), (), (W2, b2), (), …]``."""
    return [layer for W, b in check_params(params) for layer in ((W, b), ())]


def network_grads(stack_grads: Params) -> list[tuple]:
    """Stack gradients of a network stack back in the ``[(dW1, db1), …]`` layout."""
    return [tuple(g) for g in stack_grads[::2]]


def network_widths(params) -> list[int]:
    """``[n_in, …, n_out]`` of ``params``, for ``network_stack``."""
    return layer_widths(check_params(params))
