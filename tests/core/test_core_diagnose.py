"""The array-level diagnosis engine (``autodiff.core.diagnose``): every slip is named when it
is there, and only then — the right answer gets no diagnosis, a different slip does not get
its label, and an off-by-a-millionth result is not mistaken for a clean slip."""

from __future__ import annotations

import numpy as np
import pytest

from autodiff.core.diagnose import Candidate, diagnose, match, scalar_slips, unrecognised

RNG = np.random.default_rng(7)
EXPECTED = RNG.normal(size=(3, 4))
COLUMN = RNG.normal(size=(5, 1))
SQUARE = RNG.normal(size=(4, 4))
OTHER = RNG.normal(size=(3, 4))  # an unrelated formula's result, offered as a candidate
BATCH = 5
TOLERANCE = 1e-12


def keys(expected, got, **kwargs) -> list[str]:
    return [d.key for d in match(expected, got, TOLERANCE, batch=BATCH, **kwargs)]


SLIPS = {
    # name: (expected, got, the exact set of keys)
    "sign": (EXPECTED, -EXPECTED, {"sign"}),
    "twice": (EXPECTED, 2 * EXPECTED, {"factor_2"}),
    "half": (EXPECTED, EXPECTED / 2, {"half"}),
    "missing 1/N": (EXPECTED, BATCH * EXPECTED, {"missing_1/N"}),
    "double 1/N": (EXPECTED, EXPECTED / BATCH, {"double_1/N"}),
    "sign and missing 1/N": (EXPECTED, -BATCH * EXPECTED, {"sign", "missing_1/N"}),
    "half and double 1/N": (EXPECTED, EXPECTED / (2 * BATCH), {"half", "double_1/N"}),
    "sign, twice and 1/N twice": (EXPECTED, -2 * EXPECTED / BATCH,
                                  {"sign", "factor_2", "double_1/N"}),
    "constant factor": (EXPECTED, 3.7 * EXPECTED, {"constant_factor"}),
    "zeros": (EXPECTED, np.zeros_like(EXPECTED), {"zeros"}),
    "transposed": (EXPECTED, EXPECTED.T, {"transposed"}),
    "transposed square": (SQUARE, SQUARE.T.copy(), {"transposed"}),
    "transposed and sign": (EXPECTED, -EXPECTED.T, {"transposed", "sign"}),
    "transposed column": (COLUMN, COLUMN.T, {"transposed"}),
    "flattened": (COLUMN, COLUMN.ravel(), {"flattened"}),
    "reshaped": (EXPECTED, EXPECTED.reshape(2, 6), {"reshaped"}),
    "candidate": (EXPECTED, OTHER, {"other"}),
    "candidate and sign": (EXPECTED, -OTHER, {"other", "sign"}),
    "candidate and missing 1/N": (EXPECTED, BATCH * OTHER, {"other", "missing_1/N"}),
}
CANDIDATES = [Candidate("other", "the other formula", OTHER)]


@pytest.mark.parametrize("name", SLIPS)
def test_each_slip_is_named_and_nothing_else(name):
    expected, got, wanted = SLIPS[name]
    assert set(keys(expected, got, candidates=CANDIDATES)) == wanted


@pytest.mark.parametrize("name", SLIPS)
def test_a_slip_off_by_a_millionth_is_not_that_slip(name):
    expected, got, _ = SLIPS[name]
    if not np.any(got):
        return  # zeros: a millionth of zero is zero
    spoiled = np.array(got, dtype=np.float64)
    index = np.unravel_index(np.argmax(np.abs(spoiled)), spoiled.shape)
    spoiled[index] *= 1 + 1e-6
    assert keys(expected, spoiled, candidates=CANDIDATES) == []


@pytest.mark.parametrize("expected", [EXPECTED, COLUMN, SQUARE])
def test_the_right_answer_gets_no_diagnosis(expected):
    within_rounding = expected + RNG.uniform(-1, 1, expected.shape) * TOLERANCE / 2
    assert match(expected, within_rounding, TOLERANCE, batch=BATCH, candidates=CANDIDATES) == []
    assert diagnose(expected, within_rounding, TOLERANCE, batch=BATCH) == []


def test_a_candidate_equal_to_the_right_answer_explains_nothing():
    same = [Candidate("same", "the right formula again", EXPECTED.copy())]
    assert keys(EXPECTED, 2 * EXPECTED, candidates=same) == ["factor_2"]


