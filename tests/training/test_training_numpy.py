"""The NumPy training engines: the worksheet's semantics, one step checked against an
independent gradient, the shared RNG story, divergence, and input checks."""

from __future__ import annotations

import numpy as np
import pytest

from reference import gradients, init_params, training_data, worksheet
from reference.training import (
    TrainingDiverged,
    noise_factors,
    train_numpy,
    train_seed,
)

X, Y = training_data(30)
SEED_SIZES = [1, 6, 7, 2]


def start(sizes, seed):
    """The documented RNG story: the network first, then the noise, from one generator."""
    rng = np.random.default_rng(seed)
    return init_params(sizes, rng), rng


def one_step_error(train_fn, gradient_fn, sizes, activation, seed=5, aggression=3.0, noise=0.7):
    """Largest relative difference, over parameter blocks, between one engine step and
    ``p - aggression * (1 + noise*randn) * gradient_fn(p)`` with the same noise draw."""
    params, rng = start(sizes, seed)
    x = np.random.default_rng(1).uniform(size=(sizes[0], 9))
    y = np.random.default_rng(2).uniform(size=(sizes[-1], 9))
    kwargs = {} if train_fn is train_seed else {"activation": activation}
    stepped = train_fn(params, x, y, 1, aggression, noise, rng=rng, **kwargs).params
    factors = noise_factors(start(sizes, seed)[1], 1, 2 * len(params), noise)[0]
    grads = gradient_fn(params, x, y, activation)
    errors = []
    for l, ((W, b), (dW, db), (W1, b1)) in enumerate(zip(params, grads, stepped, strict=True)):
        blocks = ((W, dW, W1, factors[2 * l]), (b, db, b1, factors[2 * l + 1]))
        for block, grad, new, factor in blocks:
            expected = block - aggression * factor * grad
            errors.append(np.max(np.abs(new - expected)) / np.max(np.abs(expected - block)))
    return max(errors)


@pytest.mark.parametrize(("train_fn", "sizes", "activation"), [
    (train_seed, SEED_SIZES, "logistic"),
    (train_numpy, SEED_SIZES, "logistic"),
    (train_numpy, [3, 5, 4, 2, 3], "tanh"),
    (train_numpy, [2, 1], "logistic"),
])
def test_one_step_is_the_noisy_gradient_step(train_fn, sizes, activation):
    # The step is an O(1) change; float64 rounding of a few dozen flops stays far below 1e-9.
    assert one_step_error(train_fn, gradients, sizes, activation) < 1e-9


@pytest.mark.parametrize("train_fn", [train_seed, train_numpy])
def test_the_step_check_catches_a_wrong_gradient(train_fn):
    def missing_one_over_n(params, x, y, activation):  # sums over examples, forgets 1/N
        n = x.shape[1]
        return [(dW * n, db * n) for dW, db in gradients(params, x, y, activation)]

    assert one_step_error(train_fn, missing_one_over_n, SEED_SIZES, "logistic") > 1e-2


def test_seed_and_numpy_engines_follow_the_same_trajectory():
    runs = []
    for train_fn in (train_seed, train_numpy):
        params, rng = start(SEED_SIZES, 3)
        runs.append(train_fn(params, X, Y, 150, rng=rng, chunk=40))
    seed_run, numpy_run = runs
    # Same arithmetic in another order: rounding differences grow slowly over 150 steps.
    np.testing.assert_allclose(numpy_run.costs, seed_run.costs, rtol=1e-9)
    for (W, b), (W0, b0) in zip(numpy_run.params, seed_run.params, strict=True):
        np.testing.assert_allclose(W, W0, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(b, b0, rtol=1e-8, atol=1e-10)
    assert numpy_run.final_cost == pytest.approx(seed_run.final_cost, rel=1e-9)


def textbook_run(params, x, y, iterations, rng, activation="logistic", aggression=7.0,
                 noise=1.0, slope_as_product=False):
    """The noisy step written plainly, one fresh array per quantity, in the order of operations
    the fused engine keeps: ``z = [W | b] [a; 1]`` (one dot), ``σ = 1 / (e^-z + 1)``,
    ``σ' = σ - σ²``, ``grad = delta [a; 1]ᵀ`` scaled by ``-aggression·factor·2/N``.
    ``slope_as_product`` takes ``σ' = σ (1 - σ)`` instead: the same maths, other roundings."""
    Wbs = [np.concatenate([W, b], axis=1) for W, b in params]
    n, depth = x.shape[1], len(params)
    ones = np.ones((1, n))
    scale = -aggression * 2.0 / n
    costs = []
    for row in noise_factors(rng, iterations, 2 * depth, noise):
        a, slopes = [np.concatenate([x, ones])], []
        for l, Wb in enumerate(Wbs):
            z = np.dot(Wb, a[-1])
            if activation == "logistic":
                out = 1.0 / (np.exp(-z) + 1.0)
                slopes.append(out * (1.0 - out) if slope_as_product else out - out * out)
            else:
                out = np.tanh(z)
                slopes.append((1.0 - out) * (1.0 + out) if slope_as_product else 1.0 - out * out)
            a.append(np.concatenate([out, ones]) if l < depth - 1 else out)
        residual = a[-1] - y
        costs.append(np.dot(residual.ravel(), residual.ravel()) / n)
        delta = residual * slopes[-1]
        for l in reversed(range(depth)):
            grad = np.dot(delta, a[l].T)
            if l > 0:
                delta = np.dot(Wbs[l][:, :-1].T, delta) * slopes[l - 1]
            grad[:, :-1] *= scale * row[2 * l]
            grad[:, -1:] *= scale * row[2 * l + 1]
            Wbs[l] = Wbs[l] + grad
    return np.array(costs), [(Wb[:, :-1], Wb[:, -1:]) for Wb in Wbs]


@pytest.mark.parametrize(("sizes", "activation"), [
    (SEED_SIZES, "logistic"), ([3, 5, 4, 2, 3], "tanh"), ([2, 1], "logistic")])
def test_fused_numpy_engine_is_the_textbook_step_bit_for_bit(sizes, activation):
    x = X if sizes[0] == 1 else np.random.default_rng(1).uniform(size=(sizes[0], 30))
    y = Y if sizes[-1] == 2 else np.random.default_rng(2).uniform(size=(sizes[-1], 30))
    params, rng = start(sizes, 3)
    # a modest aggression, so that no run saturates into a constant cost
    fused = train_numpy(params, x, y, 90, 2.0, rng=rng, activation=activation, chunk=40)
    costs, final = textbook_run(params, x, y, 90, start(sizes, 3)[1], activation, 2.0)
    # Flat buffers, the negated logistic weights and the factor table change no rounding.
    assert np.array_equal(fused.costs, costs)
    for (W, b), (W0, b0) in zip(fused.params, final, strict=True):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)
    # and bitwise equality is a check that can fail: one other rounding is seen
    other, _ = textbook_run(params, x, y, 90, start(sizes, 3)[1], activation, 2.0,
                            slope_as_product=True)
    assert not np.array_equal(fused.costs, other)
    np.testing.assert_allclose(fused.costs, other, rtol=1e-6)


