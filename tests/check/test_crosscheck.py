"""The cross-check engine: it passes correct gradients, fails wrong ones with the block, the
element and the first wrong layer named, and reports saturation and the noise floor."""

import json
import re

import numpy as np
import pytest

import reference
from autodiff.check import buckets, crosscheck
from autodiff.check.cases import NetworkCase
from autodiff.check.crosscheck import check_gradients
from autodiff.core.tolerance import error_bounds


@pytest.fixture(scope="module")
def heart():
    x, y = reference.training_data()
    return reference.init_params([1, 6, 7, 2], rng=0), x, y


@pytest.fixture(scope="module")
def deep_case():
    rng = np.random.default_rng(11)
    params = reference.init_params([2, 5, 4, 3, 2], rng=rng, scale=1.0)
    return params, rng.standard_normal((2, 8)), rng.uniform(size=(2, 8))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_worksheet_network_passes(heart, dtype, activation):
    params, x, y = heart
    result = check_gradients(params, x, y, activation, dtype=dtype)
    assert result.passed, result.table()
    assert [b.name for b in result.blocks] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert all(b.status == "pass" for b in result.blocks)
    assert result.first_wrong_layer is None
    assert result.dtype == dtype


def test_one_wrong_element_is_pinpointed(heart):
    params, x, y = heart

    def off_by_a_little(p, xs, ys):
        grads = reference.gradients(p, xs, ys)
        grads[1][0][4, 2] *= 1 + 1e-8
        return grads

    result = check_gradients(params, x, y, manual=off_by_a_little)
    assert result.failing_blocks == ["W2"]
    w2 = result.blocks[2]
    assert w2.worst_index == (4, 2)
    assert w2.manual_value == pytest.approx(w2.jax_value * (1 + 1e-8), rel=1e-12)
    assert w2.oracle_value == pytest.approx(w2.jax_value, rel=1e-12)
    assert w2.max_abs_error > w2.tolerance


def test_first_wrong_layer_is_found_deep_down(deep_case):
    # A hand backprop whose δ2 alone is scaled: blocks 1 and 2 fail, and the deltas say 2.
    params, x, y = deep_case

    def wrong_delta_two(p, xs, ys):
        _, f_prime = reference.activations.get_activation("logistic")
        zs, acts = reference.forward_trace(p, xs)
        delta = 2 * (acts[-1] - ys) / xs.shape[1] * f_prime(zs[-1])
        grads = []
        for layer in reversed(range(len(p))):
            if layer == 1:
                delta = 1.5 * delta
            grads.append((delta @ acts[layer].T, delta.sum(axis=1, keepdims=True)))
            if layer:
                delta = (p[layer][0].T @ delta) * f_prime(zs[layer - 1])
        return grads[::-1]

    result = check_gradients(params, x, y, manual=wrong_delta_two)
    assert result.failing_blocks == ["W1", "b1", "W2", "b2"]
    assert result.first_wrong_layer == 2


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
def test_small_networks_share_one_compiled_jax_grad(activation):
    # A new shape used to cost a jit compile (~0.2 s): a hypothesis example on its own.
    compiled = buckets.batched_grad(activation)
    NetworkCase(sizes=(2, 3), batch=4, activation=activation).check(oracle=False)
    before = compiled._cache_size()
    assert before >= 1  # the check above went through the padded bucket
    for sizes, batch in [((1, 5, 2), 7), ((4, 16, 3, 9, 1), 256), ((3, 3, 3), 1)]:
        case = NetworkCase(sizes=sizes, batch=batch, activation=activation)
        params, x, y = case.build()
        got = crosscheck._jax_gradient(params, x, y, activation)
        want = [g for layer in reference.gradients(params, x, y, activation) for g in layer]
        bounds = [e for layer in error_bounds(params, x, y, activation, np.float64).grads
                  for e in layer]
        assert all(np.all(np.abs(g - w) <= 2 * e) for g, w, e in zip(got, want, bounds,
                                                                       strict=True))
    assert compiled._cache_size() == before  # no new compile for three new shapes


