"""``check_gradients`` names the mistake of every failing block with the grader's engine
(``autodiff.core.slips`` over ``autodiff.core.diagnose``): each planted mistake of
``autodiff.check.mistakes`` gets its diagnosis on every failing block and no other mistake's,
a right gradient gets none, two mistakes are named both, and an unknown one says so."""

from __future__ import annotations

import json

import numpy as np
import pytest

import reference
from autodiff.check.crosscheck import check_gradients
from autodiff.check.mistakes import MISTAKES

# The diagnosis each planted mistake must get (σ' of the wrong layer, as planted, leaves
# σ'(z_k) out of block k's chain: "σ'(z_k) missing" is exactly what happened).
EXPECTED = {
    "dropped-sigma-prime": "sigma_prime_missing",
    "sigma-prime-wrong-layer": "sigma_prime_missing",
    "missing-transpose": "weight_not_transposed",
    "missing-1/N": "missing_1/N",
    "factor-2": "half",
    "sign": "sign",
    "bias-not-summed": "no_sum",
    "bias-averaged": "double_1/N",
    "wrong-derivative": "wrong_derivative",
    "derivative-of-activation": "sigma_prime_at_a",
}
# Equal hidden widths make W2 square (the transpose slip shows in values, not in shape).
NETWORKS = [("logistic", [2, 3, 3, 2]), ("tanh", [2, 3, 3, 2]), ("logistic", [3, 4, 5, 2])]


def _check(activation, sizes, manual):
    rng = np.random.default_rng(3)
    params = reference.init_params(sizes, rng)
    x = rng.normal(size=(sizes[0], 6))
    y = rng.uniform(size=(sizes[-1], 6))
    return check_gradients(params, x, y, activation, manual=manual, oracle=False, locate=False)


@pytest.mark.parametrize(("activation", "sizes"), NETWORKS)
def test_every_planted_mistake_is_named_on_every_failing_block_and_nothing_else(activation,
                                                                                 sizes):
    assert set(EXPECTED) == set(MISTAKES)
    for name, mistake in MISTAKES.items():
        result = _check(activation, sizes, mistake.for_activation(activation))
        assert not result.passed, name
        others = set(EXPECTED.values()) - {EXPECTED[name]}
        for block in result.blocks:
            keys = {key for key, _ in block.diagnosis}
            if block.status != "fail":
                assert keys == set(), (name, block.name)
                continue
            assert EXPECTED[name] in keys, (name, block.name, block.diagnosis)
            assert not keys & others, (name, block.name, block.diagnosis)


def test_a_right_gradient_gets_no_diagnosis():
    result = _check("logistic", [3, 4, 5, 2], None)
    assert result.passed and all(block.diagnosis == [] for block in result.blocks)
    assert "diagnosis:" not in result.table()
    assert all(block["diagnosis"] == [] for block in result.to_dict()["blocks"])


def test_missing_1_over_n_is_named_in_the_table_and_the_json():
    result = _check("logistic", [3, 4, 5, 2], MISTAKES["missing-1/N"])
    table = result.table()
    assert "diagnosis:" in table
    assert table.count("sums over the examples instead of averaging (1/N missing)") == 6
    document = json.loads(json.dumps(result.to_dict()))
    assert {entry["key"] for block in document["blocks"] for entry in block["diagnosis"]} == {
        "missing_1/N"}


def test_two_mistakes_in_one_gradient_are_named_both():
    def sign_and_sum(params, x, y):  # the sign flipped and 1/N missing, together
        return [(-x.shape[1] * dW, -x.shape[1] * db) for dW, db in reference.gradients(
            params, x, y)]

    result = _check("logistic", [3, 4, 5, 2], sign_and_sum)
    for block in result.blocks:
        assert {key for key, _ in block.diagnosis} == {"sign", "missing_1/N"}, block.name


def test_a_mistake_with_no_pattern_says_so_with_ratio_and_difference():
    def stray_constant(params, x, y):
        return [(dW + 1e-3, db) for dW, db in reference.gradients(params, x, y)]

    result = _check("logistic", [3, 4, 5, 2], stray_constant)
    assert result.failing_blocks == ["W1", "W2", "W3"]
    for block in result.blocks:
        if block.status == "fail":
            [(key, text)] = block.diagnosis
            assert key == "unrecognised" and "got - expected is 0.001" in text
            assert "got/expected from" in text


@pytest.mark.parametrize(("activation", "sizes"), NETWORKS)
def test_the_candidates_backward_pass_is_the_reference_one(activation, sizes):
    """Every candidate is the right chain with one slip: the chain itself must be right."""
    from autodiff.core.report import block_names
    from autodiff.core.slips import block_gradient, trace

    rng = np.random.default_rng(5)
    params = reference.init_params(sizes, rng)
    x, y = rng.normal(size=(sizes[0], 4)), rng.uniform(size=(sizes[-1], 4))
    right = [block for layer in reference.gradients(params, x, y, activation) for block in layer]
    forward = trace(params, x, activation)
    for name, expected in zip(block_names(len(params)), right, strict=True):
        np.testing.assert_allclose(block_gradient(forward, y, name), expected, rtol=1e-12,
                                   atol=1e-15)
