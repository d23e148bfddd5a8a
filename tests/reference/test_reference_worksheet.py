"""The worksheet's API: names, shapes, globals, the heart, and its six Jacobians."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import reference
from reference import worksheet

JACOBIANS = {
    "W1": worksheet.J_W1, "b1": worksheet.J_b1,
    "W2": worksheet.J_W2, "b2": worksheet.J_b2,
    "W3": worksheet.J_W3, "b3": worksheet.J_b3,
}


@pytest.fixture(autouse=True)
def _restore_worksheet_globals():
    saved = worksheet.get_params()
    yield
    worksheet.set_params(saved)


def test_star_import_brings_the_worksheet_names():
    namespace: dict = {}
    exec("from reference.worksheet import *", namespace)
    for name in ["sigma", "d_sigma", "reset_network", "network_function", "cost",
                 "training_data", *(f"J_{k}" for k in JACOBIANS)]:
        assert callable(namespace[name]), name


def test_reset_network_draws_randn_over_two_into_the_globals():
    worksheet.reset_network(4, 3, random=np.random.RandomState(11))
    expected = np.random.RandomState(11)
    for name, shape in [("W1", (4, 1)), ("W2", (3, 4)), ("W3", (2, 3)),
                        ("b1", (4, 1)), ("b2", (3, 1)), ("b3", (2, 1))]:
        value = getattr(worksheet, name)
        np.testing.assert_array_equal(value, expected.randn(*shape) / 2, err_msg=name)
        assert getattr(reference, name) is value  # reference.W1 reads the live global


def test_network_function_returns_every_stage():
    worksheet.reset_network(random=np.random.RandomState(0))
    x, _ = reference.training_data(10)
    stages = worksheet.network_function(x)
    assert [s.shape for s in stages] == [(1, 10), (6, 10), (6, 10), (7, 10), (7, 10),
                                         (2, 10), (2, 10)]
    np.testing.assert_allclose(stages[2], worksheet.sigma(stages[1]))


def test_training_data_is_the_heart():
    x, y = reference.training_data()
    assert x.shape == (1, 100) and y.shape == (2, 100)
    np.testing.assert_allclose(x[0, :3], [0.0, 0.01, 0.02])
    # The curve's formula at t = 1/4 (s = π/2): x = 16/20, y = (0 + 5 - 0 - 1)/20, then (v+1)/2.
    np.testing.assert_allclose(y[:, 25], [(16 / 20 + 1) / 2, (4 / 20 + 1) / 2])
    assert y.min() > 0 and y.max() < 1
    # arange(0, 1, 1/N) rounds to N+1 points for N = 49, 98, 103, …: the data keeps exactly N.
    for n in (1, 3, 49, 98, 100, 103, 1000):
        assert reference.training_data(n)[0].shape == (1, n)


def test_training_data_rejects_a_bad_count():
    with pytest.raises(ValueError, match=r"N: expected a positive integer.*got 0"):
        reference.training_data(0)


def test_network_function_before_reset_names_the_fix(monkeypatch):
    monkeypatch.setattr(worksheet, "W1", None)
    with pytest.raises(RuntimeError, match="reset_network"):
        worksheet.network_function(np.zeros((1, 3)))


@pytest.mark.parametrize(("n1", "n2", "n_examples"), [(6, 7, 100), (1, 1, 1), (5, 5, 13),
                                                       (50, 50, 32)])
def test_worksheet_jacobians_equal_general_gradients(n1, n2, n_examples):
    worksheet.reset_network(n1, n2, random=np.random.RandomState(n1 + n2))
    x, y = reference.training_data(n_examples)
    general = reference.gradients(worksheet.get_params(), x, y)
    names = iter(JACOBIANS)
    for dW, db in general:
        for expected in (dW, db):
            name = next(names)
            got = JACOBIANS[name](x, y)
            assert got.shape == expected.shape, name
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, err_msg=name)


def test_worksheet_cost_matches_general_cost_and_starts_near_a_fifth():
    worksheet.reset_network(random=np.random.RandomState(0))
    x, y = reference.training_data()
    general = reference.cost(worksheet.get_params(), x, y)
    assert worksheet.cost(x, y) == pytest.approx(general, rel=1e-12)
    assert 0.05 < general < 0.5


def test_the_comparison_can_fail_when_a_jacobian_is_wrong(monkeypatch):
    worksheet.reset_network(random=np.random.RandomState(2))
    x, y = reference.training_data(20)
    wrong = lambda z: np.cosh(z / 2) ** (-2)  # noqa: E731 — σ' without its 1/4
    monkeypatch.setattr(worksheet, "d_sigma", wrong)
    expected = reference.gradients(worksheet.get_params(), x, y)[2][0]
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(worksheet.J_W3(x, y), expected, rtol=1e-12)


# --- overflow: the worksheet's formulas versus the general path --------------------------------

def test_worksheet_sigma_overflows_with_a_warning_but_the_right_limit():
    with pytest.warns(RuntimeWarning, match="overflow"):
        value = worksheet.sigma(np.array([-1000.0]))
    assert value[0] == 0.0
    with pytest.warns(RuntimeWarning, match="overflow"):
        value = worksheet.d_sigma(np.array([2000.0]))
    assert value[0] == 0.0


def test_worksheet_formulas_are_quiet_in_the_normal_range():
    z = np.linspace(-700, 700, 1001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s, ds = worksheet.sigma(z), worksheet.d_sigma(z)
    # s(1 - s) cancels for large z, so it is only good to ~eps absolutely there.
    np.testing.assert_allclose(ds[np.abs(z) < 30], (s * (1 - s))[np.abs(z) < 30], atol=4 * 2.0**-52)


@pytest.mark.parametrize("name", sorted(reference.ACTIVATIONS))
def test_general_activations_are_finite_and_warning_free_for_any_finite_z(name):
    f, f_prime = reference.ACTIVATIONS[name]
    z = np.array([-1e300, -1e10, -800.0, -30.0, -1e-300, 0.0, 1e-300, 30.0, 800.0, 1e10, 1e300,
                  np.finfo(np.float64).max, -np.finfo(np.float64).max])
    with np.errstate(all="raise"):
        values, slopes = f(z), f_prime(z)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(slopes))
    assert np.all(slopes >= 0)
    limit_low = 0.0 if name == "logistic" else -1.0
    assert values[0] == limit_low and values[10] == 1.0
    assert slopes[0] == 0.0 and slopes[10] == 0.0


@pytest.mark.parametrize("name", sorted(reference.ACTIVATIONS))
def test_general_derivatives_match_the_textbook_form_where_it_is_safe(name):
    f, f_prime = reference.ACTIVATIONS[name]
    z = np.linspace(-20, 20, 401)
    textbook = f(z) * (1 - f(z)) if name == "logistic" else 1 - np.tanh(z) ** 2
    np.testing.assert_allclose(f_prime(z), textbook, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(f(z)[z > 0] + f(-z)[z > 0],
                               1.0 if name == "logistic" else 0.0, atol=1e-15)


def test_general_gradients_at_huge_pre_activations_are_finite_and_quiet():
    params = [(np.array([[1e300]]), np.array([[0.0]])), (np.array([[-1e300]]), np.array([[0.0]]))]
    x, y = np.array([[1.0, -1.0]]), np.array([[0.5, 0.5]])
    with np.errstate(all="raise"):
        grads = reference.gradients(params, x, y)
    assert all(np.all(np.isfinite(g)) for pair in grads for g in pair)
