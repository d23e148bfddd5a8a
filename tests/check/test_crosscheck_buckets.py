"""The padded fast path computes the real network's gradient: real entries equal unpadded
``jax.grad`` within rounding, padded entries are exactly zero, and misfits are refused."""

import jax
import numpy as np
import pytest

from autodiff.check import buckets
from autodiff.check.cases import NetworkCase
from autodiff.core import network
from autodiff.core.tolerance import error_bounds

CASES = [
    NetworkCase(sizes=(1, 6, 7, 2), batch=100, seed=0),
    NetworkCase(sizes=(4, 16, 1, 16, 3, 4), batch=256, seed=1, scale=2.0, activation="tanh"),
    NetworkCase(sizes=(3, 2), batch=1, seed=2, scale=0.01, dtype="float32"),
    NetworkCase(sizes=(2, 9, 5), batch=37, seed=3, scale=8.0, dtype="float32",
                activation="tanh"),
]


def unpadded_grad(case, params, x, y):
    with jax.enable_x64(True):
        grads = jax.jit(network.grad, static_argnames="activation")(
            params, x, y, activation=case.activation)
        return [(np.asarray(dW), np.asarray(db)) for dW, db in grads]


def max_excess(got, want, bounds):
    return max(float(np.max(np.abs(g - w) - 2 * e))
               for gl, wl, el in zip(got, want, bounds.grads, strict=True)
               for g, w, e in zip(gl, wl, el, strict=True))


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_padded_equals_unpadded(case):
    params, x, y = case.build()
    bounds = error_bounds(params, x, y, case.activation, case.dtype)
    padded = buckets.grads_many([(params, x, y)], case.activation, case.dtype, chunk=4)[0]
    assert [g.shape for layer in padded for g in layer] == [
        p.shape for layer in params for p in layer]
    assert max_excess(padded, unpadded_grad(case, params, x, y), bounds) <= 0


def test_padding_is_exactly_zero_and_networks_do_not_mix():
    built = [case.build() for case in CASES[:2]]
    dtype = np.dtype("float64")
    with jax.enable_x64(True):
        padded = [buckets.pad(p, x, y, buckets.Bucket(), dtype) for p, x, y in built]
        dWs, dbs = (np.asarray(g) for g in
                    buckets.batched_grad("logistic")(*buckets.stack(padded)))
    for index, (params, _, _) in enumerate(built):
        for layer in range(buckets.Bucket().depth):
            n_out, n_in = params[layer][0].shape if layer < len(params) else (0, 0)
            outside = np.ones(dWs.shape[2:], bool)
            outside[:n_out, :n_in] = False
            assert np.all(dWs[index, layer][outside] == 0)
            assert np.all(dbs[index, layer][n_out:] == 0)


def test_without_the_unit_mask_padding_leaks():
    # The check above can fail: σ(0) = ½ on padded units feeds the next layer if not masked.
    case = CASES[0]
    params, x, y = case.build()
    dtype = np.dtype("float64")
    with jax.enable_x64(True):
        arrays = buckets.pad(params, x, y, buckets.Bucket(), dtype)
        arrays["unit_mask"] = np.ones_like(arrays["unit_mask"])
        arrays["Ws"][1] += 0.1  # padded weights that a leak would carry forward
        stacked = buckets.stack([arrays])
        dWs, dbs = (np.asarray(g)[0] for g in buckets.batched_grad("logistic")(*stacked))
    leaky = buckets.unpad(dWs, dbs, case.sizes)
    bounds = error_bounds(params, x, y, case.activation, case.dtype)
    assert max_excess(leaky, unpadded_grad(case, params, x, y), bounds) > 0


def test_a_network_that_does_not_fit_is_refused():
    params, x, y = NetworkCase(sizes=(2, 17, 1), batch=3).build()
    with pytest.raises(ValueError, match=r"network \[2, 17, 1\] with batch 3 does not fit"):
        buckets.pad(params, x, y, buckets.Bucket(), np.float64)
