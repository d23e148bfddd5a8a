"""Max-pool ties in float32: tanh saturates to exactly ±1 (exact ties) and, just short of that,
to values 1e-5 apart (near-ties). Every routing in the subgradient set passes "at a kink" —
the library's and the loop's first maximum, the last, an even or uneven split, ``jax.vjp``'s
even split — for the library's array-API forward (``jax.vjp``) and a CS231n loop forward
(Ridders), in windows apart or overlapping; a tie counted twice fails, and so does routing a
near-tie beyond the scan's resolution to the smaller input."""

import numpy as np
import pytest
from layer_examples import loops as L

from autodiff import check_vjp, from_cache_style
from autodiff.check.vjp.args import Layout
from autodiff.check.vjp.kinks import scan_argument
from autodiff.check.vjp.probe import Probe
from reference.layers.conv import maxpool_backward, maxpool_forward

TANH = np.tanh(np.float32([[20, 20, 20, 20],      # four inputs exactly 1
                           [20, -20, 20, -20],    # two 1s tied, two -1s below them
                           [-20, -20, -20, -20],  # four inputs exactly -1, tied
                           [5.0, 5.5, 0.5, 4.0],  # 1 - t: 9.1e-5 and 3.3e-5, 6e-5 apart
                           [5.8, 5.5, -3, 1.0],   # 1.5e-5 apart
                           [6.0, 6.05, 2, 3],     # 1.2e-6 apart: tied within the resolution
                           [0.3, -0.4, 0.9, 0.1]]))
X = np.concatenate([TANH, np.float32([[0.2, -1.3, 0.7, 0.6]])]).reshape(1, 2, 2, 2, 2, 2)
X = X.transpose(0, 1, 2, 4, 3, 5).reshape(1, 2, 4, 4)  # row r of TANH is window r, row-major
TIED = 4 + 2 + 4 + 2  # exactly at a maximum in windows 0-2; window 5's pair, within resolution
NEAR_TIES = [(0, 0, 2, 2), (0, 0, 2, 3), (0, 1, 0, 0), (0, 1, 0, 1)]  # windows 3 and 4's pairs


