"""Planted mistakes in the layer library: hand backwards each wrong in one classic way.

Each ``LayerMistake`` is a drop-in ``backward`` for one layer of ``reference.layers`` (same
signature), the correct backward with one line replaced (``autodiff.check.layers.slips``), so
that it differs from the truth in exactly one place. ``options`` are the layer options under
which the slip shows (a crop offset needs padding). ``LAYER_MISTAKES`` maps names to mistakes,
at least two per layer; ``autodiff.check.mistakes`` exposes them beside the network's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from autodiff.check.layers import slips as S
from reference import layers as L
from reference.activations import d_logistic, d_tanh, logistic
from reference.layers.normalization import EXAMPLES, FEATURES


@dataclass(frozen=True)
class LayerMistake:
    """One planted mistake: ``backward`` replaces ``layer``'s backward."""

    name: str
    layer: str
    description: str
    backward: Callable
    options: dict = field(default_factory=dict)

    def __call__(self, dout, *args, **options):
        return self.backward(dout, *args, **options)

    @property
    def __name__(self) -> str:  # shown as the backward's name in reports
        return f"mistake {self.name!r}"


_M = LayerMistake
LAYER_MISTAKES: dict[str, LayerMistake] = {m.name: m for m in [
    _M("dense-missing-transpose", "dense", "dx = W dout (reshaped to fit) where Wᵀ dout belongs",
       S.dense_missing_transpose),
    _M("dense-bias-averaged", "dense", "db = mean of dout over the batch, not its sum",
       S.dense_bias_averaged),
    _M("logistic-dropped-derivative", "logistic", "dx = dout: σ' left out",
       S.elementwise(lambda dout, x: dout)),
    _M("logistic-derivative-of-output", "logistic", "σ'(a) with a = σ(x), where σ'(x) belongs",
       S.elementwise(lambda dout, x: dout * d_logistic(logistic(x)))),
    _M("tanh-forgot-square", "tanh", "1 - tanh(x) where 1 - tanh²(x) belongs",
       S.elementwise(lambda dout, x: dout * (1 - np.tanh(x)))),
    _M("tanh-derivative-of-output", "tanh", "tanh'(a) with a = tanh(x), where tanh'(x) belongs",
       S.elementwise(lambda dout, x: dout * d_tanh(np.tanh(x)))),
    _M("relu-mask-from-dout", "relu", "the mask [dout > 0] where [x > 0] belongs",
       S.elementwise(lambda dout, x: dout * (dout > 0))),
    _M("relu-inverted-mask", "relu", "the mask [x < 0]: gradient passed where the unit is off",
       S.elementwise(lambda dout, x: dout * (x < 0))),
    _M("leaky-relu-zero-slope", "leaky_relu", "slope 0 below zero, as for ReLU",
       S.elementwise(lambda dout, x, slope=0.01: dout * (x > 0))),
    _M("leaky-relu-slopes-swapped", "leaky_relu", "slope where x > 0 and 1 below zero",
       S.elementwise(lambda dout, x, slope=0.01: dout * np.where(x > 0, slope, 1.0))),
    _M("softplus-inner-derivative-dropped", "softplus",
       "d log(1 + eˣ) = 1/(1 + eˣ): the chain rule's eˣ forgotten",
       S.elementwise(lambda dout, x: dout * logistic(-x))),
    _M("softplus-derivative-of-output", "softplus", "σ(softplus(x)) where σ(x) belongs",
       S.elementwise(lambda dout, x: dout * logistic(L.softplus_forward(x)))),
    _M("softmax-no-subtraction", "softmax", "dx = s ⊙ dout: the Jacobian's -s sᵀ dropped",
       S.elementwise(lambda dout, z: L.softmax_forward(z) * dout)),
    _M("softmax-diagonal-jacobian", "softmax", "dx = dout ⊙ s(1 - s), as if elementwise σ",
       S.elementwise(lambda dout, z: dout * L.softmax_forward(z) * (1 - L.softmax_forward(z)))),
    _M("layernorm-wrong-axis", "layernorm", "the backward's sums over the batch, not features",
       S.layernorm_wrong_axis),
    _M("layernorm-no-mean-variance-paths", "layernorm", "dx through x̂ alone (μ, σ² constant)",
       S.norm_without_paths(FEATURES, L.layernorm_backward)),
    _M("batchnorm-no-mean-variance-paths", "batchnorm", "dx through x̂ alone (μ, σ² constant)",
       S.norm_without_paths(EXAMPLES, L.batchnorm_backward)),
    _M("batchnorm-dgamma-unnormalised", "batchnorm", "dγ = Σ dout ⊙ (x - μ) where x̂ belongs",
       S.batchnorm_dgamma_unnormalised),
    _M("dropout-no-rescale", "dropout", "dx = dout ⊙ keep: the 1/(1 - p) forgotten",
       lambda dout, x, keep, p=0.5: (dout * keep,)),
    _M("dropout-mask-ignored", "dropout", "dx = dout / (1 - p): the mask forgotten",
       lambda dout, x, keep, p=0.5: (dout / (1 - p),)),
    _M("conv2d-unflipped-kernel", "conv2d", "dx by the full correlation with w, not w rotated 180°",
       S.conv_unflipped),
    _M("conv2d-crop-offset", "conv2d", "dx cropped at 0 instead of at the padding",
       S.conv_crop_offset, {"padding": 1}),
    _M("maxpool-whole-window", "maxpool", "dout routed to every input of the window",
       S.pool_routes(lambda winner, u, v, size: 1.0)),
    _M("maxpool-row-column-swapped", "maxpool", "the winner's flat index unravelled (col, row)",
       S.pool_routes(lambda winner, u, v, size: winner == v * size + u)),
    _M("embedding-overwrites-repeats", "embedding", "dE[:, ids] = dout: a repeated id keeps one",
       S.embedding_overwrites),
    _M("embedding-averages-repeats", "embedding", "a repeated id's columns averaged, not summed",
       S.embedding_averages),
    _M("rnn-derivative-of-output", "rnn_step", "tanh'(h_next) where tanh'(z) belongs",
       S.rnn_derivative_of_output),
    _M("rnn-dWh-with-h-next", "rnn_step", "dWh = dz h_nextᵀ where dz h_prevᵀ belongs",
       S.rnn_dWh_with_h_next),
    _M("lstm-gates-swapped", "lstm_step", "the input and forget gates' gradients swapped",
       S.lstm("gates-swapped")),
    _M("lstm-no-cell-path-from-h", "lstm_step", "dc = dc_next: c_next's path through h_next lost",
       S.lstm("no-cell-path")),
    _M("attention-no-softmax-subtraction", "attention",
       "dS = P ⊙ dP: the softmax Jacobian's subtraction dropped", S.attention("no-subtraction")),
    _M("attention-no-scale", "attention", "the 1/√d of the scores left out of dq and dk",
       S.attention("no-scale")),
    _M("flatten-no-transpose", "flatten", "dx = dout.reshape(x.shape): columns are examples",
       lambda dout, x: (dout.reshape(x.shape),)),
    _M("flatten-fortran-order", "flatten", "columns unflattened in Fortran order",
       lambda dout, x: (dout.T.reshape(x.shape, order="F"),)),
    _M("squared-error-missing-1/N", "squared_error", "the average over examples forgotten",
       S.loss(S.squared_error(2.0, per_example=False))),
    _M("squared-error-factor-2", "squared_error", "the 2 of d(r²)/dr forgotten",
       S.loss(S.squared_error(1.0, per_example=True))),
    _M("softmax-cross-entropy-missing-1/N", "softmax_cross_entropy",
       "dz = softmax(z) - onehot: the average over examples forgotten",
       S.loss(lambda dout, z, labels: (dout * (L.softmax_forward(z) - S.onehot(z, labels)),))),
    _M("softmax-cross-entropy-no-softmax", "softmax_cross_entropy",
       "dz = -onehot / N: the log-sum-exp's derivative forgotten",
       S.loss(lambda dout, z, labels: (-dout * S.onehot(z, labels) / z.shape[1],))),
    _M("bce-probability-gradient", "binary_cross_entropy",
       "dz = (p - y) / (p(1 - p)) / N: dL/dp used for dL/dz, σ' forgotten",
       S.loss(lambda dout, z, y: (dout * (logistic(z) - y) / (d_logistic(z) * z.shape[1]),
                                 -dout * z / z.shape[1]))),
    _M("bce-sign", "binary_cross_entropy", "dz = (y - σ(z)) / N: the sign flipped",
       S.loss(lambda dout, z, y: (dout * (y - logistic(z)) / z.shape[1], -dout * z / z.shape[1]))),
]}


def get_layer_mistake(name: str) -> LayerMistake:
    """The layer mistake called ``name``; a ValueError lists the choices."""
    try:
        return LAYER_MISTAKES[name]
    except KeyError:
        raise ValueError(f"mistake: unknown layer mistake {name!r}; expected one of "
                         f"{sorted(LAYER_MISTAKES)}") from None
