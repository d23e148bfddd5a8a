"""``network_cases`` takes a user's own weight-scale strategy as it is given."""

import warnings

from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff.check.strategies import network_cases


def test_a_given_scales_strategy_is_drawn_from_without_a_warning():
    drawn = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # hypothesis warns when a strategy is used as a bool

        @settings(max_examples=3, database=None)
        @given(network_cases(scales=st.just(0.25)))
        def record(case):
            drawn.append(case.scale)

        record()
    assert drawn and set(drawn) == {0.25}


def test_hvp_cases_takes_a_given_direction_seeds_strategy_without_a_warning():
    from autodiff.check.hvp.strategies import hvp_cases

    drawn = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        @settings(max_examples=3, database=None)
        @given(hvp_cases(st.just(7), sizes=[1, 2, 1]))
        def record(case):
            drawn.append(case)

        record()
    assert len(drawn) == 3 and {case.direction_seed for case in drawn} == {7}
