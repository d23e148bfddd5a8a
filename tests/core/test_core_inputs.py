"""``autodiff.core.inputs``, the one place every check resolves its dtype, draws its upstream
gradient and copies what user code is given: the layer library's check and ``check_vjp`` take
the same dtypes and refuse the same others, with the same message."""

import numpy as np
import pytest

import reference
from autodiff import check_gradients, check_vjp
from autodiff.check.layers.check import check_library_layer
from autodiff.core.inputs import fresh, random_dout, resolve_dtype


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float32")])
def test_float32_is_named_any_way(dtype):
    assert resolve_dtype(dtype) == np.float32


def test_none_follows_the_array_it_is_like():
    assert resolve_dtype(None, np.zeros(2, np.float32)) == np.float32
    assert resolve_dtype(None, np.zeros(2, np.float16)) == np.float64
    with pytest.raises(ValueError, match="dtype: expected 'float64' or 'float32', got None"):
        resolve_dtype(None)


@pytest.mark.parametrize("dtype", ["float16", "f16", np.int32, object()])
def test_every_check_refuses_other_dtypes_alike(dtype):
    message = "dtype: expected 'float64' or 'float32', got "
    with pytest.raises(ValueError, match=message):
        resolve_dtype(dtype)
    with pytest.raises(ValueError, match=message):
        check_library_layer("relu", dtype=dtype)
    with pytest.raises(ValueError, match=message):
        check_vjp(np.tanh, lambda d, x: d * (1 - np.tanh(x) ** 2), np.ones(3) / 3, dtype=dtype)


def test_random_dout_skips_outputs_without_a_gradient_and_copies_are_deep():
    rng = np.random.default_rng(0)
    dout = random_dout((np.zeros((2, 3)), np.arange(4), 1.5), rng, np.float32)
    assert dout[0].shape == (2, 3) and dout[0].dtype == np.float32
    assert dout[1] is None and dout[2].shape == ()
    given = {"running_mean": np.zeros(3)}
    copied = fresh(given)
    copied["running_mean"] += 1
    assert not given["running_mean"].any()



def _heart():
    x, y = reference.training_data()
    return reference.init_params([1, 6, 7, 2], rng=0), x, y


@pytest.mark.parametrize("dtype", ["f4", "float16", np.int32, object()])
def test_the_network_check_refuses_what_the_others_refuse(dtype):
    with pytest.raises(ValueError, match="dtype: expected 'float64' or 'float32', got "):
        check_gradients(*_heart(), dtype=dtype)


def test_the_network_check_follows_w1s_dtype_like_the_others():
    params, x, y = _heart()
    params32 = [(W.astype(np.float32), b.astype(np.float32)) for W, b in params]
    assert check_gradients(params32, x, y, oracle=False).dtype == "float32"
    assert check_gradients(params, x, y, oracle=False).dtype == "float64"
