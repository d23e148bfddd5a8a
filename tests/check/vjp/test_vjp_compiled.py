"""``check_vjp`` keeps its compiled ``jax.vjp`` oracle between checks of one forward: one compile
for a test loop, a new one for anything the program holds as a constant, and nothing kept alive
once the forward is gone."""

import gc
import weakref

import jax
import numpy as np

from autodiff import check_vjp, from_cache_style
from autodiff.check.vjp import compiled

rng = np.random.default_rng(11)


def scaled(x, c):
    return c * np.tanh(x)


def scaled_backward(dout, x, c):
    return c * dout * (1 - np.tanh(x) ** 2)


def count_jits(monkeypatch) -> list:
    built = []
    real = jax.jit

    def counting(*args, **kwargs):
        built.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(jax, "jit", counting)
    return built


def test_a_second_check_of_the_same_forward_compiles_nothing(monkeypatch):
    built = count_jits(monkeypatch)
    x = rng.standard_normal((3, 4))
    first = check_vjp(scaled, scaled_backward, x, 2.0, seed=1)
    assert first.passed and first.arguments[0].oracle.startswith("jax.vjp")
    count = len(built)
    again = check_vjp(scaled, scaled_backward, rng.standard_normal((3, 4)), 2.0, seed=2)
    assert again.passed and again.arguments[0].oracle.startswith("jax.vjp")
    assert len(built) == count


def test_a_constant_or_shape_that_changes_gets_its_own_program():
    x = rng.standard_normal((3, 4))
    for c, shape in ((2.0, (3, 4)), (3.0, (3, 4)), (3.0, (2, 5))):
        x = rng.standard_normal(shape)
        result = check_vjp(scaled, scaled_backward, x, c)
        # A program holding c = 2 would disagree with the NumPy output and not be used.
        assert result.passed and result.arguments[0].oracle.startswith("jax.vjp"), c
        wrong = check_vjp(scaled, lambda d, x, c: scaled_backward(d, x, 2.0), x, c)
        assert wrong.passed == (c == 2.0)


def test_a_closure_defined_for_every_check_is_not_kept():
    refs = []
    for scale in (1.0, 2.0, 3.0):
        def forward(x, scale=scale):
            return scale * np.sin(x)

        def backward(dout, x, scale=scale):
            return scale * dout * np.cos(x)

        assert check_vjp(forward, backward, rng.standard_normal(5)).passed
        assert compiled.size(forward) == 2  # as given (fails: np.sin), and rebound
        refs.append(weakref.ref(forward))
    del forward, backward
    gc.collect()
    assert all(ref() is None for ref in refs)


def test_a_forward_that_fails_under_jax_is_remembered_with_its_reason():
    def looped(x):
        out = np.zeros_like(x)
        for i in range(x.size):
            out[i] = x[i] ** 3
        return out

    def backward(dout, x):
        return 3 * dout * x**2

    reasons = []
    for _ in range(2):
        result = check_vjp(looped, backward, rng.standard_normal(4))
        assert result.passed
        reasons.append(result.arguments[0].fallbacks)
    assert reasons[0] == reasons[1] and reasons[0]
    assert compiled.size(looped) == 2  # as given, and rebound to jax.numpy


def test_a_cache_style_pair_wrapped_anew_for_every_check_compiles_once(monkeypatch):
    def affine_forward(x, w):
        return x @ w, (x, w)

    def affine_backward(dout, cache):
        x, w = cache
        return dout @ w.T, x.T @ dout

    built = count_jits(monkeypatch)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    assert check_vjp(*from_cache_style(affine_forward, affine_backward), x, w).passed
    count = len(built)
    again = check_vjp(*from_cache_style(affine_forward, affine_backward), x, w)
    assert again.passed and again["x"].oracle.startswith("jax.vjp")
    assert len(built) == count
