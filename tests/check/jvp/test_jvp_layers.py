"""The layer library's forward-mode rules: each passes check_jvp and agrees with its backward;
every planted slip of the slip table is caught and named by its key."""

import numpy as np
import pytest

from autodiff.check.jvp.check import check_jvp
from autodiff.check.jvp.layers import check_layer_jvp, check_layer_pair
from autodiff.check.jvp.slips import SLIPS
from reference.layers import LAYERS, maxpool_forward, relu_forward
from reference.layers.conv import maxpool_jvp
from reference.layers.elementwise import relu_jvp


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_has_a_right_forward_mode_rule(name, dtype):
    result = check_layer_jvp(name, dtype=dtype)
    assert result.passed, result.table()


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_rule_agrees_with_its_backward(name):
    result = check_layer_pair(name)
    assert result.passed, result.table()


@pytest.mark.parametrize("label", sorted(SLIPS))
def test_every_planted_slip_is_caught_and_named(label):
    slip = SLIPS[label]
    result = check_layer_jvp(slip.layer, rule=slip.plant(LAYERS[slip.layer].jvp))
    assert not result.passed, label
    keys = [d.key for row in result.arguments for d in row.diagnosis]
    assert keys[:1] == [slip.key], result.table()


def test_a_planted_slip_also_breaks_the_pair_and_is_blamed_on_the_rule():
    slip = SLIPS["dense:drop_W"]
    result = check_layer_pair("dense", rule=slip.plant(LAYERS["dense"].jvp))
    assert not result.passed and not result.jvp.passed and result.vjp.passed, result.table()


def test_relu_and_maxpool_rules_at_their_kinks():
    x = np.random.default_rng(3).standard_normal((2, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 0, 0]  # a tie inside the first window
    x[1, 0, 2, 3] = 0.0
    pooled = check_jvp(lambda x: maxpool_forward(x, size=2), lambda p, t: maxpool_jvp(p, t), x)
    assert pooled.passed, pooled.table()
    rectified = check_jvp(relu_forward, relu_jvp, x)
    assert rectified.passed and rectified["tangent of out"].kinks >= 1, rectified.table()


def test_a_rule_checks_its_tangents_shapes():
    with pytest.raises(ValueError, match="tangent of W"):
        LAYERS["dense"].jvp((np.ones((2, 3)), np.ones((4, 2)), np.ones((4, 1))),
                            (np.ones((2, 3)), np.ones((2, 4)), np.ones((4, 1))))
