"""check_rule and rule_cases: a forward-mode rule property-checked on drawn cases; a wrong rule
or a wrong backward fails with a small runnable case."""

import numpy as np
import pytest
from hypothesis import given, settings

from autodiff.check.jvp.strategies import check_case, check_rule, rule_cases
from autodiff.check.vjp.strategies import LayerCase
from reference.layers import LAYERS

SPEC = {"x": ("D", "N"), "W": ("H", "D"), "b": ("H", 1)}
DENSE = LAYERS["dense"]


def relu(x):
    return np.maximum(x, 0.0)


def relu_jvp(primals, tangents):
    return relu(primals[0]), np.where(primals[0] > 0, tangents[0], 0.0)


def test_a_right_rule_and_backward_pass_every_drawn_case():
    check_rule(DENSE.forward, DENSE.jvp, SPEC, backward=DENSE.backward, max_examples=6)
    check_rule(relu, relu_jvp, {"x": ("N", "D")}, max_examples=6, kinks=True)


def test_a_wrong_rule_fails_with_a_small_case():
    def no_bias(primals, tangents):
        return DENSE.jvp(primals, (*tangents[:2], np.zeros_like(tangents[2])))

    with pytest.raises(AssertionError) as raised:
        check_rule(DENSE.forward, no_bias, SPEC, max_examples=6, dims={"D": 3})
    text = str(raised.value)
    assert text.startswith("LayerCase(") and "the term of b is missing" in text
    assert "('D', 3)" in text and "('N', 1)" in text  # D kept as fixed, N made smallest


def test_a_wrong_backward_fails_the_pair():
    def bias_averaged(dout, x, W, b):
        dx, dW, db = DENSE.backward(dout, x, W, b)
        return dx, dW, db / x.shape[1]

    with pytest.raises(AssertionError, match="dot-product identity"):
        check_rule(DENSE.forward, DENSE.jvp, SPEC, backward=bias_averaged, max_examples=6,
                   dims={"N": 3})


@settings(max_examples=5, deadline=None, database=None)
@given(rule_cases({"x": ("N", "D")}, dtype="float64"))
def test_rule_cases_in_a_users_own_given(case):
    assert isinstance(case, LayerCase)
    result = check_case(case, relu, relu_jvp)
    assert result.passed, result.table()
