"""check_jvp on inputs where a correct rule rounds more than the scan along t can see: a
float32 batch norm of inputs 1% apart, attention on scores tens apart in float64. Each passes
(the tolerance widened by the tangent's sensitivity to its inputs' rounding, or the rule
agreeing one precision up), and a real slip on the same inputs still fails."""

import numpy as np
import pytest

from autodiff import check_jvp
from reference.layers import LAYERS

BATCHNORM, ATTENTION = LAYERS["batchnorm"], LAYERS["attention"]
# One feature, three examples 1% apart: x - mean cancels two thirds of float32's digits.
CLOSE = (np.array([[0.5115884, 0.52092254, 0.5330469]], np.float32),
         np.array([[-0.33940253]], np.float32), np.array([[0.11939845]], np.float32))


def saturated_attention():
    """Scores up to hundreds apart: softmax within 1e-15 of one-hot in places."""
    rng = np.random.default_rng(9)
    return tuple(30 * rng.standard_normal(shape) for shape in ((3, 2), (3, 4), (2, 4)))


def one_element_off(rule, index, relative):
    def wrong(primals, tangents):
        out, tangent = rule(primals, tangents)
        tangent = tangent.copy()
        tangent[index] *= 1 + relative
        return out, tangent
    return wrong


def test_a_float32_batch_norm_of_close_inputs_passes():
    result = check_jvp(BATCHNORM.forward, BATCHNORM.jvp, *CLOSE)
    assert result.passed, result.table()


def test_attention_on_saturated_scores_passes_in_float64():
    result = check_jvp(ATTENTION.forward, ATTENTION.jvp, *saturated_attention())
    assert result.passed, result.table()


@pytest.mark.parametrize(("layer", "args", "relative"), [
    (BATCHNORM, CLOSE, 1e-2), (ATTENTION, saturated_attention(), 1e-6)])
def test_a_slip_on_the_same_inputs_still_fails(layer, args, relative):
    result = check_jvp(layer.forward, one_element_off(layer.jvp, (0, 1), relative), *args)
    assert not result.passed and result["tangent of out"].worst_index == (0, 1), result.table()


def test_a_rule_that_rounds_to_float32_inside_a_float64_check_fails():
    def float32_inside(primals, tangents):
        out, tangent = ATTENTION.jvp(primals, tangents)
        return out, tangent.astype(np.float32).astype(np.float64)

    rng = np.random.default_rng(2)
    args = tuple(rng.standard_normal(shape) for shape in ((3, 2), (3, 4), (2, 4)))
    assert not check_jvp(ATTENTION.forward, float32_inside, *args).passed
