"""Every planted layer mistake is caught — by the layer check and by a stack check, which names
its layer as the first wrong one — and diagnosed."""

from collections import Counter

import pytest

import reference.layers as L
from autodiff.check.layers.check import check_library_layer, check_vjp_of
from autodiff.check.layers.stack import check_stack, stack_around
from autodiff.check.mistakes import LAYER_MISTAKES, MISTAKES, get_layer_mistake

NAMES = sorted(LAYER_MISTAKES)


def test_at_least_two_classic_mistakes_per_layer():
    per_layer = Counter(mistake.layer for mistake in LAYER_MISTAKES.values())
    assert set(per_layer) == set(L.LAYER_NAMES)
    assert min(per_layer.values()) >= 2
    assert not set(LAYER_MISTAKES) & set(MISTAKES)  # one namespace for --plant


@pytest.mark.parametrize("name", NAMES)
def test_the_layer_check_catches_and_diagnoses_it(name):
    mistake = LAYER_MISTAKES[name]
    result = check_library_layer(mistake.layer, backward=mistake, options=mistake.options)
    assert not result.passed
    assert result.failing and set(result.diagnosis) == set(result.failing)
    # each wrong gradient is recognised as this slip (or as a sign / factor it amounts to)
    for text in result.diagnosis.values():
        assert f"{name}:" in text, result.table()
    assert f"FAIL: {mistake.layer}'s backward is wrong in" in result.table()


@pytest.mark.parametrize("name", NAMES)
def test_check_vjp_catches_it_too(name):
    # an independent checker (its own oracle, tolerances and diagnoses) on the same inputs
    mistake = LAYER_MISTAKES[name]
    result = check_vjp_of(mistake.layer, mistake, mistake.options)
    assert not result.passed, result.table()
    assert result.failing


@pytest.mark.parametrize("layer", L.LAYER_NAMES)
def test_the_stack_check_names_its_layer(layer):
    # a layer's slips share one compiled stack, so they are checked in one test
    for name in (name for name in NAMES if LAYER_MISTAKES[name].layer == layer):
        mistake = LAYER_MISTAKES[name]
        result = check_stack(stack_around(layer, {"padding": 1} if layer == "conv2d" else None),
                             backwards={layer: mistake})
        assert not result.passed
        wrong = result.first_wrong
        assert wrong is not None and wrong.layer == layer, result.table()
        assert all(other.passed for other in result.layers if other.layer != layer)
        assert f"first wrong layer: {wrong.label}" in result.table()
        assert any(f"{name}:" in text for text in wrong.diagnosis.values()), result.table()


@pytest.mark.parametrize("name", ["softmax-cross-entropy-missing-1/N", "squared-error-factor-2",
                                  "bce-sign"])
def test_generic_slips_are_named_as_such(name):
    mistake = LAYER_MISTAKES[name]
    result = check_library_layer(mistake.layer, backward=mistake, dtype="float32")
    first = result.diagnosis[result.failing[0]]
    assert {"softmax-cross-entropy-missing-1/N": "1/N missing", "squared-error-factor-2":
            "factor 2", "bce-sign": "sign flipped"}[name] in first


def test_unknown_layer_mistake_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown layer mistake 'nope'.*'bce-sign'"):
        get_layer_mistake("nope")
