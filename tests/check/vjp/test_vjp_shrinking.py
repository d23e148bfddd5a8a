"""``check_layer``'s shrinking: dimensions fixed with ``dims=`` stay, a smaller case the layer
itself rejects (its own ``ValueError``) is not taken, a smaller case whose failure is of
another kind is not taken either (batch norm without its variance path must not shrink from
"no recognised pattern" to "1663 times the right value"), and the report is the tool's own."""

import numpy as np
import pytest
from layer_examples import loops as L

from autodiff.check.strategies import LayerCase, check_layer

AFFINE = {"x": ("N", "D"), "w": ("D", "M"), "b": ("M",)}
BATCHNORM = {"x": ("N", "D"), "gamma": ("D",), "beta": ("D",), "bn_param": {}}


def affine_forward(x, w, b):
    if x.shape[1] < 2:  # the layer's own check on a size, as real layers have
        raise ValueError(f"x: expected at least 2 features, got shape {x.shape}")
    return x @ w + b, (x, w, b)


def affine_backward_wrong_sign(dout, cache):
    x, w, _ = cache
    return dout @ w.T, x.T @ dout, -dout.sum(axis=0)


def reproduction(failure) -> LayerCase:
    return eval(str(failure.value).splitlines()[0], {"LayerCase": LayerCase})


def test_dimensions_fixed_with_dims_are_kept():
    with pytest.raises(AssertionError) as failure:
        check_layer(affine_forward, affine_backward_wrong_sign, AFFINE, cache_style=True,
                    dims={"N": 3, "M": 2, "D": 3}, max_examples=3, kinks=False)
    assert dict(reproduction(failure).dims) == {"N": 3, "D": 3, "M": 2}
    assert "FAIL: the backward is wrong in b" in str(failure.value)


def test_the_layers_own_error_on_a_smaller_size_is_not_a_smaller_case():
    with pytest.raises(AssertionError) as failure:
        check_layer(affine_forward, affine_backward_wrong_sign, AFFINE, cache_style=True,
                    dims={"D": 4}, max_examples=3, kinks=False)
    case = reproduction(failure)
    assert dict(case.dims)["N"] == 1 and dict(case.dims)["M"] == 1  # shrunk where it could
    assert dict(case.dims)["D"] == 4
    assert "sign flipped" in str(failure.value)


def test_a_drawn_case_the_layer_rejects_is_reported_with_its_error():
    with pytest.raises(AssertionError) as failure:
        check_layer(affine_forward, affine_backward_wrong_sign, AFFINE, cache_style=True,
                    dims={"D": 1}, max_examples=2)
    message = str(failure.value)
    assert message.startswith("LayerCase(") and "raised ValueError: x: expected at least 2" \
        in message


def batchnorm_backward_without_variance_path(dout, cache):
    xhat, gamma, var_eps = cache
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0)) / np.sqrt(var_eps)  # the Σ(dxhat·xhat) term dropped
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def test_shrinking_keeps_the_kind_of_failure():
    with pytest.raises(AssertionError) as failure:
        check_layer(L.batchnorm_forward, batchnorm_backward_without_variance_path, BATCHNORM,
                    cache_style=True, max_examples=3, kinks=False, dtype="float64")
    message = str(failure.value)
    assert "FAIL: the backward is wrong in x" in message
    assert "times the right value" not in message, message
    case = reproduction(failure)
    assert not case.check(*_pair()).passed


def _pair():
    from autodiff import from_cache_style
    return from_cache_style(L.batchnorm_forward, batchnorm_backward_without_variance_path)
