"""Bad input to the general backprop raises an error naming the argument, what it got and what
was expected — never a silent broadcast."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import reference

GOOD = reference.init_params([2, 3, 1], rng=0)
X = np.ones((2, 4))
Y = np.ones((1, 4))


def _with_layer(index, W=None, b=None):
    params = [list(layer) for layer in GOOD]
    if W is not None:
        params[index][0] = W
    if b is not None:
        params[index][1] = b
    return [tuple(layer) for layer in params]


BAD_CASES = {
    "bias (n,) not (n, 1)": (_with_layer(0, b=np.zeros(3)), X, Y, ValueError,
                             r"params\[0\] b: expected a 2-D array, got shape \(3,\).*\(n, 1\)"),
    "bias row not column": (_with_layer(1, b=np.zeros((1, 1, 1))), X, Y, ValueError,
                            r"params\[1\] b: expected a 2-D array, got shape \(1, 1, 1\)"),
    "bias of wrong length": (_with_layer(0, b=np.zeros((2, 1))), X, Y, ValueError,
                             r"params\[0\] b: expected shape \(3, 1\).*got \(2, 1\)"),
    "widths do not chain": (_with_layer(1, W=np.zeros((1, 4))), X, Y, ValueError,
                            r"params\[1\] W: expected 3 columns.*got shape \(1, 4\)"),
    "x has the wrong rows": (GOOD, np.ones((3, 4)), Y, ValueError,
                             r"x: expected shape \(2, N\).*got \(3, 4\)"),
    "x is 1-D": (GOOD, np.ones(2), Y, ValueError, r"x: expected a 2-D array, got shape \(2,\)"),
    "y batch differs": (GOOD, X, np.ones((1, 5)), ValueError,
                        r"y: expected shape \(1, 4\).*got \(1, 5\)"),
    "y transposed": (GOOD, X, np.ones((4, 1)), ValueError,
                     r"y: expected shape \(1, 4\).*got \(4, 1\)"),
    "empty batch": (GOOD, np.ones((2, 0)), np.ones((1, 0)), ValueError,
                    r"x: expected shape \(2, N\) with N >= 1.*got \(2, 0\)"),
    "NaN in x": (GOOD, np.array([[1.0, np.nan, 0, 0], [0, 0, 0, 0]]), Y, ValueError,
                 r"x: expected finite values, got nan at index \(0, 1\)"),
    "inf in a weight": (_with_layer(0, W=np.full((3, 2), np.inf)), X, Y, ValueError,
                        r"params\[0\] W: expected finite values, got inf"),
    "integer x": (GOOD, np.ones((2, 4), dtype=int), Y, TypeError,
                  r"x: expected a real floating array.*got dtype int64"),
    "object weights": (_with_layer(0, W=np.empty((3, 2), dtype=object)), X, Y, TypeError,
                       r"params\[0\] W: expected a real floating array.*dtype object"),
    "complex y": (GOOD, X, np.ones((1, 4), dtype=complex), TypeError,
                  r"y: expected a real floating array.*complex128"),
    "params not a list": ({"W": 1}, X, Y, TypeError, r"params: expected a non-empty list.*dict"),
    "empty params": ([], X, Y, TypeError, r"params: expected a non-empty list.*empty list"),
    "layer not a pair": ([(GOOD[0][0],), *GOOD[1:]], X, Y, TypeError,
                         r"params\[0\]: expected a \(W, b\) pair, got tuple of length 1"),
    "ragged weights": (_with_layer(0, W=[[1.0, 2.0], [1.0]]), X, Y, TypeError,
                       r"params\[0\] W: expected a real floating array"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
@pytest.mark.parametrize("function", ["gradients", "cost"])
def test_bad_input_is_named(case, function):
    params, x, y, error, message = BAD_CASES[case]
    with pytest.raises(error, match=message):
        getattr(reference, function)(params, x, y)


def test_forward_checks_its_input_too():
    with pytest.raises(ValueError, match=r"x: expected shape \(2, N\)"):
        reference.forward(GOOD, np.ones((1, 4)))


@pytest.mark.parametrize(("activation", "error", "message"), [
    ("relu", ValueError,
     r"activation: unknown name 'relu'; expected one of \['logistic', 'tanh'\]"),
    (None, TypeError, r"activation: expected a name.*got NoneType None"),
])
def test_unknown_activation_is_named(activation, error, message):
    with pytest.raises(error, match=message):
        reference.gradients(GOOD, X, Y, activation=activation)


@pytest.mark.parametrize("sizes", [[3], [2, 0, 1], [2, 1.5, 1], "2,3", [2, True]])
def test_init_params_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match=r"sizes: expected a list of at least two positive"):
        reference.init_params(sizes)


def test_valid_lists_are_accepted_like_arrays():
    params = [(W.tolist(), b.tolist()) for W, b in GOOD]
    expected = reference.gradients(GOOD, X, Y)
    for (gW, gb), (eW, eb) in zip(reference.gradients(params, X.tolist(), Y.tolist()), expected,
                                  strict=True):
        np.testing.assert_array_equal(gW, eW)
        np.testing.assert_array_equal(gb, eb)


def test_importing_reference_never_imports_jax():
    code = (
        "import sys, reference, reference.worksheet, reference.backprop; "
        "import numpy as np; reference.gradients(reference.init_params([1, 2, 1], rng=0), "
        "np.ones((1, 3)), np.ones((1, 3))); "
        "import reference.layers as L; s = L.Stack.parse('conv2d,relu,maxpool,dense,"
        "softmax_cross_entropy'); L.gradients(s, *L.init(s)); "
        "bad = sorted(m for m in sys.modules if m == 'jax' or m.startswith(('jax.', 'jaxlib'))); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
