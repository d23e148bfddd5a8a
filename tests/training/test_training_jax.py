"""The compiled jax engine: same algorithm and RNG story as the NumPy engines (float64), a
derived float32 tolerance, padding of the last chunk, divergence and input checks."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from test_training_numpy import SEED_SIZES, X, Y, one_step_error, start

from autodiff.training.engine import resolve_device, train, train_jax
from reference import gradients
from reference.training import TrainingDiverged, noise_factors, train_numpy

EPS32 = float(np.finfo(np.float32).eps)


def jax64(params, x, y, iterations, aggression, noise, rng, activation="logistic", **kw):
    return train_jax(params, x, y, iterations, aggression, noise, rng=rng,
                     activation=activation, dtype="float64", **kw)


@pytest.mark.parametrize(("sizes", "activation"), [
    (SEED_SIZES, "logistic"), ([3, 5, 4, 2, 3], "tanh"), ([2, 1], "logistic")])
def test_one_step_is_the_noisy_gradient_step_in_float64(sizes, activation):
    # float64 rounding of a few dozen flops against an O(1) step: far below 1e-9.
    assert one_step_error(jax64, gradients, sizes, activation) < 1e-9


def test_the_step_check_catches_a_wrong_gradient_in_jax():
    def overscaled_hidden_gradient(params, x, y, activation):  # dW2 half again too large
        grads = gradients(params, x, y, activation)
        (dW1, db1), (dW2, db2), last = grads
        return [(dW1, db1), (dW2 * 1.5, db2), last]

    assert one_step_error(jax64, overscaled_hidden_gradient, SEED_SIZES, "logistic") > 1e-2


def test_float64_jax_follows_the_numpy_trajectory_with_a_padded_last_chunk():
    runs = []
    for engine_fn, options in ((train_numpy, {}),
                               (train_jax, {"dtype": "float64", "chunk": 64}),
                               (train_jax, {"dtype": "float64", "chunk": 64,
                                            "record_costs": True})):
        params, rng = start(SEED_SIZES, 3)
        runs.append(engine_fn(params, X, Y, 150, rng=rng, **options))  # 150 = 64 + 64 + 22
    reference_run, chunk_ends, every_step = runs
    # Same float64 arithmetic in another order: rounding grows slowly over 150 steps.
    np.testing.assert_allclose(every_step.costs, reference_run.costs, rtol=1e-9)
    assert np.array_equal(every_step.cost_iterations, np.arange(150))
    assert chunk_ends.cost_iterations.tolist() == [64, 128, 150]
    with_final = np.append(reference_run.costs, reference_run.final_cost)
    np.testing.assert_allclose(chunk_ends.costs, with_final[chunk_ends.cost_iterations],
                               rtol=1e-9)
    for run in (chunk_ends, every_step):
        for (W, b), (W0, b0) in zip(run.params, reference_run.params, strict=True):
            np.testing.assert_allclose(W, W0, rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(b, b0, rtol=1e-8, atol=1e-10)


def float32_step_tolerance(params, grads, factors, aggression, depth, width) -> float:
    """Bound on |float32 step - float64 step| for one step: rounding the parameter itself
    (eps·|p|) plus the step's relative error, eps times the longest chain of roundings in one
    gradient entry (about ``4·depth·width`` flops, each within eps of exact); the data and
    parameters are O(1), so no magnitude beyond the step's own enters."""
    step = max(np.max(np.abs(aggression * f * g))
               for f, g in zip(factors, [g for pair in grads for g in pair], strict=True))
    largest = max(np.max(np.abs(p)) for pair in params for p in pair)
    return EPS32 * (largest + 4 * depth * width * step)


def test_float32_step_is_within_the_derived_rounding_bound():
    params, rng = start(SEED_SIZES, 4)
    factors = noise_factors(start(SEED_SIZES, 4)[1], 1, 6, 1.0)[0]
    exact = train_jax(params, X, Y, 1, 7.0, 1.0, rng=rng, dtype="float64").params
    single = train_jax(params, X, Y, 1, 7.0, 1.0, rng=start(SEED_SIZES, 4)[1]).params
    bound = float32_step_tolerance(params, gradients(params, X, Y), factors, 7.0,
                                   depth=3, width=7)
    error = max(np.max(np.abs(p32 - p64)) for pair32, pair64 in zip(single, exact, strict=True)
                for p32, p64 in zip(pair32, pair64, strict=True))
    assert error <= bound
    # and the bound is tight enough to see a planted slip of one part in 10^4 of the step
    slipped = train_jax(params, X, Y, 1, 7.0 * (1 + 1e-4), 1.0, rng=start(SEED_SIZES, 4)[1],
                        dtype="float64").params
    assert max(np.max(np.abs(a - b)) for pa, pb in zip(slipped, exact, strict=True)
               for a, b in zip(pa, pb, strict=True)) > bound


def test_same_seed_same_run_and_float32_trains_the_heart_down():
    first, again, other = (train("jax", SEED_SIZES, 2000, seed=seed, x=X, y=Y, chunk=500,
                                 record_costs=True) for seed in (6, 6, 7))
    # The same compiled program on the same inputs: bitwise reproducible.
    assert np.array_equal(first.costs, again.costs)
    assert not np.array_equal(first.costs, other.costs)
    assert first.final_cost < first.costs[0] / 3


