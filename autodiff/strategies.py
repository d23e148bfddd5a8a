"""``import autodiff.strategies``: the public hypothesis strategies under a short name — for
networks (``network_cases``, …), for any layer's arguments (``layer_cases``, ``check_layer``,
…), for forward-mode rules (``rule_cases``, ``check_rule``) and for Hessian-vector products
(``hvp_cases``, ``check_hvp_property``). They live beside their checks in ``autodiff.check``;
this module only re-exports them."""

from autodiff.check.hvp.strategies import HVPCase, check_hvp_property, hvp_cases
from autodiff.check.jvp.strategies import check_rule, rule_cases
from autodiff.check.strategies import (
    ACTIVATION_NAMES,
    DTYPE_NAMES,
    Floats,
    Integers,
    LayerCase,
    NetworkCase,
    activations,
    check_layer,
    dtypes,
    layer_arguments,
    layer_cases,
    layer_sizes,
    network_cases,
    networks,
    weight_scales,
)

__all__ = ["ACTIVATION_NAMES", "DTYPE_NAMES", "Floats", "HVPCase", "Integers", "LayerCase",
           "NetworkCase", "activations", "check_hvp_property", "check_layer", "check_rule",
           "dtypes", "hvp_cases", "layer_arguments", "layer_cases", "layer_sizes",
           "network_cases", "networks", "rule_cases", "weight_scales"]
