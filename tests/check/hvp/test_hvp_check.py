"""``check_hvp``: correct Hessian-vector products pass (JAX's, hand-derived NumPy, float64 and
float32), planted mistakes fail in the argument they touch with the pattern named, an
asymmetric product fails the symmetry check, and bad input is named."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from autodiff import HVPResult, check_hvp

rng = np.random.default_rng(11)


def quadratic(A, x):
    """``xᵀ A x / 2``: its Hessian mixes A and x, so an hvp has cross terms to get wrong."""
    return x @ A @ x / 2


def quadratic_hvp(v, A, x):
    V, u = v
    return (np.outer(u, x) + np.outer(x, u)) / 2, ((V + V.T) @ x + (A + A.T) @ u) / 2


def quadratic_hvp_without_cross_term(v, A, x):
    _, u = v
    return (np.outer(u, x) + np.outer(x, u)) / 2, (A + A.T) @ u / 2


def cubes(x):
    return np.sum(np.sin(x) ** 3)  # NumPy: run under jax.numpy by check_hvp


def cubes_hvp(v, x):
    s, c = np.sin(x), np.cos(x)
    return (6 * s * c**2 - 3 * s**3) * v


def network(x, w, options):
    return jnp.sum(jnp.tanh(w @ x) ** 2) * options["scale"]


def network_hvp(v, x, w, options):
    return jax.jvp(jax.grad(lambda a, b: network(a, b, options), argnums=(0, 1)), (x, w), v)[1]


CORRECT = {
    "quadratic": (quadratic, quadratic_hvp, (rng.standard_normal((4, 4)),
                                            rng.standard_normal(4))),
    "numpy cubes": (cubes, cubes_hvp, (rng.standard_normal(6),)),
    "jax network": (network, network_hvp, (rng.standard_normal((3, 4)),
                                           rng.standard_normal((5, 3)), {"scale": 0.5})),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_hvps_pass(name, dtype):
    f, hvp, args = CORRECT[name]
    result = check_hvp(f, hvp, *args, dtype=dtype)
    assert isinstance(result, HVPResult)
    assert result.passed, result.table()
    assert result.symmetry.status == "pass", result.table()
    assert {a.oracle for a in result.arguments} == {"jax.jvp of jax.grad"}


def test_a_factor_two_in_one_argument_is_caught_and_named():
    f, hvp, args = CORRECT["jax network"]

    def doubled(v, x, w, options):
        hx, hw = hvp(v, x, w, options)
        return hx, 2 * hw

    result = check_hvp(f, doubled, *args)
    assert result.failing == ["w"], result.table()
    assert [d.key for d in result["w"].diagnosis] == ["factor_2"], result.table()
    assert "Ridders confirms" in result["w"].trust


def test_a_missing_cross_term_breaks_symmetry_and_is_caught():
    f, _, args = CORRECT["quadratic"]
    result = check_hvp(f, quadratic_hvp_without_cross_term, *args)
    assert result.failing == ["x"], result.table()
    assert result.symmetry.status == "fail", result.table()
    assert "not symmetric" in result.symmetry.note
    assert "symmetry" in result.summary()


def test_an_hvp_that_ignores_v_is_named():
    def ones_hvp(v, x):  # written for v = 1
        return cubes_hvp(np.ones_like(x), x)

    result = check_hvp(cubes, ones_hvp, rng.standard_normal(5))
    assert not result.passed
    texts = " ".join(d.text for d in result["x"].diagnosis)
    assert "v = 1" in texts and "dout" not in texts, result.table()


def test_a_given_v_is_used_and_said():
    x = rng.standard_normal(5)
    result = check_hvp(cubes, cubes_hvp, x, v=np.zeros(5) + 1.0)
    assert result.passed, result.table()
    assert result.dout == "given"


def test_result_prints_in_one_line_and_serialises():
    f, hvp, args = CORRECT["quadratic"]
    result = check_hvp(f, hvp, *args)
    assert "\n" not in repr(result) and repr(result).startswith("HVPResult(PASS")
    data = json.loads(json.dumps(result.to_dict()))
    assert data["passed"] is True and data["symmetry"]["status"] == "pass"
    assert data["hvp"] == "quadratic_hvp" and [a["argument"] for a in data["arguments"]] == [
        "A", "x"]
    assert "symmetry: ⟨u, H w⟩" in result.table()


def test_float32_inputs_are_not_promoted_globally():
    f, hvp, args = CORRECT["quadratic"]
    check_hvp(f, hvp, *(a.astype(np.float32) for a in args))
    assert jnp.asarray(1.0).dtype == jnp.float32  # the x64 flip was scoped


def test_a_non_scalar_f_is_named():
    with pytest.raises(ValueError, match=r"f: .* must return a scalar, got shape \(3,\)"):
        check_hvp(lambda x: x**2, lambda v, x: 2 * v, rng.standard_normal(3))


def test_an_f_jax_cannot_trace_is_named():
    def opaque(x):
        return float(np.asarray(x).sum() ** 2)

    with pytest.raises(ValueError, match="f: JAX cannot differentiate opaque twice"):
        check_hvp(opaque, lambda v, x: 2 * v.sum() * np.ones_like(x), rng.standard_normal(3))


def test_a_misshapen_v_is_named():
    with pytest.raises(ValueError, match=r"^v: shape \(4,\) does not match its argument's "):
        check_hvp(cubes, cubes_hvp, rng.standard_normal(5), v=np.ones(4))


def test_a_wrong_count_of_products_is_named():
    f, hvp, args = CORRECT["quadratic"]
    with pytest.raises(TypeError, match=r"^hvp: expected a tuple of 2 products \(for A, x\)"):
        check_hvp(f, lambda v, A, x: hvp(v, A, x)[0], *args)
