"""Where ``check_gradients`` spends the complex step: on blocks where manual and ``jax.grad``
disagree or come near their tolerance, on blocks it covers for next to nothing, and on every
block when asked; the result says which blocks went without, and a 1e-6 relative slip in one
element is caught with the complex step skipped where it decides nothing."""

import itertools

import numpy as np
import pytest

import reference
from autodiff.check import crosscheck, probes
from autodiff.check.crosscheck import check_gradients


def data(sizes, batch, seed=3):
    rng = np.random.default_rng(seed)
    params = reference.init_params(sizes, rng=rng, scale=0.3)
    return params, rng.standard_normal((sizes[0], batch)), rng.uniform(size=(sizes[-1], batch))


@pytest.fixture
def dear(monkeypatch):
    """Every block's third opinion counts as costly, as at 784-512-512-10."""
    monkeypatch.setattr(probes, "CHEAP", 0)


def nudged(element, share):
    """``reference.gradients`` with ``dW1[element]`` moved by ``share`` of its tolerance
    (``share`` < 1) or, with ``share`` a string, by that relative amount."""
    def manual(params, x, y):
        grads = reference.gradients(params, x, y)
        dW1 = grads[0][0].copy()
        if isinstance(share, str):
            dW1[element] *= 1 + float(share)
        else:
            bound = crosscheck.error_bounds(params, x, y, "logistic", np.float64).grads[0][0]
            dW1[element] += share * 2 * bound[element]
        grads[0] = (dW1, grads[0][1])
        return grads
    return manual


def test_agreement_far_inside_the_bound_skips_the_costly_third_opinion(dear):
    params, x, y = data([6, 5, 3], 8)
    result = check_gradients(params, x, y)
    assert result.passed and {b.coverage for b in result.blocks} == {"-"}
    assert any("third opinion not run on W1, b1, W2, b2" in hint for hint in result.hints)
    assert "third_opinion='always'" in result.table()
    everywhere = check_gradients(params, x, y, third_opinion="always")
    assert {b.coverage for b in everywhere.blocks} == {"all"} and not everywhere.hints


def test_near_the_bound_or_beyond_the_third_opinion_runs(dear):
    params, x, y = data([6, 5, 3], 8)
    near = check_gradients(params, x, y, manual=nudged((1, 2), 0.5))
    assert near.passed, near.table()
    assert [b.coverage for b in near.blocks] == ["all", "-", "-", "-"]
    slipped = check_gradients(params, x, y, manual=nudged((1, 2), "1e-6"), locate=False)
    assert slipped.failing_blocks == ["W1"]
    assert slipped.blocks[0].coverage == "all" and slipped.blocks[0].max_oracle_error > 0


def test_a_one_element_slip_is_caught_at_scale_with_the_complex_step_skipped(dear):
    params, x, y = data([300, 64, 10], 16)
    result = check_gradients(params, x, y, manual=nudged((40, 250), "1e-6"), locate=False)
    assert result.failing_blocks == ["W1"] and result.blocks[0].worst_index == (40, 250)
    assert [b.coverage for b in result.blocks] == ["16 dirs", "-", "-", "-"]


def test_an_unknown_policy_is_refused():
    params, x, y = data([2, 2], 3)
    with pytest.raises(ValueError, match="third_opinion: expected one of"):
        check_gradients(params, x, y, third_opinion="sometimes")


def test_a_small_block_on_top_of_a_large_network_is_not_cheap():
    # Its complex pass starts at the input: the layers below cost what they cost.
    sizes = [784, 512, 512, 10]
    params = [(np.zeros((n_out, n_in)), np.zeros((n_out, 1)))
              for n_in, n_out in itertools.pairwise(sizes)]
    blocks = [block for layer in params for block in layer]
    chosen, hint = probes.spent(params, np.zeros((784, 64)), blocks, blocks,
                                [np.ones_like(b) for b in blocks], probes.PROBES)
    assert chosen == [False] * 6 and "W1, b1, W2, b2, W3, b3" in hint
    small = [(np.zeros((3, 4)), np.zeros((3, 1))), (np.zeros((2, 3)), np.zeros((2, 1)))]
    blocks = [block for layer in small for block in layer]
    assert probes.spent(small, np.zeros((4, 5)), blocks, blocks,
                        [np.ones_like(b) for b in blocks], probes.PROBES)[0] == [True] * 4
