"""Property-based suite (hypothesis) over depth 1–5, widths 1–16, in/out 1–4, batch 1–256,
both activations, tiny to saturating weights, float64 and float32, each compared within the
derived rounding bounds of ``autodiff.core.tolerance``. JAX runs through the padded buckets of
``autodiff.check.buckets`` so that one compile serves every drawn shape. A failure shrinks and
prints its case's reproduction (``note``)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, note, settings

import reference
from autodiff.check import buckets, probes
from autodiff.check.cases import NetworkCase
from autodiff.check.mistakes import get_mistake
from autodiff.check.strategies import network_cases
from autodiff.check.sweep import check_one
from autodiff.core.tolerance import F_PRIME_ULPS, error_bounds

SMALL = buckets.Bucket(depth=3, width=6, batch=8)  # for the full Jacobians
NARROW = buckets.Bucket(batch=32)  # for per-example gradients (one pass per example)
WIDE = buckets.Bucket()  # fits every drawn network


def assert_grads_agree(got, want, bounds, label: str, extra=None):
    """Every element within twice the one-computation bound (plus ``extra``, if given)."""
    for layer, ((gW, gb), (wW, wb), (eW, eb)) in enumerate(
            zip(got, want, bounds.grads, strict=True)):
        for kind, g, w, e in (("W", gW, wW, eW), ("b", gb, wb, eb)):
            tolerance = 2 * e + (0 if extra is None else extra[layer][kind == "b"])
            excess = np.abs(np.asarray(g, np.float64) - np.asarray(w, np.float64)) - tolerance
            assert np.all(excess <= 0), f"{label}: {kind}{layer + 1} off by {excess.max():.3g}"


def setup(case):
    note(case.reproduction())
    params, x, y = case.build()
    return params, x, y, error_bounds(params, x, y, case.activation, case.dtype)


def bucket_grad(case, params, x, y, bucket=WIDE):
    return buckets.grads_many([(params, x, y)], case.activation, case.dtype, bucket, chunk=1)[0]


@given(network_cases())
def test_manual_equals_jax_grad_and_the_complex_step(case):
    params, x, y, _ = setup(case)
    manual = reference.gradients(params, x, y, case.activation)
    why = check_one(case, params, x, y, manual, bucket_grad(case, params, x, y),
                    np.random.default_rng(case.seed))
    assert why is None, why


def flat(layers):
    return [np.asarray(block, np.float64) for layer in layers for block in layer]


@given(network_cases(max_batch=32))
@settings(max_examples=10)
def test_the_third_opinion_agrees_element_by_element_and_along_directions(case):
    # Both ways of the complex step, within their own derived bounds, on every kind of
    # network (saturating weights and float32 included); the planted-error tests in
    # test_oracles show that the same comparisons fail for a wrong gradient.
    params, x, y, bounds = setup(case)
    bounds64 = bounds if case.dtype == "float64" else error_bounds(
        params, x, y, case.activation, np.float64)
    manual = flat(reference.gradients(params, x, y, case.activation))
    jax_grads = flat(bucket_grad(case, params, x, y))
    for budget in (None, 0):  # the default plan (every element here), then probes only
        opinions = probes.third_opinion(params, x, y, case.activation, manual, jax_grads,
                                        flat(bounds.grads), bounds64, probes=3, budget=budget)
        for index, opinion in enumerate(opinions):
            if opinion.probe is not None:
                assert max(opinion.probe.manual_excess, opinion.probe.jax_excess) <= 1, index
                continue
            bound = flat(bounds.grads)[index] + opinion.tolerance
            for label, grads in (("manual", manual), ("jax.grad", jax_grads)):
                excess = np.abs(grads[index] - opinion.values) - bound
                assert np.all(excess <= 0), f"{label} block {index}: {excess.max():.3g}"


@given(network_cases(max_batch=16))
@settings(max_examples=5)
def test_the_property_fails_for_a_planted_mistake(case):
    # The same property, with a mistake that no network shape or batch can hide.
    params, x, y, _ = setup(case)
    manual = get_mistake("sign", case.activation).manual(params, x, y)
    jax_grads = bucket_grad(case, params, x, y)
    # A sign slip on a gradient within rounding of zero is invisible; hypothesis must find
    # other cases (assume, not if: a run that skipped every case fails as Unsatisfiable).
    assume(max(np.abs(g).max() for layer in jax_grads for g in layer) > 1e-3)
    assert check_one(case, params, x, y, manual, jax_grads, np.random.default_rng(0))


@given(network_cases())
def test_batch_permutation_changes_nothing(case):
    params, x, y, bounds = setup(case)
    order = np.random.default_rng(case.seed).permutation(x.shape[1])
    assert_grads_agree(bucket_grad(case, params, x[:, order], y[:, order]),
                       bucket_grad(case, params, x, y), bounds, "permuted batch")


def test_assert_grads_agree_can_fail():
    case = NetworkCase(sizes=(2, 3, 2), batch=5, seed=1, scale=1.0)
    params, x, y = case.build()
    bounds = error_bounds(params, x, y, "logistic", "float64")
    grads = reference.gradients(params, x, y)
    shuffled = reference.gradients(params, x[:, ::-1], y)  # pairs x with the wrong targets
    with pytest.raises(AssertionError, match="off by"):
        assert_grads_agree(shuffled, grads, bounds, "planted")


@functools.cache
def eager_padded_grad(activation):
    return lambda Ws, bs, arrays: jax.grad(buckets.padded_cost, argnums=(0, 1))(
        Ws, bs, arrays, activation)


@given(network_cases())
@settings(max_examples=8)
def test_jit_equals_eager(case):
    params, x, y, bounds = setup(case)
    sizes = case.sizes
    with jax.enable_x64(True):
        arrays = buckets.pad(params, x, y, buckets.Bucket(), np.dtype(case.dtype))
        Ws, bs = arrays.pop("Ws"), arrays.pop("bs")
        with jax.disable_jit():
            dWs, dbs = eager_padded_grad(case.activation)(Ws, bs, arrays)
        eager = buckets.unpad(np.asarray(dWs), np.asarray(dbs), sizes)
    assert_grads_agree(eager, bucket_grad(case, params, x, y), bounds, "eager vs jit")


@functools.cache
def per_example_fn(activation):
    def one(Ws, bs, arrays, mask):
        single = {**arrays, "example_mask": mask, "n_examples": jnp.ones((), Ws.dtype)}
        return jax.grad(buckets.padded_cost, argnums=(0, 1))(Ws, bs, single, activation)

    return jax.jit(jax.vmap(one, in_axes=(None, None, None, 0)))


@given(network_cases(max_batch=NARROW.batch))
@settings(max_examples=8)
def test_mean_of_per_example_grads_is_the_batch_grad(case):
    params, x, y, bounds = setup(case)
    n = x.shape[1]
    dtype = np.dtype(case.dtype)
    with jax.enable_x64(True):
        arrays = buckets.pad(params, x, y, NARROW, dtype)
        Ws, bs = arrays.pop("Ws"), arrays.pop("bs")
        masks = np.eye(NARROW.batch, dtype=dtype)[:, None, :]
        dWs, dbs = (np.asarray(g, np.float64)[:n]
                    for g in per_example_fn(case.activation)(Ws, bs, arrays, masks))
    mean = buckets.unpad(dWs.mean(axis=0), dbs.mean(axis=0), case.sizes)
    # Averaging N values rounds by at most N·u times the mean of their magnitudes.
    u = bounds.unit_roundoff
    spread = buckets.unpad(n * u * np.abs(dWs).mean(axis=0), n * u * np.abs(dbs).mean(axis=0),
                           case.sizes)
    assert_grads_agree(mean, bucket_grad(case, params, x, y, NARROW), bounds,
                       "mean of per-example", extra=spread)


@functools.cache
def jacobian_fns(activation):
    def out(Ws, bs, arrays):
        return buckets.padded_forward(Ws, bs, arrays, activation)

    return (jax.jit(jax.jacrev(out, argnums=(0, 1))), jax.jit(jax.jacfwd(out, argnums=(0, 1))))


@given(network_cases(max_depth=SMALL.depth, max_width=SMALL.width, max_batch=SMALL.batch))
@settings(max_examples=10)
def test_jacfwd_equals_jacrev(case):
    params, x, y, bounds = setup(case)
    dtype = np.dtype(case.dtype)
    with jax.enable_x64(True):
        arrays = buckets.pad(params, x, y, SMALL, dtype)
        Ws, bs = arrays.pop("Ws"), arrays.pop("bs")
        rev, fwd = ([np.asarray(j, np.float64) for j in fn(Ws, bs, arrays)]
                    for fn in jacobian_fns(case.activation))
    # Each entry is a sum over paths of products of `depth` factors, each factor a dot of at
    # most width+1 rounded terms or an f' good to F_PRIME_ULPS: both modes are within
    # depth·(width + 1 + F_PRIME_ULPS)·u of the largest entry of the same output's row.
    u = bounds.unit_roundoff
    relative = SMALL.depth * (SMALL.width + 1 + F_PRIME_ULPS) * u
    for r, f in zip(rev, fwd, strict=True):
        row_max = np.abs(r).reshape(r.shape[0], r.shape[1], -1).max(axis=2)
        tolerance = 2 * relative * row_max[..., None, None, None] + 2 * np.finfo(dtype).tiny
        assert np.all(np.abs(r - f) <= tolerance), "jacfwd and jacrev disagree"


@given(network_cases(sizes=(1, 6, 7, 2), max_batch=4))
@settings(max_examples=5)
def test_network_cases_can_fix_the_architecture(case):
    assert case.sizes == (1, 6, 7, 2)


@given(network_cases(depth=2), network_cases(min_depth=4), network_cases(max_depth=2))
@settings(max_examples=10)
def test_network_cases_can_fix_or_bound_the_depth(two, deep, shallow):
    assert two.depth == 2 and 4 <= deep.depth <= 5 and 1 <= shallow.depth <= 2


@pytest.mark.parametrize(("options", "message"), [
    ({"sizes": (3,)}, r"sizes: expected at least two positive widths"),
    ({"sizes": (2, 0, 1)}, r"sizes: expected at least two positive widths"),
    ({"sizes": (2, 3, 1), "depth": 3}, r"depth: sizes=\(2, 3, 1\) has 2 layers, got depth=3"),
    ({"depth": 0}, r"depth: expected an integer >= 1, got 0"),
    ({"min_depth": 4, "max_depth": 3}, r"max_depth: expected an integer >= 4, got 3"),
    ({"depth": 2, "min_depth": 3}, r"depth: expected at least min_depth=3, got 2"),
    ({"max_batch": 0}, r"max_batch: expected an integer >= 1, got 0"),
    # once accepted, to fail later inside a test as an unknown activation
    ({"activation": "relu"}, r"activation: expected one of logistic, tanh or a strategy, "
                             r"got 'relu'"),
    ({"dtype": "float16"}, r"dtype: expected one of float64, float32 or a strategy"),
])
def test_network_cases_names_a_bad_argument(options, message):
    with pytest.raises(ValueError, match=message):
        network_cases(**options)
