"""The catalogue's entries: for each layer, example arguments for a check and its stack role.

Examples are small and exercise what goes wrong by hand: repeated token ids, a stride and
padding that do not divide evenly, ``n ≥ 2`` so that batch sums are visible. In a stack, dense,
convolution and recurrent weights are drawn with standard deviation ``1/√fan_in`` (times the
draw's scale), so that activations stay of order one whatever the widths.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from reference.layers import attention, conv, dense, elementwise, losses, normalization, recurrent
from reference.layers.catalog import ANY, COLUMNS, IDS, IMAGES, LAYERS, Draw, Layer, Role, register


def _weight(draw: Draw, *shape: int, fan_in: int) -> np.ndarray:
    return draw.normal(*shape, scale=draw.scale / math.sqrt(fan_in))


def _columns(draw: Draw) -> np.ndarray:
    return draw.normal(draw.w, draw.n)


register(Layer(
    "dense", dense.dense_forward, dense.dense_backward, ("x", "W", "b"),
    "x (n_in, N), W (n_out, n_in), b (n_out, 1); out (n_out, N)",
    lambda draw: ((_columns(draw), draw.normal(draw.w + 1, draw.w), draw.normal(draw.w + 1, 1)),
                  {}),
    Role(COLUMNS, options={"units": 4},
         params=lambda shape, draw, o: (_weight(draw, o["units"], shape[0], fan_in=shape[0]),
                                        draw.normal(o["units"], 1)),
         out_shape=lambda shape, o: (o["units"], shape[1]))))

for _name in ("logistic", "tanh", "relu", "leaky_relu", "softplus"):
    register(Layer(
        _name, getattr(elementwise, f"{_name}_forward"), getattr(elementwise, f"{_name}_backward"),
        ("x",),
        "x: any shape; out: x's shape",
        lambda draw: ((_columns(draw),), {}),
        Role(ANY, options={"slope": 0.01} if _name == "leaky_relu" else {})))

register(Layer(
    "softmax", losses.softmax_forward, losses.softmax_backward, ("z",),
    "z (C, N); out (C, N), each column summing to 1",
    lambda draw: ((_columns(draw),), {}), Role(COLUMNS)))


def _norm_params(shape, draw, options):
    return draw.normal(shape[0], 1, scale=1.0), draw.normal(shape[0], 1, scale=1.0)


for _name in ("layernorm", "batchnorm"):
    register(Layer(
        _name, getattr(normalization, f"{_name}_forward"),
        getattr(normalization, f"{_name}_backward"),
        ("x", "gamma", "beta"), "x (D, N), gamma (D, 1), beta (D, 1); out (D, N)",
        lambda draw: ((_columns(draw), draw.normal(draw.w, 1, scale=1.0),
                       draw.normal(draw.w, 1, scale=1.0)), {}),
        Role(COLUMNS, params=_norm_params)))

def _dropout_mask(shape, options) -> np.ndarray:
    return np.random.default_rng(options["seed"]).random(shape) >= options["p"]


register(Layer(
    "dropout", dense.dropout_forward, dense.dropout_backward, ("x",),
    "x any shape, keep: a boolean mask of x's shape; out: x's shape",
    lambda draw: ((_columns(draw), draw.rng.random((draw.w, draw.n)) >= 0.5), {"p": 0.5}),
    # In a stack the mask is drawn from the layer's own seed, so both sides see the same one.
    Role(ANY, options={"p": 0.5, "seed": 0},
         call=lambda f, a, params, kw, o: f(a, _dropout_mask(a.shape, o), **kw),
         back=lambda b, d, a, params, kw, o: b(d, a, _dropout_mask(a.shape, o), **kw))))

def _conv_out(shape, o):
    size = [(s + 2 * o["padding"] - o["kernel"]) // o["stride"] + 1 for s in shape[2:]]
    return (shape[0], o["filters"], *size)


register(Layer(
    "conv2d", conv.conv2d_forward, conv.conv2d_backward, ("x", "w", "b"),
    "x (N, C, H, W), w (F, C, KH, KW), b (F,); out (N, F, H', W'), NCHW",
    lambda draw: ((draw.normal(draw.n, 2, draw.w + 2, draw.w + 3), draw.normal(3, 2, 3, 2),
                   draw.normal(3)),
                  {"stride": draw.choice([1, 2]), "padding": draw.choice([0, 1])}),
    Role(IMAGES, options={"filters": 4, "kernel": 3, "stride": 1, "padding": 1},
         params=lambda shape, draw, o: (
             _weight(draw, o["filters"], shape[1], o["kernel"], o["kernel"],
                     fan_in=shape[1] * o["kernel"] ** 2), draw.normal(o["filters"])),
         out_shape=_conv_out)))


def _pool_out(shape, o):
    stride = o["stride"] or o["size"]
    return (*shape[:2], *[(s - o["size"]) // stride + 1 for s in shape[2:]])


register(Layer(
    "maxpool", conv.maxpool_forward, conv.maxpool_backward, ("x",),
    "x (N, C, H, W); out (N, C, H', W'), NCHW",
    lambda draw: ((draw.normal(draw.n, 2, draw.w + 2, draw.w + 3),),
                  draw.choice([{"size": 2}, {"size": 3, "stride": 2}, {"size": 2, "stride": 1}])),
    Role(IMAGES, options={"size": 2, "stride": None}, out_shape=_pool_out)))


register(Layer(
    "embedding", dense.embedding_forward, dense.embedding_backward, ("E",),
    "ids (N,) integers, E (dim, vocab); out (dim, N)",
    lambda draw: ((np.concatenate([draw.ints(3, draw.n), [0, 0]]), draw.normal(draw.w, 3)), {}),
    Role(IDS, options={"vocab": 10, "dim": 4}, input_grad=False,
         params=lambda shape, draw, o: (draw.normal(o["dim"], o["vocab"]),),
         out_shape=lambda shape, o: (o["dim"], shape[0]))))


def _rnn_params(gates: int, cell: bool):
    def params(shape, draw, o):
        hidden, d = o["hidden"], shape[0]
        states = [draw.normal(hidden, shape[1], scale=1.0) for _ in range(2 if cell else 1)]
        return (*states, _weight(draw, gates * hidden, d, fan_in=d),
                _weight(draw, gates * hidden, hidden, fan_in=hidden),
                draw.normal(gates * hidden, 1))
    return params


def _step_example(gates: int, cell: bool):
    def example(draw: Draw):
        h = draw.w
        states = [draw.normal(h, draw.n, scale=1.0) for _ in range(2 if cell else 1)]
        return ((_columns(draw), *states, draw.normal(gates * h, draw.w, scale=draw.scale / 2),
                 draw.normal(gates * h, h, scale=draw.scale / 2), draw.normal(gates * h, 1)), {})
    return example


register(Layer(
    "rnn_step", recurrent.rnn_step_forward, recurrent.rnn_step_backward,
    ("x", "h_prev", "Wx", "Wh", "b"),
    "x (D, N), h_prev (H, N), Wx (H, D), Wh (H, H), b (H, 1); out h_next (H, N)",
    _step_example(1, False),
    Role(COLUMNS, options={"hidden": 4}, params=_rnn_params(1, False),
         out_shape=lambda shape, o: (o["hidden"], shape[1]))))

register(Layer(
    "lstm_step", recurrent.lstm_step_forward, recurrent.lstm_step_backward,
    ("x", "h_prev", "c_prev", "Wx", "Wh", "b"),
    "x (D, N), h_prev and c_prev (H, N), Wx (4H, D), Wh (4H, H), b (4H, 1); "
    "out (h_next, c_next), each (H, N)",
    _step_example(4, True),
    # In a stack the step passes h_next on; c_next leaves the stack, so its gradient is zero.
    Role(COLUMNS, options={"hidden": 4}, params=_rnn_params(4, True),
         out_shape=lambda shape, o: (o["hidden"], shape[1]),
         call=lambda f, a, params, kw, o: f(a, *params)[0],
         back=lambda b, d, a, params, kw, o: b((d, np.zeros_like(d)), a, *params))))

register(Layer(
    "attention", attention.attention_forward, attention.attention_backward, ("q", "k", "v"),
    "q (d, Tq), k (d, Tk), v (dv, Tk); out (dv, Tq), one column per token",
    lambda draw: ((_columns(draw), draw.normal(draw.w, draw.n + 1),
                   draw.normal(draw.w + 1, draw.n + 1)), {}),
    # In a stack: self-attention, the N columns being the tokens of one sequence.
    Role(COLUMNS, call=lambda f, a, params, kw, o: f(a, a, a),
         back=lambda b, d, a, params, kw, o: (sum(b(d, a, a, a)),))))

register(Layer(
    "flatten", dense.flatten_forward, dense.flatten_backward, ("x",),
    "x (N, C, H, W); out (C·H·W, N)",
    lambda draw: ((draw.normal(draw.n, 2, draw.w, 2),), {}),
    Role(IMAGES, out_shape=lambda shape, o: (math.prod(shape[1:]), shape[0]))))


register(Layer(
    "squared_error", losses.squared_error_forward, losses.squared_error_backward, ("a", "y"),
    "a (D, N), y (D, N); out: Σ (a - y)² / N", lambda draw: ((_columns(draw), _columns(draw)), {}),
    Role(COLUMNS), kind="loss", target=lambda shape, draw: draw.normal(*shape, scale=1.0)))

register(Layer(
    "softmax_cross_entropy", losses.softmax_cross_entropy_forward,
    losses.softmax_cross_entropy_backward, ("z",),
    "z (C, N) logits, labels (N,) integers in [0, C); out: mean cross-entropy",
    lambda draw: ((_columns(draw), draw.ints(draw.w, draw.n)), {}),
    Role(COLUMNS), kind="loss", target=lambda shape, draw: draw.ints(shape[0], shape[1])))

register(Layer(
    "binary_cross_entropy", losses.binary_cross_entropy_forward,
    losses.binary_cross_entropy_backward, ("z", "y"),
    "z (K, N) logits, y (K, N) targets in [0, 1]; out: mean log-loss of σ(z)",
    lambda draw: ((_columns(draw), draw.rng.uniform(size=(draw.w, draw.n)).astype(draw.dtype)),
                  {}),
    Role(COLUMNS), kind="loss",
    target=lambda shape, draw: draw.rng.uniform(size=shape).astype(draw.dtype)))


# Each layer's forward-mode rule, derived by hand beside its backward in the same module.
for _module in (attention, conv, dense, elementwise, losses, normalization, recurrent):
    for _name in list(LAYERS):
        _rule = getattr(_module, f"{_name}_jvp", None)
        if _rule is not None:
            LAYERS[_name] = replace(LAYERS[_name], jvp=_rule)
