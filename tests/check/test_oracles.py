"""The complex-step oracle is accurate to rounding wherever the network can take it, small
pre-activations included (regression: 1 - exp(-2z) once cost tanh eps/|z| of accuracy); at
scale it covers small blocks element by element in bounded chunks and probes large ones along
random directions, catching any error as large as the size it quotes, in bounded memory."""

import itertools
import math
import tracemalloc

import numpy as np
import pytest

import reference
from autodiff.check import crosscheck, oracles, probes
from autodiff.check.cases import NetworkCase
from autodiff.check.crosscheck import check_gradients
from autodiff.core.tolerance import error_bounds

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




def data(sizes, batch, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    params = reference.init_params(sizes, rng=rng, scale=scale)
    return params, rng.standard_normal((sizes[0], batch)), rng.uniform(size=(sizes[-1], batch))


def flat(layers):
    return [block for layer in layers for block in layer]


def test_chunked_complex_step_is_the_gradient():
    params, x, y = data([3, 5, 4, 2], 7)
    bounds = error_bounds(params, x, y, "logistic", np.float64)
    want = flat(reference.gradients(params, x, y))
    for chunk in (1, 3, 10_000):
        got = flat(oracles.complex_step_gradient(params, x, y, chunk=chunk))
        for g, w, e in zip(got, want, flat(bounds.grads), strict=True):
            assert np.all(np.abs(g - w) <= 2 * e)


@pytest.mark.parametrize(("sizes", "batch"), [((1, 6, 7, 2), 100), ((4, 16, 16, 16, 16, 4), 256)])
def test_small_networks_lose_nothing(sizes, batch):
    # The worksheet's network and the largest of the property suite: every element covered.
    assert all(probes.covers_every_element(sizes, batch, index // 2, size)
               for index, size in enumerate(flat(
                   [(n_out * n_in, n_out) for n_in, n_out in itertools.pairwise(sizes)])))
    assert not probes.covers_every_element((784, 128, 10), 32, 0, 784 * 128)


def probed(params, x, y, manual_blocks, count=probes.PROBES, activation="logistic"):
    bounds = error_bounds(params, x, y, activation, np.float64)
    jax_blocks = flat(reference.gradients(params, x, y, activation))
    return probes.third_opinion(params, x, y, activation, manual_blocks, jax_blocks,
                                flat(bounds.grads), bounds, count, budget=0)


@pytest.mark.parametrize("shape", ["one element", "dense", "proportional"])
def test_a_probe_catches_an_error_of_the_size_it_quotes(shape):
    params, x, y = data([6, 9, 3], 11, scale=1.0)
    truth = flat(reference.gradients(params, x, y))
    quoted = [o.probe.detects for o in probed(params, x, y, truth)]
    rng = np.random.default_rng(3)
    for index, g in enumerate(truth):
        e = {"one element": np.eye(g.size)[rng.integers(g.size)].reshape(g.shape),
             "dense": rng.standard_normal(g.shape), "proportional": g}[shape]
        wrong = list(truth)
        wrong[index] = g + 1.01 * quoted[index] * e / np.linalg.norm(e)
        report = probed(params, x, y, wrong)[index].probe
        assert report.manual_excess > 1, (shape, index)
        # ... and a correct gradient, or one off by far less than any probe's tolerance, passes.
        wrong[index] = g + 1e-6 * quoted[index] * e / np.linalg.norm(e)
        assert probed(params, x, y, wrong)[index].probe.manual_excess <= 1


def test_wrong_jax_is_caught_by_the_probes(monkeypatch):
    params, x, y = data([5, 8, 2], 9)
    honest = crosscheck._jax_gradient
    monkeypatch.setattr(crosscheck, "_jax_gradient", lambda *args: [
        g * (1.001 if index % 2 == 0 else 1) for index, g in enumerate(honest(*args))])
    monkeypatch.setattr(probes, "FULL_BUDGET", 0)
    result = check_gradients(params, x, y, locate=False)
    assert [b.coverage for b in result.blocks] == ["16 dirs"] * 4
    assert [b.name for b in result.blocks if "JAX network is suspect" in b.note] == ["W1", "W2"]


def test_memory_stays_bounded_where_an_identity_would_not_fit():
    # 784-128-10: 101,770 parameters, whose identity matrix alone is 83 GB.
    params, x, y = data([784, 128, 10], 32)
    grads = flat(reference.gradients(params, x, y))
    tracemalloc.start()
    try:
        bounds = error_bounds(params, x, y, "logistic", np.float64)
        opinions = probes.third_opinion(params, x, y, "logistic", grads, grads,
                                        flat(bounds.grads), bounds)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * probes.CHUNK_BYTES, f"{peak / 2**20:.0f} MiB"
    assert [o.probe is not None for o in opinions] == [True, False, False, False]
    assert all(o.probe.manual_excess <= 1 for o in opinions if o.probe)


def test_a_nan_in_a_probed_block_fails_its_probe():
    params, x, y = data([6, 9, 3], 11)
    truth = flat(reference.gradients(params, x, y))
    wrong = list(truth)
    wrong[0] = truth[0].copy()
    wrong[0][2, 3] = np.nan
    assert probed(params, x, y, wrong)[0].probe.manual_excess == math.inf
