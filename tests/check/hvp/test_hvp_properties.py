"""Properties of ``reference.hvp`` on random networks, widths and batches (hypothesis): it equals
JAX's forward-over-reverse product (``check_network_hvp``), the Hessian it applies is symmetric,
it is linear in ``v``, and on the worksheet's network it matches finite differences of the hand
gradient; ``check_hvp_property`` passes a right hvp and fails a wrong one."""

import numpy as np
import pytest
from hypothesis import given, settings

import reference
from autodiff.check.cases import NetworkCase
from autodiff.check.hvp.slips import get_slip
from autodiff.check.hvp.strategies import HVPCase, check_hvp_property, hvp_cases

U = np.finfo(np.float64).eps / 2


def flat(product):
    return np.concatenate([np.ravel(block) for pair in product for block in pair])


def other_direction(params, seed):
    rng = np.random.default_rng([seed, 7])
    return [(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params]


@settings(max_examples=4)
@given(hvp_cases(max_depth=3, max_width=6, max_batch=16))
def test_reference_hvp_agrees_with_jax(case):
    result = case.check()
    assert result.passed, f"{case!r}\n{result.table()}"


@given(hvp_cases(max_depth=4, max_width=8, max_batch=32))
def test_the_hessian_is_symmetric(case):
    params, x, y, u = case.build()
    w = other_direction(params, case.direction_seed)
    act = case.network.activation
    hu, hw = (flat(reference.hvp(params, x, y, d, activation=act)) for d in (u, w))
    fu, fw = flat(u), flat(w)
    # Each element of H w sums terms of size at most (|H| |w|)_j; two R-passes of a few
    # hundred roundings each (n = the largest array) bound its error by n·u times the sizes,
    # which |u|·|H w| underestimates only where terms cancel: a factor 1e3 covers that here.
    n = max(fu.size, x.size) + 32
    tolerance = 1e3 * n * U * (np.abs(fu) @ np.abs(hw) + np.abs(fw) @ np.abs(hu)) + 1e-300
    assert abs(fu @ hw - fw @ hu) <= tolerance


@given(hvp_cases(max_depth=4, max_width=8, max_batch=32))
def test_hvp_is_linear_in_v(case):
    params, x, y, u = case.build()
    w = other_direction(params, case.direction_seed)
    act = case.network.activation
    combined = [(2.5 * U_ - 0.75 * W_, 2.5 * c - 0.75 * d)
                for (U_, c), (W_, d) in zip(u, w, strict=True)]
    left = flat(reference.hvp(params, x, y, combined, activation=act))
    hu, hw = (flat(reference.hvp(params, x, y, d, activation=act)) for d in (u, w))
    right = 2.5 * hu - 0.75 * hw
    # Every step of the R-pass is linear in v; the two sides differ by rounding of terms of
    # the sizes 2.5|Hu| + 0.75|Hw| (the same hundred-rounding bound as above).
    n = max(left.size, x.size) + 32
    scale = 2.5 * np.abs(hu) + 0.75 * np.abs(hw) + np.max(2.5 * np.abs(hu) + 0.75 * np.abs(hw))
    assert np.all(np.abs(left - right) <= 1e3 * n * U * scale + 1e-300)


@given(hvp_cases(sizes=(1, 6, 7, 2), activation="logistic"))
def test_worksheet_hvp_matches_finite_differences_of_the_hand_gradient(case):
    params, x, y, v = case.build()

    def central(h):
        def gradient(sign):
            moved = [(W + sign * h * V, b + sign * h * c)
                     for (W, b), (V, c) in zip(params, v, strict=True)]
            return flat(reference.gradients(moved, x, y))
        return (gradient(1) - gradient(-1)) / (2 * h)

    coarse, fine = central(1e-4), central(5e-5)
    got = flat(reference.hvp(params, x, y, v))
    gradient = np.max(np.abs(flat(reference.gradients(params, x, y))))
    # Central differences err by c·h² (+ rounding u·|∇C|/h): halving h divides the first by 4,
    # so fine's error is about |coarse - fine| / 3; 4 times that, plus the rounding at h/2.
    tolerance = 4 * np.abs(coarse - fine) + 1e3 * U * (gradient + np.max(np.abs(got))) / 5e-5
    assert np.all(np.abs(got - fine) <= tolerance)


def test_a_planted_slip_fails_an_hvp_case():
    case = HVPCase(NetworkCase((2, 3, 2), batch=4, seed=1), direction_seed=2)
    result = case.check(hvp=get_slip("dropped-sigma-second").hvp)
    assert not result.passed and [d.key for d in result.diagnosis] == ["sigma_second_missing"]


def quadratic(A, x):
    return x @ A @ x / 2


def quadratic_hvp(v, A, x):
    V, u = v
    return (np.outer(u, x) + np.outer(x, u)) / 2, ((V + V.T) @ x + (A + A.T) @ u) / 2


def test_check_hvp_property_passes_a_right_hvp():
    check_hvp_property(quadratic, quadratic_hvp, {"A": ("D", "D"), "x": ("D",)},
                       max_examples=4)


def test_check_hvp_property_fails_a_wrong_hvp_with_the_case():
    def halved(v, A, x):
        hA, hx = quadratic_hvp(v, A, x)
        return hA, hx / 2 if x.size > 1 else hx

    with pytest.raises(AssertionError, match=r"(?s)LayerCase\(.*FAIL: the hvp is wrong in x"):
        check_hvp_property(quadratic, halved, {"A": ("D", "D"), "x": ("D",)},
                           max_examples=10)
