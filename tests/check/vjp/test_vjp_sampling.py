"""Where ``jax.vjp`` answers for every element, ``check_vjp`` scans a sample with finite
differences — ``SCAN_BUDGET`` elements, those near a foreseeable kink, and those where the
backward disagrees with the oracle — and loses neither a planted mistake nor a kink by it."""

import re

import numpy as np
import pytest
from layer_examples import array_api as A

from autodiff import check_vjp
from autodiff.check.vjp.sampling import SCAN_BUDGET, near_kinks

rng = np.random.default_rng(23)


def clipped(x):
    xp = x.__array_namespace__()
    return xp.maximum(x, 0.3)  # a kink at 0.3: nothing about the input foretells it


def test_a_large_input_is_scanned_on_a_sample_and_says_so():
    x = rng.standard_normal((20, 30))
    result = check_vjp(A.relu, A.relu_backward, x)
    assert result.passed
    trust = result["x"].trust
    scanned = int(re.search(r"finite differences at (\d+) of 600 elements", trust)[1])
    assert f": {SCAN_BUDGET} drawn at random" in trust and scanned < 60, trust
    assert result["x"].checked == 600  # jax.vjp still answers for every element


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("where", [(0, 0), (7, 11), (19, 29)])
def test_a_mistake_in_one_element_is_caught_with_sampling_on(where, dtype):
    x = rng.standard_normal((20, 30))
    relative = 1e-6 if dtype == "float64" else 1e-2  # float32: n·u of 600 terms is 4e-5

    def slipped(dout, x):
        dx = np.array(A.affine_backward(dout, x, w, b)[0])
        dx[where] *= 1 + relative
        return dx

    w, b = rng.standard_normal((30, 5)), rng.standard_normal(5)
    result = check_vjp(lambda x: A.affine(x, w, b), slipped, x, dtype=dtype)
    assert result.failing == ["x"] and result["x"].worst_index == where, result.table()
    assert "finite differences at every element (600)" in result["x"].trust


def test_kinks_at_zero_and_ties_are_scanned_though_not_drawn():
    x = rng.standard_normal((20, 30))
    x[3, 4] = x[9, 9] = 0.0
    x[5, 2] = x[5, 3]  # a tied max-pool pair
    near = near_kinks(x, float(np.sqrt(np.mean(x * x)))).reshape(x.shape)
    assert near[3, 4] and near[9, 9] and near[5, 2] and near[5, 3]
    result = check_vjp(A.relu, lambda d, x: d * (x >= 0), x)  # 1 at 0: valid
    assert result.passed and result["x"].kinks == 2, result.table()
    pooled = check_vjp(A.max_pool_1d, A.max_pool_1d_backward_every_max, x)
    assert not pooled.passed and pooled["x"].diagnosis[0][0] == "tie", pooled.table()


def test_an_unforeseen_kink_is_found_where_the_backward_takes_the_other_side():
    x = rng.uniform(-1, 1, (20, 30))
    x[17, 5] = 0.3  # one element: not a tie either
    # jax.vjp says 1 at 0.3 (or ½); a backward with x > 0.3 says 0 there: both valid.
    result = check_vjp(clipped, lambda d, x: d * (x > 0.3), x)
    assert result.passed, result.table()
    assert result["x"].kinks == 1
    assert "where the backward disagrees with the oracle" in result["x"].trust
    wrong = check_vjp(clipped, lambda d, x: d * np.where(x == 0.3, 2.0, x > 0.3), x)
    assert not wrong.passed and wrong["x"].worst_at_kink, wrong.table()
