"""``autodiff.core.compare``: the one element-by-element judgement every checker ends in —
within each element's bound off kinks, within the interval of valid derivatives on them, a
non-finite value failing wherever it is, and a tie's sum within its range."""

import numpy as np
import pytest

from autodiff.check.layers.check import check_library_layer
from autodiff.core.compare import chain_interval, compare, interval, tie_gap


def test_within_the_margin_passes_and_the_worst_element_is_named():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    judged = compare(expected + np.array([[0.0, 0.5e-9], [0.0, 0.0]]), expected, 1e-9)
    assert judged.passed and judged.worst == (0, 1) and judged.worst_ratio == pytest.approx(0.5)
    judged = compare(expected + np.array([[0.0, 0.5e-9], [3e-9, 0.0]]), expected, 1e-9)
    assert not judged.passed and judged.worst == (1, 0)
    assert judged.failing.tolist() == [[False, False], [True, False]]


def test_on_a_kink_any_value_in_the_interval_passes_and_none_outside():
    low, high = interval([1.0, 1.0], [0.0, 1.0])  # a ReLU at 0, and a smooth element
    assert low.tolist() == [0.0, 1.0] and high.tolist() == [1.0, 1.0]
    kink = np.array([True, False])
    for value in (0.0, 0.3, 1.0):
        assert compare([value, 1.0], [0.5, 1.0], 1e-12, kink=kink, low=low, high=high).passed
    outside = compare([1.5, 1.0], [0.5, 1.0], 1e-12, kink=kink, low=low, high=high)
    assert not outside.passed and outside.distance[0] == pytest.approx(0.5)
    widened = compare([1.0 + 1e-6, 1.0], [0.5, 1.0], 1e-12, kink=kink, low=low, high=high,
                      interval_error=2e-6)
    assert widened.passed


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_value_fails_on_a_kink_and_off_it_and_unchecked(bad):
    kink = np.array([True, False])
    for where in (0, 1):
        got = np.array([0.5, 1.0])
        got[where] = bad
        judged = compare(got, [0.5, 1.0], 1.0, kink=kink, low=np.zeros(2), high=np.ones(2),
                         checked=np.array([False, False]))
        assert not judged.passed and judged.worst == (where,)


def test_unchecked_elements_are_not_judged():
    assert compare([5.0, 1.0], [0.0, 1.0], 1e-9, checked=np.array([False, True])).passed


def test_a_tie_counted_twice_is_outside_its_sum():
    got, mask = np.array([1.0, 1.0, 0.2]), np.array([True, True, False])
    assert tie_gap(got, mask, 1.0, 1.0, np.full(3, 1e-9), 1e-9)[0] == pytest.approx(1.0)
    assert tie_gap(np.array([0.4, 0.6, 0.2]), mask, 1.0, 1.0, np.full(3, 1e-9), 0.0)[0] == 0.0
    assert chain_interval([1.0, -2.0], [0.0, 3.0]) == (-2.0, 4.0)


def test_a_nan_on_a_library_layer_kink_is_not_excused():
    zeros = np.array([[0.0, 1.5, -0.5], [0.3, 0.0, -2.0]])

    def backward(dout, x, **_):
        return (dout * np.where(x > 0, 1.0, np.where(x == 0, np.nan, 0.0)),)

    result = check_library_layer("relu", args=(zeros,), backward=backward)
    assert not result.passed, result.table()