def _windows(x):
    """``(N, C, H/2, W/2, 4)``: each 2×2 window's inputs, row-major."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, c, h // 2, w // 2, 4)


def _route(weigh):
    """A backward giving each window's gradient to its inputs with ``weigh(window, tied)``."""
    def backward(dout, x, *_):
        windows = _windows(x)
        tied = windows == windows.max(axis=-1, keepdims=True)
        weights = weigh(windows, tied) * dout[..., None]
        n, c, h, w, _ = weights.shape
        return weights.reshape(n, c, h, w, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
    return backward


def _last(windows, tied):
    return np.flip(np.cumsum(np.flip(tied, -1), -1) == 1, -1) & tied


def _uneven(windows, tied):
    weights = tied * np.arange(1.0, 5.0)
    return weights / weights.sum(-1, keepdims=True)


def _near_tie_swapped(windows, tied):
    """The first maximum, but the runner-up where it is within 1e-4 and not tied: wrong at the
    near-ties 6e-5 and 1.5e-5 apart; 1.2e-6 apart, within the scan's resolution, is a tie."""
    top = np.sort(windows, axis=-1)
    near = ((top[..., -1] - top[..., -2]) < 1e-4) & (top[..., -1] != top[..., -2])
    first = np.arange(4) == np.argmax(windows, axis=-1)[..., None]
    runner_up = np.arange(4) == np.argsort(windows, axis=-1)[..., -2:-1]
    return np.where(near[..., None], runner_up, first)


def _jax_of(forward):
    """A backward that is ``jax.vjp`` of ``forward``: at a tie it splits the gradient evenly."""
    def backward(dout, x, *_):
        import jax

        with jax.enable_x64(True):  # in the dtype asked for: float64 stays float64
            _, vjp = jax.vjp(forward, jax.numpy.asarray(x))
            return np.asarray(vjp(jax.numpy.asarray(dout))[0])
    return backward


ROUTINGS = {  # name: backward, all in the subgradient set
    "first": None,                                       # each forward's own backward
    "jax.vjp": _jax_of(maxpool_forward),
    "last": _route(_last),
    "split evenly": _route(lambda windows, tied: tied / tied.sum(-1, keepdims=True)),
    "split unevenly": _route(_uneven),
}
FORWARDS = {  # name: (forward, its own backward, extra arguments, the oracle)
    "library": (lambda x: maxpool_forward(x), lambda d, x: maxpool_backward(d, x), (), "jax.vjp"),
    "loop": (*from_cache_style(L.max_pool_forward_naive, L.max_pool_backward_naive),
             ({"size": 2, "stride": 2},), "ridders"),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", sorted(FORWARDS))
def test_every_routing_in_the_subgradient_passes_and_others_fail(kind, dtype):
    forward, own, extra, oracle = FORWARDS[kind]
    for name, backward in ROUTINGS.items():
        result = check_vjp(forward, backward or own, X, *extra, dtype=dtype)
        assert result.passed, (name, result.table())
        assert result["x"].oracle == oracle and result["x"].kinks == TIED, result.table()
        assert "pass, at a kink" in result.table()
    twice = check_vjp(forward, _route(lambda windows, tied: tied * 1.0), X, *extra, dtype=dtype)
    assert twice.failing == ["x"] and twice["x"].diagnosis[0][0] == "tie", twice.table()
    wrong = check_vjp(forward, _route(_near_tie_swapped), X, *extra, dtype=dtype)
    assert wrong.failing == ["x"] and not wrong["x"].worst_at_kink, wrong.table()
    assert wrong["x"].worst_index in NEAR_TIES, wrong.table()


def test_the_scan_calls_a_near_tie_neither_smooth_nor_a_kink():
    """Between a tenth of the scan's step and the step (1e-5 to 1e-4 of the scale) a near-tie
    is no kink — the derivative there is defined and strict — and no smooth point either: the
    scan's finite-difference estimate there is taken across the tie, so neither the oracles'
    validation nor Ridders may rely on it."""
    forward = FORWARDS["loop"][0]
    dout = np.random.default_rng(1).standard_normal((1, 2, 2, 2))
    scan = scan_argument(Probe(forward, Layout.build(forward, (X, {"size": 2, "stride": 2})),
                               [dout]), 0)
    near = np.zeros(X.shape, bool)
    near[tuple(np.transpose(NEAR_TIES))] = True
    assert not np.any((scan.kink | scan.clean)[near])
    assert np.count_nonzero(scan.kink) == TIED and np.all(scan.clean[~near & ~scan.kink])


def test_overlapping_windows_take_each_windows_routing_and_catch_a_tie_counted_twice():
    """Stride 1: an input tied in several windows is valid anywhere in the sum of its windows'
    ranges (the chain rule's interval), wider than the one-sided derivatives when the windows'
    gradients differ in sign; each tie joined through the windows it shares must still sum
    right. ``jax.vjp`` routes these windows evenly, the library to the first maximum."""
    def forward(x):
        return maxpool_forward(x, size=2, stride=1)

    def every_max(dout, x):
        windows = np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(2, 3))
        dx = np.zeros(x.shape)
        for n, c, i, j in np.ndindex(dout.shape):
            window = windows[n, c, i, j]
            dx[n, c, i:i + 2, j:j + 2] += (window == window.max()) * dout[n, c, i, j]
        return dx

    for dtype in ("float32", "float64"):
        for backward in (lambda d, x: maxpool_backward(d, x, size=2, stride=1), _jax_of(forward)):
            result = check_vjp(forward, backward, X, dtype=dtype)
            assert result.passed and "pass, at a kink" in result.table(), result.table()
        twice = check_vjp(forward, every_max, X, dtype=dtype)
        assert twice.failing == ["x"] and twice["x"].diagnosis[0][0] == "tie", twice.table()
