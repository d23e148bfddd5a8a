"""The forward-mode slips of the layer library, one table that plants them and names them.

Each ``Slip`` turns a layer's right ``jvp`` into a wrong one the way hand derivations go
wrong, and gives the diagnosis key ``check_jvp`` must name it by (``jvp.diagnose`` and
``core.diagnose``): a chain-rule term left out (``missing_term``: the weights' tangent in a
dense, conv or recurrent layer, γ's in a norm, the keys' in attention, the targets' in a
loss), a local derivative forgotten (``passed_through``: an elementwise layer, softmax), the
primal returned as the tangent (``primal``), and the tangent's sign flipped (``sign``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reference.layers import LAYERS

# The argument whose term a hand derivation most often forgets, per multi-argument layer.
FORGOTTEN = {"dense": "W", "conv2d": "w", "layernorm": "gamma", "batchnorm": "gamma",
             "attention": "k", "rnn_step": "Wh", "lstm_step": "c_prev", "squared_error": "y",
             "binary_cross_entropy": "y"}

# The layers whose tangent is a local derivative times the input's: forgetting it passes the
# input's tangent through.
PASSED_THROUGH = ("logistic", "tanh", "relu", "leaky_relu", "softplus", "softmax")


@dataclass(frozen=True)
class Slip:
    """``plant(rule)`` is ``rule`` with the slip; ``key`` the diagnosis that names it."""

    layer: str
    name: str
    key: str
    plant: Callable

    @property
    def label(self) -> str:
        return f"{self.layer}:{self.name}"


def _map_tangent(rule, change):
    def wrong(primals, tangents, **options):
        out, tangent = rule(primals, tangents, **options)
        if isinstance(tangent, tuple):
            return out, tuple(change(o, t, primals, tangents) for o, t in zip(out, tangent,
                                                                              strict=True))
        return out, change(out, tangent, primals, tangents)
    wrong.__name__ = f"{getattr(rule, '__name__', 'rule')} (planted slip)"
    return wrong


def _without(position: int):
    def plant(rule):
        def wrong(primals, tangents, **options):
            zeroed = list(tangents)
            zeroed[position] = np.zeros_like(tangents[position])
            return rule(primals, tuple(zeroed), **options)
        wrong.__name__ = f"{getattr(rule, '__name__', 'rule')} (planted slip)"
        return wrong
    return plant


def _slips() -> dict[str, Slip]:
    table = {}
    for name, layer in LAYERS.items():
        found = [
            Slip(name, "sign", "sign", lambda rule: _map_tangent(rule, lambda o, t, p, d: -t)),
            Slip(name, "primal", "primal", lambda rule: _map_tangent(rule, lambda o, t, p, d: o)),
        ]
        if name in FORGOTTEN:
            position = layer.args.index(FORGOTTEN[name])
            found.append(Slip(name, f"drop_{FORGOTTEN[name]}", "missing_term",
                              _without(position)))
        if name in PASSED_THROUGH:
            found.append(Slip(name, "no_derivative", "passed_through",
                              lambda rule: _map_tangent(rule, lambda o, t, p, d: d[0])))
        table.update({slip.label: slip for slip in found})
    return table


SLIPS: dict[str, Slip] = _slips()
