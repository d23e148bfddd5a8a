"""Ensembles under vmap: members equal single runs, noise depends only on (seed, iteration),
sweeps, per-member divergence, best and spread."""

from __future__ import annotations

import numpy as np
import pytest
from test_training_numpy import SEED_SIZES, X, Y

from autodiff.training.engine import train
from autodiff.training.ensemble import stacked_costs, sweep, train_ensemble
from autodiff.training.ensemble_step import LAYOUTS
from reference import cost, gradients, init_params
from reference.training import TrainingDiverged


def relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def ensemble64(seeds, iterations=60, **kw):
    return train_ensemble(SEED_SIZES, iterations, seeds, x=X, y=Y, dtype="float64", chunk=32,
                          **kw)


def textbook_member(seed: int, iterations: int, aggression: float, noise: float,
                    shift: int = 0):
    """Member ``seed`` written plainly in float64: its start network from
    ``default_rng(seed)``, the noise of iteration ``i`` ``normal(fold_in(PRNGKey(seed), i))``
    (``i + shift``: a planted off-by-one), the step from ``reference.gradients``."""
    import jax

    params = init_params(SEED_SIZES, np.random.default_rng(seed))
    key = jax.random.PRNGKey(seed)
    with jax.enable_x64(True):
        eps = np.array([jax.random.normal(jax.random.fold_in(key, i + shift), (6,), "float64")
                        for i in range(iterations)])
    for row in eps:
        grads = gradients(params, X, Y)
        params = [(W - aggression * (1 + noise * row[2 * l]) * dW,
                   b - aggression * (1 + noise * row[2 * l + 1]) * db)
                  for l, ((W, b), (dW, db)) in enumerate(zip(params, grads, strict=True))]
    return params


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_members_are_the_textbook_noisy_descent_in_every_layout(layout):
    seeds, aggressions = [4, 9], [3.5, 7.0]
    result = ensemble64(seeds, iterations=40, aggressions=aggressions, noises=0.8, layout=layout)
    for k, (seed, aggression) in enumerate(zip(seeds, aggressions, strict=True)):
        expected = textbook_member(seed, 40, aggression, 0.8)
        shifted = textbook_member(seed, 40, aggression, 0.8, shift=1)
        # float64 in another order of operations: rounding, far below 1e-9 over 40 steps
        for (W, b), (W0, b0) in zip(result.member(k), expected, strict=True):
            np.testing.assert_allclose(W, W0, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(b, b0, rtol=1e-9, atol=1e-12)
        # and the comparison can fail: the noise of the next iteration is far outside it
        assert not np.allclose(result.member(k)[0][0], shifted[0][0], rtol=1e-6)


def test_an_unknown_layout_is_named():
    with pytest.raises(ValueError, match="layout: expected one of"):
        train_ensemble(SEED_SIZES, 5, [0], layout="diagonal")


def test_noiseless_members_equal_single_runs_and_the_check_sees_a_slip():
    result = ensemble64([2, 3, 4], aggressions=7.0, noises=0.0)
    singles = np.array([train("numpy", SEED_SIZES, 60, 7.0, 0.0, seed=s, x=X, y=Y).final_cost
                        for s in (2, 3, 4)])
    # Same float64 arithmetic in another order: rounding stays near 1e-13 over 60 steps.
    assert relative_gap(result.final_costs, singles) < 1e-9
    slipped = ensemble64([2, 3, 4], aggressions=7.0 * (1 + 1e-6), noises=0.0)
    assert relative_gap(slipped.final_costs, singles) > 1e-8


def test_member_noise_depends_only_on_its_seed_not_on_k_or_chunking():
    big = ensemble64([5, 6, 7], aggressions=[3.0, 5.0, 7.0], noises=1.0)
    alone = train_ensemble(SEED_SIZES, 60, [7], 7.0, 1.0, X, Y, dtype="float64", chunk=25)
    for (W, b), (W1, b1) in zip(big.params, alone.params, strict=True):
        np.testing.assert_allclose(W[2], W1[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b[2], b1[0], rtol=1e-10, atol=1e-12)
    noiseless = ensemble64([7], aggressions=7.0, noises=0.0)
    assert relative_gap(noiseless.final_costs, alone.final_costs) > 1e-6


def test_sweep_is_the_full_grid():
    seeds, aggressions, noises = sweep([0, 1], [3.5, 7.0], [0.0, 1.0, 2.0])
    assert len(seeds) == 12
    assert set(zip(seeds.tolist(), aggressions.tolist(), noises.tolist(), strict=True)) == {
        (s, a, n) for s in (0, 1) for a in (3.5, 7.0) for n in (0.0, 1.0, 2.0)}


def test_diverged_members_are_marked_and_the_rest_summarised():
    seeds, aggressions, noises = sweep([0, 1], [7.0, 1e308], [1.0])
    result = train_ensemble(SEED_SIZES, 40, seeds, aggressions, noises, X, Y, chunk=32)
    diverged = aggressions > 1e300
    assert np.all(result.diverged_at[diverged] == 1)
    assert np.all(result.diverged_at[~diverged] == -1)
    assert np.all(np.isnan(result.final_costs[diverged]))
    summary = result.summary()
    assert summary["diverged"] == 2 and summary["members"] == 4
    best = summary["best"]["index"]
    assert result.final_costs[best] == np.nanmin(result.final_costs)
    assert summary["spread"]["min"] <= summary["spread"]["median"] <= summary["spread"]["max"]
    assert result.history.shape == (2, 4)


def test_all_members_diverging_raises():
    with pytest.raises(TrainingDiverged, match="iteration 1 "):
        train_ensemble(SEED_SIZES, 40, [0, 1], 1e308, 1.0, X, Y, chunk=32)


def test_stacked_costs_match_the_reference_cost_member_by_member():
    result = ensemble64([0, 9], iterations=5)
    costs = stacked_costs(result.params, X, Y)
    expected = [cost(result.member(k), X, Y) for k in range(2)]
    np.testing.assert_allclose(costs, expected, rtol=1e-12)


def test_an_unknown_activation_is_named_not_trained_as_tanh():
    with pytest.raises(ValueError, match="activation: unknown name 'relu'"):
        train_ensemble(SEED_SIZES, 5, [0], activation="relu")


def test_loop_seconds_leave_out_the_host_set_up(monkeypatch):
    """The bench times an ensemble by ``loop_seconds``: the starting networks drawn on the
    host (here made slow on purpose) and the final float64 costs are not part of it."""
    import time

    from autodiff.training import ensemble

    drawn = ensemble.init_ensemble

    def slow_draw(sizes, seeds):
        time.sleep(0.5)
        return drawn(sizes, seeds)

    train_ensemble(SEED_SIZES, 20, range(3), x=X, y=Y, chunk=10)  # compiled, as in the bench
    monkeypatch.setattr(ensemble, "init_ensemble", slow_draw)
    started = time.perf_counter()
    result = train_ensemble(SEED_SIZES, 20, range(3), x=X, y=Y, chunk=10)
    assert time.perf_counter() - started > 0.5
    assert 0 < result.loop_seconds < 0.5
