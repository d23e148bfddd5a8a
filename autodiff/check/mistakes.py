"""Planted backprop mistakes: drop-in ``manual(params, x, y)`` functions, each wrong in one
classic way, for showing (and testing) that the cross-check catches them and names where.

Each mistake is a ``Mistake`` with a ``name``, a one-line ``description``, the ``manual``
function (logistic by default; ``mistake.for_activation("tanh")`` for the other) and
``wrong_from(L)``, the layer whose delta or blocks first go wrong in an L-layer network.
``MISTAKES`` maps names to mistakes. Each is a ``Slip`` of ``autodiff.core.slips``, the one
table of the network's slips: the diagnosis engine builds its candidates from the same
backward pass, so what is planted here is what the check names.
"""

from __future__ import annotations

from dataclasses import dataclass

from autodiff.core.slips import NETWORK_SLIPS, Slip
from reference.activations import get_activation


@dataclass(frozen=True)
class Mistake:
    """One planted mistake (``slip``); ``manual`` uses ``activation``."""

    slip: Slip
    activation: str = "logistic"

    @property
    def name(self) -> str:
        return self.slip.name

    @property
    def description(self) -> str:
        return self.slip.description

    @property
    def first_wrong(self) -> str:
        """Where the hand deltas first go wrong: "output" or "below-output"."""
        return self.slip.first_wrong

    def manual(self, params, x, y):
        """The mistaken gradient, ``[(dW, db), …]`` — same signature as ``reference.gradients``
        with the activation bound."""
        return self.slip.gradients(params, x, y, self.activation)

    def for_activation(self, activation: str) -> Mistake:
        get_activation(activation)
        return Mistake(self.slip, activation)

    def wrong_from(self, n_layers: int) -> int:
        """The 1-based layer that goes wrong first, walking backward from the output."""
        return n_layers if self.first_wrong == "output" else n_layers - 1

    def __call__(self, params, x, y):
        return self.manual(params, x, y)

    @property
    def __name__(self) -> str:  # shown as the manual's name in reports
        return f"mistake {self.name!r} [{self.activation}]"


MISTAKES: dict[str, Mistake] = {name: Mistake(slip) for name, slip in NETWORK_SLIPS.items()}


def get_mistake(name: str, activation: str = "logistic") -> Mistake:
    """The mistake called ``name`` for ``activation``; a ValueError lists the choices."""
    try:
        return MISTAKES[name].for_activation(activation)
    except KeyError:
        raise ValueError(f"mistake: unknown name {name!r}; expected one of {sorted(MISTAKES)}"
                         ) from None


# The layer library's planted mistakes (reference.layers), kept in their own module.
from autodiff.check.layers.mistakes import (  # noqa: E402, F401
    LAYER_MISTAKES,
    LayerMistake,
    get_layer_mistake,
)
