"""``import autodiff.mistakes``: the planted mistakes under a short name — the network's
(``MISTAKES``, ``get_mistake``) and the layer library's (``LAYER_MISTAKES``,
``get_layer_mistake``). They live in ``autodiff.check.mistakes``; this module re-exports them."""

from autodiff.check.mistakes import (
    LAYER_MISTAKES,
    MISTAKES,
    LayerMistake,
    Mistake,
    get_layer_mistake,
    get_mistake,
)

__all__ = ["LAYER_MISTAKES", "MISTAKES", "LayerMistake", "Mistake", "get_layer_mistake",
           "get_mistake"]
