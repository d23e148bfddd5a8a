"""check_jvp and check_pair: correct rules pass, planted slips fail and are named."""

import numpy as np
import pytest

from autodiff import check_jvp, check_pair

RNG = np.random.default_rng(0)
X, W, B = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 5)), RNG.standard_normal(5)


def dense(x, w, b):
    return np.tanh(x @ w + b)


def dense_jvp(primals, tangents):
    x, w, b = primals
    dx, dw, db = tangents
    a = np.tanh(x @ w + b)
    dz = dx @ w + x @ dw + db
    return a, (1 - a**2) * dz


def dense_backward(dout, x, w, b):
    a = np.tanh(x @ w + b)
    dz = dout * (1 - a**2)
    return dz @ w.T, x.T @ dz, dz.sum(axis=0)


def without_dw(primals, tangents):
    x, w, b = primals
    dx, _, db = tangents
    a = np.tanh(x @ w + b)
    return a, (1 - a**2) * (dx @ w + db)


def relu(x):
    return np.maximum(x, 0.0)


def relu_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return np.maximum(x, 0.0), np.where(x > 0, dx, 0.0)


def looped(x):
    """Not traceable by JAX, and drops complex values: only Ridders can answer."""
    out = np.zeros(x.shape)
    for i in range(x.size):
        out.flat[i] = np.sin(x.flat[i]) * x.flat[i]
    return out


def looped_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return looped(x), (np.cos(x) * x + np.sin(x)) * dx


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_correct_rule_passes(dtype):
    result = check_jvp(dense, dense_jvp, X, W, B, dtype=dtype)
    assert result.passed, result.table()
    assert [a.name for a in result.arguments] == ["out", "tangent of out"]


@pytest.mark.parametrize("oracle", ["complex-step", "ridders"])
def test_every_oracle_passes_the_right_rule_and_fails_a_wrong_one(oracle):
    assert check_jvp(dense, dense_jvp, X, W, B, oracle=oracle).passed
    result = check_jvp(dense, without_dw, X, W, B, oracle=oracle)
    assert not result.passed and result["tangent of out"].oracle.startswith(
        oracle.replace("-", " "))


def test_a_forgotten_term_is_named():
    result = check_jvp(dense, without_dw, X, W, B)
    assert result.failing == ["tangent of out"], result.table()
    assert result["tangent of out"].diagnosis[0].key == "missing_term"
    assert "term of w is missing" in result.table()


def test_a_tangent_with_the_wrong_sign_of_one_term_is_named():
    def wrong_db(primals, tangents):
        a, da = dense_jvp(primals, tangents)
        return a, da - 2 * (1 - a**2) * tangents[2]

    result = check_jvp(dense, wrong_db, X, W, B)
    assert result["tangent of out"].diagnosis[0].key == "sign_term", result.table()


def test_a_wrong_primal_output_fails_even_with_a_right_tangent():
    def shifted(primals, tangents):
        a, da = dense_jvp(primals, tangents)
        return a + 1e-6, da

    result = check_jvp(dense, shifted, X, W, B)
    assert result.failing == ["out"], result.table()


def test_the_primal_returned_as_the_tangent_is_named():
    result = check_jvp(dense, lambda p, t: (dense(*p), dense(*p)), X, W, B)
    assert result["tangent of out"].diagnosis[0].key == "primal", result.table()


def test_a_small_error_in_one_element_is_caught():
    def one_off(primals, tangents):
        a, da = dense_jvp(primals, tangents)
        da = da.copy()
        da[2, 3] *= 1 + 1e-6
        return a, da

    result = check_jvp(dense, one_off, X, W, B)
    assert not result.passed and result["tangent of out"].worst_index == (2, 3)


def test_a_kink_takes_either_side_and_nothing_beyond():
    x = RNG.standard_normal((3, 4))
    x[0, 0] = 0.0
    either = check_jvp(relu, relu_jvp, x)
    assert either.passed and either["tangent of out"].kinks == 1, either.table()
    other_side = check_jvp(relu, lambda p, t: (relu(p[0]), np.where(p[0] >= 0, t[0], 0.0)), x)
    assert other_side.passed, other_side.table()
    doubled = check_jvp(relu, lambda p, t: (relu(p[0]), np.where(p[0] >= 0, t[0], 0.0) * np.where(
        p[0] == 0, 2.0, 1.0)), x)
    assert not doubled.passed and doubled["tangent of out"].worst_index == (0, 0)


