"""Every planted mistake is caught, with the failing blocks and the first wrong layer named."""

import numpy as np
import pytest

import reference
from autodiff.check.crosscheck import check_gradients
from autodiff.check.mistakes import MISTAKES, get_mistake

# Widths ≥ 2 everywhere and non-square W3: a transpose slip or a batch-sum slip cannot be
# invisible (for a batch of one, or a 1-wide layer, some mistakes coincide with the truth).
SIZES = [3, 5, 4, 2]


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(7)
    params = reference.init_params(SIZES, rng=rng, scale=1.0)
    return params, rng.standard_normal((3, 9)), rng.uniform(size=(2, 9))


def expected_failing_blocks(name: str, n_layers: int) -> set[str]:
    """Which blocks each mistake corrupts, derived from where it sits in the backward pass."""
    if name in ("bias-not-summed", "bias-averaged"):
        return {f"b{layer}" for layer in range(1, n_layers + 1)}
    top = MISTAKES[name].wrong_from(n_layers)
    return {f"{kind}{layer}" for layer in range(1, top + 1) for kind in "Wb"}


def test_there_are_at_least_eight_mistakes():
    assert len(MISTAKES) >= 8


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_is_caught_and_located(case, name, activation):
    params, x, y = case
    mistake = get_mistake(name, activation)
    result = check_gradients(params, x, y, activation, manual=mistake)
    assert not result.passed
    assert set(result.failing_blocks) == expected_failing_blocks(name, len(params))
    assert result.first_wrong_layer == mistake.wrong_from(len(params))
    assert "FAIL" in result.table()
    for block in result.blocks:
        assert block.status in ("pass", "fail")


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_the_unmistaken_student_passes(case, activation):
    # The same backward pass with no slip must pass: the mistakes are the only difference.
    from autodiff.core.slips import hand_gradients

    params, x, y = case
    result = check_gradients(
        params, x, y, activation,
        manual=lambda p, xs, ys: hand_gradients(p, xs, ys, activation))
    assert result.passed, result.table()
    assert result.first_wrong_layer is None


def test_unknown_mistake_names_the_choices():
    with pytest.raises(ValueError, match=r"mistake: unknown name 'nope'.*factor-2"):
        get_mistake("nope")
