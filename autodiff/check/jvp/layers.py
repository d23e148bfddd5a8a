"""``check_layer_jvp``: a library layer's forward-mode rule (``reference.layers``' ``NAME_jvp``)
through ``check_jvp`` on the example arguments ``check_library_layer`` draws, the layer's
keyword options bound, tangents for its differentiable arguments (``layer.grads``) only;
``check_layer_pair`` ties that rule to the layer's backward by the dot-product identity."""

from __future__ import annotations

from autodiff.check.jvp.check import check_jvp
from autodiff.check.jvp.pair import check_pair
from autodiff.check.layers.check import example_inputs
from reference.layers import LAYERS


def _bound(name: str, rule, backward, options, dtype, seed: int):
    """``(forward, rule, backward, args, keywords)`` of layer ``name`` with its options bound."""
    if name not in LAYERS:
        raise ValueError(f"layer: unknown name {name!r}; expected one of {list(LAYERS)}")
    layer = LAYERS[name]
    rule, backward = rule or layer.jvp, backward or layer.backward
    if rule is None:
        raise ValueError(f"layer {name!r} has no forward-mode rule in the catalogue")
    args, options, _ = example_inputs(layer, seed, dtype, options=options)

    def forward(*arrays):
        return layer.forward(*arrays, **options)

    def rule_with_options(primals, tangents):
        return rule(primals, tangents, **options)

    def backward_with_options(dout, *arrays):
        return backward(dout, *arrays, **options)

    forward.__name__ = f"{name}_forward"
    rule_with_options.__name__ = getattr(rule, "__name__", f"{name}_jvp")
    backward_with_options.__name__ = getattr(backward, "__name__", f"{name}_backward")
    keywords = dict(dtype=dtype, seed=seed, wrt=[layer.args.index(g) for g in layer.grads],
                    names=list(layer.args))
    return forward, rule_with_options, backward_with_options, args, keywords


def check_layer_jvp(name: str, rule=None, options: dict | None = None, dtype="float64",
                    seed: int = 0, oracle: str = "auto"):
    """``check_jvp`` of layer ``name``'s ``rule`` (default: its own ``jvp``)."""
    forward, rule, _, args, keywords = _bound(name, rule, None, options, dtype, seed)
    return check_jvp(forward, rule, *args, oracle=oracle, **keywords)


def check_layer_pair(name: str, rule=None, backward=None, options: dict | None = None,
                     dtype="float64", seed: int = 0):
    """``check_pair`` of layer ``name``'s ``rule`` and ``backward`` (default: its own)."""
    forward, rule, backward, args, keywords = _bound(name, rule, backward, options, dtype, seed)
    return check_pair(forward, rule, backward, *args, **keywords)