def test_an_exact_shape_candidate_needs_its_shape():
    only_flat = [Candidate("flat", "flat", OTHER.ravel(), exact_shape=True)]
    assert keys(EXPECTED, OTHER, candidates=only_flat) == []
    assert keys(EXPECTED, OTHER.ravel(), candidates=only_flat) == ["flat"]


def test_scale_widens_the_tolerance_for_large_candidates():
    big = OTHER * 1e6
    noisy = big + 1e3 * TOLERANCE
    assert keys(EXPECTED, noisy, candidates=[Candidate("big", "big", big)]) == []
    assert keys(EXPECTED, noisy, candidates=[Candidate("big", "big", big, scale=1e4)]) == ["big"]


def test_two_examples_cannot_tell_twice_from_missing_1_over_n():
    found = [d.key for d in match(EXPECTED, 2 * EXPECTED, TOLERANCE, batch=2)]
    assert set(found) == {"factor_2", "missing_1/N"}
    # With one example, 1/N is 1: no N-slips at all.
    assert {d.key for d in match(EXPECTED, EXPECTED * 1, 0.0, batch=1)} == set()
    assert all(factor != 1.0 for factor, _ in scalar_slips(1))
    assert all("1/N" not in d.key for _, slips in scalar_slips(1) for d in slips)


def test_scalar_slips_fewest_first_and_all_distinct_combinations():
    slips = scalar_slips(BATCH)
    assert len(slips) == 17  # sign x {1, 2, 1/2} x {1, N, 1/N}, less the identity
    assert [len(diagnoses) for _, diagnoses in slips] == sorted(
        len(diagnoses) for _, diagnoses in slips)
    assert len({factor for factor, _ in slips}) == 17


def test_unrecognised_says_so_with_ratio_and_difference():
    got = EXPECTED * RNG.uniform(0.5, 1.5, EXPECTED.shape)
    found = diagnose(EXPECTED, got, TOLERANCE, batch=BATCH)
    assert [d.key for d in found] == ["unrecognised"]
    text = found[0].text
    assert text.startswith("no recognised pattern") and "got - expected" in text
    ratio = got / EXPECTED
    assert f"from {ratio.min():.3g} to {ratio.max():.3g}" in text
    worst = np.unravel_index(np.argmax(np.abs(got - EXPECTED)), got.shape)
    assert f"[{worst[0]},{worst[1]}]" in text


def test_unrecognised_handles_shapes_and_non_finite_values():
    assert "shape (7,)" in unrecognised(EXPECTED, np.ones(7)).text
    assert "no finite element" in unrecognised(EXPECTED, np.full((3, 4), np.nan)).text
    # Ratios are skipped where expected is zero, not divided by it.
    text = unrecognised(np.zeros((2, 2)), np.ones((2, 2))).text
    assert "got/expected" not in text and "got - expected is 1" in text


def test_unrecognised_counts_values_where_none_belong():
    """A gradient routed to the whole window agrees wherever expected is non-zero: the ratios
    alone read 'from 1 to 1', so the stray elements are counted."""
    expected = np.array([[0.0, 2.0, 0.0], [0.0, -1.0, 0.0]])
    got = expected + np.array([[0.5, 0.0, 0.0], [0.0, 0.0, -3.0]])
    text = unrecognised(expected, got).text
    assert "from 1 to 1" in text and "non-zero at 2 of 4 elements where expected is 0" in text
    assert "where expected is 0" not in unrecognised(expected, 1.5 * expected).text


def test_visible_keys_leave_out_slips_that_change_nothing_here():
    from autodiff.core.diagnose import visible_keys

    one = np.array([[0.3]])
    assert "missing_1/N" not in visible_keys(EXPECTED, -EXPECTED, TOLERANCE, batch=1)
    assert "missing_1/N" in visible_keys(EXPECTED, -EXPECTED, TOLERANCE, batch=3)
    assert "transposed" not in visible_keys(one, one.T, TOLERANCE)
    assert "transposed" in visible_keys(SQUARE, SQUARE.T, TOLERANCE)
    # A constant factor: not on one element, not where the result is a named multiple.
    assert "constant_factor" not in visible_keys(one, 3 * one, TOLERANCE)
    assert "constant_factor" not in visible_keys(EXPECTED, 3 * EXPECTED, TOLERANCE, batch=3)
    assert "constant_factor" in visible_keys(EXPECTED, 3 * EXPECTED, TOLERANCE, batch=2)
    same = Candidate("same", "the right formula again", EXPECTED.copy())
    assert "same" not in visible_keys(EXPECTED, OTHER, TOLERANCE, candidates=[same])
    assert "other" in visible_keys(EXPECTED, OTHER, TOLERANCE, candidates=CANDIDATES)