@pytest.mark.parametrize(("dtype", "record_costs"), [
    ("float32", False), ("float64", False), ("float32", True)])
def test_divergence_names_the_iteration(dtype, record_costs):
    # Without recorded costs the diverged chunk is replayed to find the iteration.
    params, rng = start(SEED_SIZES, 0)
    with pytest.raises(TrainingDiverged, match="iteration 1 ") as info:
        train_jax(params, X, Y, 50, aggression=1e308, rng=rng, dtype=dtype, chunk=64,
                  record_costs=record_costs)
    assert info.value.iteration == 1


def test_callback_sees_every_chunk_end():
    seen = []
    params, rng = start(SEED_SIZES, 0)
    result = train_jax(params, X, Y, 150, rng=rng, chunk=64,
                       callback=lambda done, p, c: seen.append((done, c, p[0][0].shape)))
    assert [done for done, _, _ in seen] == [64, 128, 150]
    assert seen[-1][1] == pytest.approx(result.costs[-1])
    assert seen[0][2] == (6, 1)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"dtype": "float16"}, "dtype"),
    ({"device": "tpu"}, "device"),
    ({"activation": "relu"}, "activation"),
    ({"iterations": -3}, "iterations"),
])
def test_bad_options_are_named(kwargs, match):
    params, rng = start(SEED_SIZES, 0)
    call = {"iterations": 5, **kwargs}
    with pytest.raises(ValueError, match=match):
        train_jax(params, X, Y, rng=rng, **call)


@pytest.mark.skipif(any(d.platform == "gpu" for d in jax.devices()), reason="a GPU is present")
def test_asking_for_a_missing_gpu_says_so():
    with pytest.raises(ValueError, match="'gpu' requested"):
        resolve_device("gpu")


def test_unknown_engine_is_named():
    with pytest.raises(ValueError, match="engine"):
        train("torch", iterations=1)


HAS_GPU = any(d.platform == "gpu" for d in jax.devices())


def max_relative_gap(runs) -> float:
    """Largest difference between two runs' (single or stacked) ``[(W, b), …]``, block by
    block relative to the block's largest entry (an entry near 0 has no relative accuracy)."""
    first, second = runs
    return max(float(np.max(np.abs(p - q)) / np.max(np.abs(q)))
               for pair_p, pair_q in zip(first, second, strict=True)
               for p, q in zip(pair_p, pair_q, strict=True))


@pytest.mark.skipif(not HAS_GPU, reason="no GPU")
def test_one_gpu_step_is_the_cpu_step_in_float64():
    from autodiff.training.ensemble import train_ensemble

    params, _ = start(SEED_SIZES, 1)
    singles = [train_jax(params, X, Y, 1, rng=start(SEED_SIZES, 1)[1], dtype="float64",
                         device=device).params for device in ("cpu", "gpu")]
    members = [train_ensemble(SEED_SIZES, 1, range(4), x=X, y=Y, dtype="float64",
                              device=device).params for device in ("cpu", "gpu")]
    # One step: a few hundred float64 operations per entry, in another order on the GPU.
    assert max_relative_gap(singles) < 1e-12
    assert max_relative_gap(members) < 1e-12


@pytest.mark.skipif(not HAS_GPU, reason="no GPU")
def test_gpu_runs_follow_the_cpu_runs_in_float64_on_a_well_conditioned_trajectory():
    from autodiff.training.ensemble import train_ensemble

    # A noisy run at aggression 7 can amplify rounding 1e13-fold in 200 steps (seed 1: the
    # numpy and jax engines, both on the CPU, end 2% apart), so the runs compared here are
    # first shown to be well-conditioned: other roundings on the CPU agree to 1e-12.
    def single(engine, **options):
        return train(engine, SEED_SIZES, 200, 3.5, 0.5, seed=1, x=X, y=Y, **options)

    def members(**options):
        return train_ensemble(SEED_SIZES, 100, range(4), 3.5, 0.5, X, Y, dtype="float64",
                              chunk=64, **options).params

    cpu, gpu = (single("jax", dtype="float64", device=device, chunk=64)
                for device in ("cpu", "gpu"))
    assert cpu.final_cost == pytest.approx(single("numpy").final_cost, rel=1e-12)
    assert gpu.final_cost == pytest.approx(cpu.final_cost, rel=1e-9)
    cpu_members = members(device="cpu")
    assert max_relative_gap([members(device="cpu", layout="networks-last"), cpu_members]) < 1e-12
    assert max_relative_gap([members(device="gpu"), cpu_members]) < 1e-9


def test_an_xla_without_the_cpu_option_falls_back_to_the_plain_chunk():
    from autodiff.training import engine as training

    assert training.compiler_accepts((("xla_cpu_no_such_option_for_this_test", "X"),)) is False
    assert training.compiler_accepts(tuple(training.CPU_OPTIONS.items())) is True
    assert training.chunk_runner("cpu") is training.run_chunk_cpu
    assert training.chunk_runner("gpu") is training.run_chunk
