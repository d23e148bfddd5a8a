"""Every result type's ``repr`` is one short line — the verdict, the worst row and how far it
is from its tolerance — so a bare ``assert result`` or a debugger shows it whole; the full
report stays in ``table()``."""

import numpy as np
from layer_examples import array_api as A

import reference
from autodiff import check_gradients, check_vjp
from autodiff.check.cases import NetworkCase
from autodiff.check.layers.check import check_library_layer
from autodiff.check.layers.stack import check_stack
from autodiff.check.vjp.modules import check_module
from reference.layers import Stack

LAYERS_MODULE = "tests/layer_examples/user_module.py"


def one_short_line(text: str) -> bool:
    return "\n" not in text and len(text) <= 120


def test_the_network_checks_repr_names_the_worst_block():
    params, x, y = NetworkCase(sizes=(2, 3, 2), batch=4).build()
    right = check_gradients(params, x, y, "logistic")
    assert one_short_line(repr(right)) and repr(right).startswith("CheckResult(PASS, worst ")

    def wrong(params, x, y):
        grads = reference.gradients(params, x, y, "logistic")
        return [(dW, -db) if i == 1 else (dW, db) for i, (dW, db) in enumerate(grads)]

    failed = check_gradients(params, x, y, "logistic", manual=wrong)
    text = repr(failed)
    assert one_short_line(text) and text.startswith("CheckResult(FAIL, worst b2: error ")
    assert "× its tolerance" in text and repr(failed.blocks[0]).startswith("BlockReport(")


def test_check_vjps_repr_names_the_worst_argument():
    x, w, b = (np.random.default_rng(3).standard_normal(s) for s in ((4, 5), (5, 3), (3,)))
    failed = check_vjp(A.affine, lambda d, x, w, b: (d @ w.T, x.T @ d, -d.sum(axis=0)), x, w, b)
    assert one_short_line(repr(failed)) and repr(failed).startswith("VJPResult(FAIL, worst b:")
    misshapen = check_vjp(A.affine, lambda d, x, w, b: (d @ w.T, x.T @ d, d.sum(axis=1)),
                          x, w, b)
    assert repr(misshapen) == "VJPResult(FAIL, worst b: error no value × its tolerance)"
    assert repr(check_vjp(A.affine, A.affine_backward, x, w, b)).startswith("VJPResult(PASS")


def test_the_layer_stack_and_module_reprs_are_one_line():
    layer = check_library_layer("relu")
    assert one_short_line(repr(layer)) and repr(layer).startswith("LayerResult(relu: PASS")
    stack = check_stack(Stack.parse("dense(units=3),relu,squared_error"))
    assert one_short_line(repr(stack)) and repr(stack).startswith("StackResult(PASS")
    module = check_module(LAYERS_MODULE)
    assert one_short_line(repr(module)) and "skipped" in repr(module)