def test_misshapen_manual_block_fails_with_a_note(heart):
    params, x, y = heart

    def transposed(p, xs, ys):
        grads = reference.gradients(p, xs, ys)
        grads[2] = (grads[2][0].T, grads[2][1])
        return grads

    result = check_gradients(params, x, y, manual=transposed)
    assert result.failing_blocks == ["W3"]
    assert "manual W3 has shape (7, 2), expected (2, 7)" in result.blocks[4].note
    assert result.to_dict()["blocks"][4]["max_abs_error"] is None  # inf is not JSON


def test_wrong_jax_is_caught_by_the_third_opinion(heart, monkeypatch):
    # If jax.grad itself were wrong, manual and the complex step would outvote it.
    params, x, y = heart
    honest = crosscheck._jax_gradient
    monkeypatch.setattr(crosscheck, "_jax_gradient", lambda *args: [2 * g for g in honest(*args)])
    result = check_gradients(params, x, y, locate=False)
    assert not result.passed
    assert all("JAX network is suspect" in b.note for b in result.blocks)


def test_saturated_network_is_reported_not_failed():
    rng = np.random.default_rng(5)
    params = reference.init_params([2, 4, 3, 2], rng=rng, scale=60.0)
    x, y = rng.standard_normal((2, 5)), rng.uniform(size=(2, 5))
    result = check_gradients(params, x, y)
    assert result.passed, result.table()
    assert "saturated" in {b.status for b in result.blocks}


def test_exact_fit_is_below_the_noise_floor():
    rng = np.random.default_rng(6)
    params = reference.init_params([2, 3, 2], rng=rng)
    x = rng.standard_normal((2, 4))
    y = reference.forward(params, x)  # the residual is rounding only
    result = check_gradients(params, x, y)
    assert result.passed
    assert {b.status for b in result.blocks} == {"below-noise-floor"}


def test_table_and_json(heart):
    params, x, y = heart
    result = check_gradients(params, x, y)
    table = result.table()
    assert "network 1-6-7-2, logistic, float64, batch 100" in table
    assert "3rd opinion" in table and table.count(" pass") == 6
    data = json.loads(json.dumps(result.to_dict()))
    assert data["passed"] is True and len(data["blocks"]) == 6
    assert data["verdict"] == "pass" and data["inconclusive"] is False
    assert data["blocks"][0]["third_opinion"] == pytest.approx(result.blocks[0].oracle_value)
    assert data["blocks"][0]["third_opinion_probe"] is None  # small: every element covered


def test_columns_say_what_is_absolute_and_what_is_relative(heart):
    # Issue 13, item 6: the tolerance is an absolute bound at the worst element; it must not
    # read as a bound on the relative error beside it.
    params, x, y = heart
    table = check_gradients(params, x, y).table()
    header = next(line for line in table.splitlines() if line.startswith("block"))
    assert header.split() == ["block", "max", "abs", "err", "max", "rel", "err", "worst",
                              "elem", "manual@worst", "jax.grad@worst", "3rd@worst",
                              "abs", "tol@worst", "3rd", "opinion", "status"]
    assert "absolute tolerance on |manual - jax.grad|" in table
    assert "rel err = abs err / max(|jax.grad|, abs tol)" in table
    rows = [line.split() for line in table.splitlines() if re.match(r"[Wb]\d ", line)]
    assert [row[-2] for row in rows] == ["all"] * 6  # the third opinion's coverage


def test_probed_blocks_say_what_was_probed_and_how_well(heart, monkeypatch):
    from autodiff.check import probes

    params, x, y = heart
    monkeypatch.setattr(probes, "FULL_BUDGET", 0)
    result = check_gradients(params, x, y, probes=5)
    assert result.passed, result.table()
    table = result.table()
    assert "third opinion along random directions" in table
    assert "  W1: 5 directions, " in table and "of ||jax.grad||_2" in table
    probe = result.to_dict()["blocks"][0]["third_opinion_probe"]
    assert probe["directions"] == 5 and probe["miss_probability"] == probes.MISS
    assert 0 < probe["detects_relative"] < 1e-6  # float64: far below any real mistake
    assert probe["manual_excess"] <= 1 and probe["jax_excess"] <= 1


def test_without_the_third_opinion_the_verdict_says_so(heart):
    params, x, y = heart
    result = check_gradients(params, x, y, oracle=False)
    assert "PASS: manual and jax.grad agree (third opinion skipped)" in result.summary()
    assert {b.coverage for b in result.blocks} == {"-"}