def test_an_untraceable_forward_is_checked_by_ridders():
    x = RNG.standard_normal((2, 3))
    result = check_jvp(looped, looped_jvp, x)
    assert result.passed and result["tangent of out"].oracle == "ridders", result.table()
    wrong = check_jvp(looped, lambda p, t: (looped(p[0]), np.cos(p[0]) * p[0] * t[0]), x)
    assert not wrong.passed


def test_tuple_outputs_and_arguments_without_tangents():
    def split(x, options):
        return x * options["scale"], np.sum(x**2, axis=1)

    def split_jvp(primals, tangents):
        (x, options), (dx, none) = primals, tangents
        assert none is None
        return split(x, options), (dx * options["scale"], np.sum(2 * x * dx, axis=1))

    x = RNG.standard_normal((3, 2))
    result = check_jvp(split, split_jvp, x, {"scale": 3.0})
    assert result.passed, result.table()
    assert [a.name for a in result.arguments] == ["out[0]", "tangent of out[0]", "out[1]",
                                                  "tangent of out[1]"]


def test_given_tangents_are_used_and_checked():
    tangents = (np.ones_like(X), np.zeros_like(W), np.zeros_like(B))
    assert check_jvp(dense, without_dw, X, W, B, tangents=tangents).passed
    with pytest.raises(ValueError, match=r"w is shape \(5, 3\), expected shape \(3, 5\)"):
        check_jvp(dense, dense_jvp, X, W, B, tangents=(X, W.T, B))


def test_a_rule_of_the_wrong_form_is_a_clear_error():
    with pytest.raises(TypeError, match=r"expected \(out, tangent_out\)"):
        check_jvp(dense, lambda p, t: dense(*p), X, W, B)
    result = check_jvp(dense, lambda p, t: (dense(*p), np.zeros((2, 2))), X, W, B)
    assert "has shape (2, 2), expected (4, 5)" in result.table()


def test_the_pair_agrees_when_both_rules_are_right():
    for dtype in ("float64", "float32"):
        result = check_pair(dense, dense_jvp, dense_backward, X, W, B, dtype=dtype)
        assert result.passed, result.table()


def test_the_pair_names_the_wrong_rule():
    def mean_db(dout, x, w, b):
        dx, dw, db = dense_backward(dout, x, w, b)
        return dx, dw, db / x.shape[0]

    backward_wrong = check_pair(dense, dense_jvp, mean_db, X, W, B)
    assert not backward_wrong.passed and backward_wrong.jvp.passed
    assert backward_wrong.vjp.failing == ["b"], backward_wrong.table()
    forward_wrong = check_pair(dense, without_dw, dense_backward, X, W, B)
    assert not forward_wrong.passed and forward_wrong.vjp.passed and not forward_wrong.jvp.passed


def test_a_pair_with_a_nan_gradient_fails_and_its_json_is_valid():
    import json

    def nan_dw(dout, x, w, b):
        dx, dw, db = dense_backward(dout, x, w, b)
        return dx, np.full_like(dw, np.nan), db

    result = check_pair(dense, dense_jvp, nan_dw, X, W, B)
    assert not result.passed
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert document["passed"] is False and document["backward_side"] is None
    assert document["vjp"]["passed"] is False


def test_the_pair_allows_each_rule_its_own_side_of_a_kink():
    x = RNG.standard_normal((3, 4))
    x[1, 2] = 0.0
    result = check_pair(relu, relu_jvp, lambda dout, x: dout * (x >= 0), x)
    assert result.passed and result.kinks == 1, result.table()
    doubled = check_pair(relu, relu_jvp, lambda dout, x: dout * (x >= 0) * (1 + (x == 0)), x)
    assert not doubled.passed


def test_a_jax_forward_in_float32_for_a_float64_check_is_warned_about():
    import jax
    import jax.numpy as jnp

    x = np.random.default_rng(3).standard_normal((3, 4))

    def forward(x):
        return jnp.tanh(x)

    def rule(primals, tangents):
        (x,), (dx,) = primals, tangents
        return jnp.tanh(x), dx * (1 - jnp.tanh(x) ** 2)

    with jax.enable_x64(False):  # JAX's default: float32 whatever it is given
        narrow = check_jvp(forward, rule, x)
    assert any("returned float32 for float64 arguments" in w for w in narrow.warnings)
    assert "jax.enable_x64" in narrow.table()
    with jax.enable_x64(True):
        wide = check_jvp(forward, rule, x)
    assert wide.passed and not any("returned float32" in w for w in wide.warnings)
