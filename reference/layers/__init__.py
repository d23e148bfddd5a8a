"""A library of layers, each a forward written once and a backward derived by hand.

Every layer is a pair ``NAME_forward(*args, **keywords) -> out`` and
``NAME_backward(dout, *args, **keywords) -> (dargs…)``, one gradient per floating argument (a
dropout mask, token ids and class labels get none). The forward is written against the Python
array API (``xp = x.__array_namespace__()``), so NumPy runs it and JAX differentiates the very
same code; the backward is NumPy, one chain-rule step per line, named as in the maths.
Nothing here imports JAX.

Layouts follow ``reference.backprop``: columns are examples (dense layers ``(features, N)``,
``W`` ``(n_out, n_in)``, ``b`` ``(n_out, 1)``); images are NCHW ``(N, C, H, W)``; tokens of an
attention are columns. Each module's docstring gives its layers' shapes, and
``LAYERS[name].layout`` repeats them in one line.

    from reference.layers import LAYERS, Stack, gradients
    LAYERS["conv2d"].forward is conv2d_forward
    stack = Stack.parse("conv2d,relu,maxpool,dense(units=3),softmax_cross_entropy")
"""

from reference.layers import entries as _entries  # noqa: F401  (fills the catalogue)
from reference.layers.attention import attention_backward, attention_forward
from reference.layers.catalog import LAYERS, Draw, Layer, Role
from reference.layers.conv import conv2d_backward, conv2d_forward, maxpool_backward, maxpool_forward
from reference.layers.dense import (
    dense_backward,
    dense_forward,
    dropout_backward,
    dropout_forward,
    embedding_backward,
    embedding_forward,
    flatten_backward,
    flatten_forward,
)
from reference.layers.elementwise import (
    leaky_relu_backward,
    leaky_relu_forward,
    logistic_backward,
    logistic_forward,
    relu_backward,
    relu_forward,
    softplus_backward,
    softplus_forward,
    tanh_backward,
    tanh_forward,
)
from reference.layers.losses import (
    binary_cross_entropy_backward,
    binary_cross_entropy_forward,
    softmax_backward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
    softmax_forward,
    squared_error_backward,
    squared_error_forward,
)
from reference.layers.network import network_grads, network_stack, stack_params
from reference.layers.normalization import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from reference.layers.recurrent import (
    lstm_step_backward,
    lstm_step_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from reference.layers.stack import Stack, backward, gradients, init, loss, outputs

LAYER_NAMES: tuple[str, ...] = tuple(LAYERS)
LOSS_NAMES: tuple[str, ...] = tuple(name for name, layer in LAYERS.items() if layer.kind == "loss")

__all__ = [
    "LAYERS", "LAYER_NAMES", "LOSS_NAMES", "Draw", "Layer", "Role", "Stack",
    "attention_backward", "attention_forward", "backward",
    "batchnorm_backward", "batchnorm_forward",
    "binary_cross_entropy_backward", "binary_cross_entropy_forward",
    "conv2d_backward", "conv2d_forward", "dense_backward", "dense_forward",
    "dropout_backward", "dropout_forward", "embedding_backward", "embedding_forward",
    "flatten_backward", "flatten_forward", "gradients", "init",
    "layernorm_backward", "layernorm_forward", "leaky_relu_backward", "leaky_relu_forward",
    "logistic_backward", "logistic_forward", "loss", "lstm_step_backward", "lstm_step_forward",
    "maxpool_backward", "maxpool_forward", "network_grads", "network_stack", "outputs",
    "relu_backward", "relu_forward", "rnn_step_backward", "rnn_step_forward",
    "softmax_backward", "softmax_cross_entropy_backward", "softmax_cross_entropy_forward",
    "softmax_forward", "softplus_backward", "softplus_forward",
    "squared_error_backward", "squared_error_forward", "stack_params",
    "tanh_backward", "tanh_forward",
]