def test_float32_tolerance_is_derived_from_its_eps(heart):
    params, x, y = heart
    t64 = check_gradients(params, x, y, dtype="float64", oracle=False).blocks[-1].tolerance
    t32 = check_gradients(params, x, y, dtype="float32", oracle=False).blocks[-1].tolerance
    eps_ratio = np.finfo(np.float32).eps / np.finfo(np.float64).eps
    assert 0.5 * eps_ratio < t32 / t64 < 2 * eps_ratio


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"activation": "relu"}, ValueError, "activation: unknown name 'relu'"),
        ({"dtype": "float16"}, ValueError, "dtype: expected 'float64' or 'float32'"),
        ({"x": np.zeros((2, 100))}, ValueError, r"x: expected shape \(1, N\)"),
        ({"y": np.zeros((2, 100), dtype=int)}, TypeError, "y: expected a real floating"),
        ({"manual": lambda p, x, y: [(1, 2)]}, TypeError, "manual: expected a list of 3"),
    ],
)
def test_bad_input_is_named(heart, kwargs, error, message):
    params, x, y = heart
    call = {"params": params, "x": x, "y": y, **kwargs}
    with pytest.raises(error, match=message):
        check_gradients(**call)


def zero_gradient(p, xs, ys):
    return [(np.zeros_like(W), np.zeros_like(b)) for W, b in p]


def test_a_fully_saturated_network_is_inconclusive_not_a_pass(heart):
    # Issue 13, item 4: with every unit saturated an all-zero gradient "passed".
    params, x, y = heart
    saturated = [(60 * W, 60 * b) for W, b in params]
    result = check_gradients(saturated, x, y, manual=zero_gradient)
    assert {b.status for b in result.blocks} == {"saturated"}
    assert result.verdict == "inconclusive" and result.inconclusive and result.passed
    assert "INCONCLUSIVE: every block is saturated" in result.summary()
    assert "PASS" not in result.table()
    assert result.to_dict()["verdict"] == "inconclusive"
    # The same zero gradient on the unsaturated network fails: the verdict is not a default.
    assert check_gradients(params, x, y, manual=zero_gradient).verdict == "fail"


def in_float32(p, xs, ys):
    return reference.gradients([(W.astype(np.float32), b.astype(np.float32)) for W, b in p],
                               xs.astype(np.float32), ys.astype(np.float32))


def in_float32_returned_as_float64(p, xs, ys):
    return [(dW.astype(np.float64), db.astype(np.float64)) for dW, db in in_float32(p, xs, ys)]


@pytest.mark.parametrize(("manual", "says"), [
    (in_float32, "the manual returned float32 arrays"),
    (in_float32_returned_as_float64, "every disagreement is small enough to be float32 rounding"),
])
def test_a_float32_gradient_checked_in_float64_gets_a_hint(heart, manual, says):
    # Issue 13, item 5.
    params, x, y = heart
    result = check_gradients(params, x, y, manual=manual, locate=False)
    assert not result.passed
    assert len(result.hints) == 1 and says in result.hints[0]
    assert "--dtype float32" in result.hints[0]
    assert says in result.summary() and result.to_dict()["hints"] == result.hints
    assert check_gradients(params, x, y, manual=manual, dtype="float32").passed


def test_a_real_mistake_gets_no_float32_hint(heart):
    params, x, y = heart

    def one_percent_off(p, xs, ys):
        return [(1.01 * dW, db) for dW, db in reference.gradients(p, xs, ys)]

    result = check_gradients(params, x, y, manual=one_percent_off, locate=False)
    assert not result.passed and result.hints == []


def test_a_nan_in_jax_grad_is_not_taken_for_agreement(heart, monkeypatch):
    # NaN compared as "not above the tolerance" once: a jax.grad with a NaN passed.
    params, x, y = heart
    honest = crosscheck._jax_gradient

    def with_nan(*args):
        blocks = honest(*args)
        blocks[0] = blocks[0].copy()
        blocks[0][2, 0] = np.nan
        return blocks

    monkeypatch.setattr(crosscheck, "_jax_gradient", with_nan)
    result = check_gradients(params, x, y, locate=False)
    assert result.failing_blocks == ["W1"] and result.blocks[0].worst_index == (2, 0)
    assert "JAX network is suspect" in result.blocks[0].note
