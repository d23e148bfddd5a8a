"""The complex-step oracle is accurate to rounding wherever the network can take it, small
pre-activations included (regression: 1 - exp(-2z) once cost tanh eps/|z| of accuracy)."""

import math

import numpy as np
import pytest

from autodiff.check import oracles
from autodiff.check.cases import NetworkCase

Z = [1e-12, 1e-8, 1e-3, 0.01, -0.02, 0.3, -2.0, 20.0, 400.0, -1e5, 1e300]


@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_complex_activations_are_accurate_in_both_parts(name):
    f = oracles._complex_activation(name)
    h = oracles.STEP
    exact = {
        "logistic": (lambda z: 0.5 * (1 + math.tanh(z / 2)),
                     lambda z: 0.25 * (1 / math.cosh(z / 2)) ** 2 if abs(z) < 1400 else 0.0),
        "tanh": (math.tanh, lambda z: (1 / math.cosh(z)) ** 2 if abs(z) < 700 else 0.0),
    }[name]
    values = f(np.array([complex(z, h) for z in Z]))
    eps = np.finfo(np.float64).eps
    for z, value in zip(Z, values, strict=True):
        want, slope = exact[0](z), exact[1](z)
        assert abs(value.real - want) <= 4 * eps * abs(want), (name, z, value.real, want)
        assert abs(value.imag / h - slope) <= 4 * eps * slope + 1e-300, (name, z)


def test_small_tanh_network_found_by_the_thorough_profile_passes():
    case = NetworkCase(sizes=(1, 1, 1), batch=1, seed=0, scale=0.01, activation="tanh")
    result = case.check()
    assert result.passed, result.table()
