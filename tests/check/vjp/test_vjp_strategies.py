"""Hypothesis strategies for a user's layer and ``check_layer``: cases follow the spec, kinks
are on or off as asked, failures shrink to a runnable reproduction, and the one-call helper
works in a user's own pytest suite with no profile of ours (run in a subprocess, elsewhere)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from layer_examples import array_api as A

from autodiff.check.strategies import Floats, Integers, LayerCase, check_layer, layer_cases

AFFINE = {"x": ("N", "D"), "w": ("D", "M"), "b": ("M",)}
REPO = Path(__file__).resolve().parents[3]


def test_cases_follow_the_spec():
    spec = {"x": ("N", "C"), "y": Integers(("N",), "C"), "gamma": Floats(("C",), scale=2.0,
                                                                          positive=True),
            "params": {"eps": 1e-5}}
    case = LayerCase(spec, dims=(("N", 3), ("C", 4)), seed=1, dtype="float32", scale=0.5)
    x, y, gamma, params = case.build()
    assert x.shape == (3, 4) and x.dtype == np.float32
    assert np.all(np.abs(x) >= 0.5 * 0.05 * (1 - 1e-6))      # kinks off: away from 0
    assert y.shape == (3,) and y.dtype.kind == "i" and np.all((y >= 0) & (y < 4))
    assert gamma.shape == (4,) and np.all(gamma > 0)
    assert params == {"eps": 1e-5}
    assert all(np.array_equal(a, b) for a, b in zip(case.build()[:3], (x, y, gamma),
                                                    strict=True))  # rebuilt identically


def test_kinks_on_puts_inputs_on_zeros_and_ties():
    case = LayerCase({"x": (8, 6)}, dims=(), seed=3, kinks=True)
    (x,) = case.build()
    assert np.count_nonzero(x == 0) >= 4
    ties = (x[:, 1:] == x[:, :-1]) & (x[:, 1:] != 0)
    assert np.count_nonzero(ties) >= 4


@settings(max_examples=8)
@given(layer_cases(AFFINE, max_batch=3, max_width=3))
def test_property_on_a_correct_layer(case):
    result = case.check(A.affine, A.affine_backward)
    assert result.passed, f"{case!r}\n{result.table()}"
    assert result.dtype == case.dtype


def test_check_layer_passes_a_correct_layer_and_reproduces_a_failure():
    check_layer(A.relu, A.relu_backward, {"x": ("N", "D")}, max_examples=6)

    def wrong_bias(dout, x, w, b):  # the bias gradient averaged: 1/N too small
        dx, dw, db = A.affine_backward(dout, x, w, b)
        return dx, dw, db / x.shape[0]

    with pytest.raises(AssertionError) as failure:
        check_layer(A.affine, wrong_bias, AFFINE, max_examples=4, dims={"N": 3}, kinks=False)
    message = str(failure.value)
    assert "FAIL: the backward is wrong in b" in message
    reproduction = message.splitlines()[0]
    case = eval(reproduction, {"LayerCase": LayerCase})
    assert dict(case.dims)["N"] == 3
    assert not case.check(A.affine, wrong_bias).passed


USER_LAYERS = '''
import numpy as np

def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    return dout.dot(w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T.dot(dout), dout.sum(0)

def affine_backward_wrong(dout, cache):
    dx, dw, db = affine_backward(dout, cache)
    return dx, dw, -db
'''
USER_TESTS = '''
from autodiff.check.strategies import check_layer
from layers import affine_backward, affine_backward_wrong, affine_forward

SHAPES = {"x": ("N", "D"), "w": ("D", "M"), "b": ("M",)}

def test_affine():
    check_layer(affine_forward, affine_backward, SHAPES, cache_style=True, max_examples=5)

def test_affine_wrong():
    check_layer(affine_forward, affine_backward_wrong, SHAPES, cache_style=True,
                max_examples=3)
'''


def test_check_layer_works_in_a_users_own_suite(tmp_path):
    """A user's suite, elsewhere, without our conftest or hypothesis profile."""
    (tmp_path / "layers.py").write_text(textwrap.dedent(USER_LAYERS))
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPOTHESIS")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "test_user.py"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "test_affine_wrong" in out and "LayerCase(spec=" in out
    assert "FAIL: the backward is wrong in b" in out and "sign flipped" in out
    assert "conftest" not in out


def test_the_short_module_names_re_export_the_public_strategies_and_mistakes():
    # Issue 11 names `autodiff.strategies`, issue 14 `autodiff.mistakes`: both import as modules.
    import autodiff
    import autodiff.check.hvp.strategies
    import autodiff.check.jvp.strategies
    import autodiff.check.mistakes
    import autodiff.check.strategies
    import autodiff.mistakes
    import autodiff.strategies

    homes = {autodiff.strategies: (autodiff.check.strategies, autodiff.check.jvp.strategies,
                                   autodiff.check.hvp.strategies),
             autodiff.mistakes: (autodiff.check.mistakes,)}
    for short, longs in homes.items():
        assert short.__all__
        for name in short.__all__:
            assert any(getattr(short, name) is getattr(long, name, None) for long in longs), name
    assert {"check_rule", "rule_cases", "hvp_cases", "check_hvp_property"} <= set(
        autodiff.strategies.__all__)
    assert autodiff.strategies.check_layer is autodiff.check.strategies.check_layer