def test_same_seed_same_run_for_every_chunk_size_and_another_seed_differs():
    def run(seed, chunk):
        params, rng = start(SEED_SIZES, seed)
        return train_numpy(params, X, Y, 120, rng=rng, chunk=chunk)

    first, rechunked, other = run(8, 1000), run(8, 7), run(9, 1000)
    # Identical operations on identical numbers: reproducibility is bitwise, not approximate.
    assert np.array_equal(first.costs, rechunked.costs)
    assert not np.array_equal(first.costs, other.costs)


def test_training_lowers_the_cost_and_leaves_the_inputs_alone():
    params, rng = start(SEED_SIZES, 0)
    before = [(W.copy(), b.copy()) for W, b in params]
    result = train_numpy(params, X, Y, 3000, rng=rng)
    assert result.final_cost < result.costs[0] / 3
    for (W, b), (W0, b0) in zip(params, before, strict=True):
        assert np.array_equal(W, W0) and np.array_equal(b, b0)


def test_callback_runs_between_chunks_with_the_latest_cost():
    seen = []
    params, rng = start(SEED_SIZES, 0)
    result = train_numpy(params, X, Y, 25, rng=rng, chunk=10,
                         callback=lambda done, p, c: seen.append((done, c)))
    assert [done for done, _ in seen] == [10, 20, 25]
    assert seen[-1][1] == result.costs[-1]


def test_seed_engine_restores_the_worksheet_globals():
    worksheet.reset_network(random=np.random.RandomState(4))
    saved = worksheet.get_params()
    params, rng = start(SEED_SIZES, 0)
    train_seed(params, X, Y, 3, rng=rng)
    assert all(a is b for pair, pair0 in zip(worksheet.get_params(), saved, strict=True)
               for a, b in zip(pair, pair0, strict=True))


@pytest.mark.parametrize("train_fn", [train_seed, train_numpy])
def test_divergence_names_the_iteration(train_fn):
    params, rng = start(SEED_SIZES, 0)
    # A step of ~1e308 overflows the weights to inf, and the next cost is NaN.
    with pytest.raises(TrainingDiverged, match="iteration 1 ") as info:
        train_fn(params, X, Y, 50, aggression=1e308, rng=rng)
    assert info.value.iteration == 1


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"iterations": -1}, "iterations"),
    ({"iterations": 2.5}, "iterations"),
    ({"aggression": float("nan")}, "aggression"),
    ({"noise": "1"}, "noise"),
    ({"chunk": 0}, "chunk"),
])
def test_bad_hyperparameters_are_named(kwargs, match):
    params, rng = start(SEED_SIZES, 0)
    call = {"iterations": 5, **kwargs}
    with pytest.raises(ValueError, match=match):
        train_numpy(params, X, Y, rng=rng, **call)


def test_seed_engine_refuses_other_shapes_and_numpy_refuses_unknown_activations():
    params, rng = start([1, 4, 2], 0)
    with pytest.raises(ValueError, match="1-n1-n2-2"):
        train_seed(params, X, Y, 1, rng=rng)
    with pytest.raises(ValueError, match="activation"):
        train_numpy(params, X, Y, 1, rng=rng, activation="relu")
