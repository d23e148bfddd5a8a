"""Hand-derived backpropagation in pure NumPy (this package never imports JAX).

Two APIs live here:

* the worksheet's, faithful to it — ``sigma``, ``d_sigma``, ``reset_network``,
  ``network_function``, the six Jacobians ``J_W1 … J_b3`` on the module globals of
  ``reference.worksheet``, its ``cost(x, y)`` as ``reference.worksheet.cost``, and
  ``training_data`` (the heart);
* the general one — ``init_params``, ``forward``, ``cost(params, x, y)``, ``gradients`` and
  ``hvp`` (the Hessian-vector product) for networks of any depth and width, params as
  ``[(W, b), …]``.
"""

from reference import worksheet
from reference.activations import ACTIVATIONS
from reference.backprop import cost, forward, forward_trace, gradients, init_params
from reference.heart import training_data
from reference.hvp import hvp
from reference.validation import Params, check_batch, check_params
from reference.worksheet import (
    J_W1,
    J_W2,
    J_W3,
    J_b1,
    J_b2,
    J_b3,
    d_sigma,
    network_function,
    reset_network,
    sigma,
)

__all__ = [
    "ACTIVATIONS", "J_W1", "J_W2", "J_W3", "J_b1", "J_b2", "J_b3", "Params",
    "check_batch", "check_params", "cost", "d_sigma", "forward", "forward_trace", "gradients",
    "hvp", "init_params", "network_function", "reset_network", "sigma", "training_data",
    "worksheet",
]

_WORKSHEET_GLOBALS = frozenset({"W1", "W2", "W3", "b1", "b2", "b3"})


def __getattr__(name: str):
    # reference.W1 … reference.b3 read the worksheet's live globals, so that
    # `reference.reset_network(); reference.W1` behaves as in the worksheet.
    if name in _WORKSHEET_GLOBALS:
        return getattr(worksheet, name)
    raise AttributeError(f"module 'reference' has no attribute {name!r}")
