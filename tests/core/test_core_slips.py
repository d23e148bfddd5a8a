"""``autodiff.core.slips.NETWORK_SLIPS``: one table of the network's slips that both plants a
mistake (``autodiff.check.mistakes``) and names it (the diagnosis engine's candidates, over
the same backward pass): every planted slip is named by its own key on a failing block."""

import pytest

import reference
from autodiff.check.cases import NetworkCase
from autodiff.check.crosscheck import check_gradients
from autodiff.check.mistakes import MISTAKES
from autodiff.core.slips import NETWORK_SLIPS


def test_the_planted_mistakes_are_the_tables_slips():
    assert set(MISTAKES) == set(NETWORK_SLIPS)
    assert all(MISTAKES[name].slip is NETWORK_SLIPS[name] for name in MISTAKES)


@pytest.mark.parametrize("name", sorted(NETWORK_SLIPS))
def test_each_planted_slip_is_named_by_its_own_key(name):
    params, x, y = NetworkCase(sizes=(2, 4, 3, 2), batch=5, seed=4).build()
    result = check_gradients(params, x, y, "logistic", manual=MISTAKES[name])
    assert not result.passed
    keys = {key for block in result.blocks for key, _ in block.diagnosis}
    assert NETWORK_SLIPS[name].key in keys, result.table()


def test_without_a_slip_the_table_gives_the_reference_gradient():
    params, x, y = NetworkCase(sizes=(2, 4, 3, 2), batch=5, seed=4).build()
    unchanged = NETWORK_SLIPS["sign"].gradients(params, x, y)
    for (dW, db), (rW, rb) in zip(unchanged, reference.gradients(params, x, y, "logistic"),
                                  strict=True):
        assert dW == pytest.approx(-rW, rel=1e-12) and db == pytest.approx(-rb, rel=1e-12)
