"""``import autodiff.strategies``: the public hypothesis strategies under a short name — for
networks (``network_cases``, …) and for any layer's arguments (``layer_cases``, ``check_layer``,
…). They live in ``autodiff.check.strategies``; this module only re-exports them."""

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

__all__ = ["ACTIVATION_NAMES", "DTYPE_NAMES", "Floats", "Integers", "LayerCase", "NetworkCase",
           "activations", "check_layer", "dtypes", "layer_arguments", "layer_cases",
           "layer_sizes", "network_cases", "networks", "weight_scales"]
