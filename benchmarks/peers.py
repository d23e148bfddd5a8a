"""The checkers side by side: ours against ``torch.autograd.gradcheck`` and JAX's ``check_grads``.

Every figure is warm (one call first, so compiles and imports are out of it), repeated, and
given as min and median, and ours over the peer's (min over min: on a loaded machine the
median of the longer call suffers more from being preempted). Three measurements:

(a) ``check_vjp`` on a CS231n-style NumPy batch norm (N=6, D=4, float64) against
    ``gradcheck(fast_mode=True)`` on the same layer written in torch and
    ``check_grads(order=1, modes=["rev"])`` on it written in ``jax.numpy``;
(b) ``check_gradients`` at 784-512-512-10 (batch 64) against ``check_grads`` on ``jax.grad``
    of the same cost (and torch's fast gradcheck on the same network, where torch is there);
(c) at 784-512-512-10, a backward off by a relative 1e-6 in one element of W1: whether each
    checker catches it.

torch is never a dependency of the project: a peer that is not importable is skipped and said
so (put a CPU torch on ``PYTHONPATH`` to include it). The load average is printed with the
figures: timings on a shared machine are only comparable within one run.

    python benchmarks/peers.py                 # 20 repeats of (a), 5 of (b)
    python benchmarks/peers.py --repeats 5 --json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import reference
from autodiff.check.crosscheck import check_gradients
from autodiff.check.vjp.check import check_vjp

SIZES = [784, 512, 512, 10]
BATCH = 64
PLANTED = 1e-6  # relative error planted in one element of dW1
HAS_TORCH = importlib.util.find_spec("torch") is not None


def timed(call, repeats: int) -> dict:
    """Warm ``call`` once, then time it ``repeats`` times: min and median in seconds."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {"min": min(times), "median": statistics.median(times), "repeats": repeats}


# --- (a) batch norm, as people write it --------------------------------------------------------

def batchnorm_forward(x, gamma, beta):
    mu = x.mean(axis=0)
    centred = x - mu
    var = (centred**2).mean(axis=0)
    inv = 1.0 / np.sqrt(var + 1e-5)
    return gamma * centred * inv + beta


def batchnorm_backward(dout, x, gamma, beta):
    n = x.shape[0]
    mu = x.mean(axis=0)
    centred = x - mu
    inv = 1.0 / np.sqrt((centred**2).mean(axis=0) + 1e-5)
    xhat = centred * inv
    dxhat = dout * gamma
    dx = inv / n * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def small_layer(repeats: int) -> dict:
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.standard_normal((6, 4)), rng.standard_normal(4), rng.standard_normal(4)
    result = check_vjp(batchnorm_forward, batchnorm_backward, x, gamma, beta)
    rows = {"check_vjp": dict(timed(lambda: check_vjp(
        batchnorm_forward, batchnorm_backward, x, gamma, beta), repeats), passed=result.passed)}

    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    def jax_batchnorm(x, gamma, beta):
        centred = x - x.mean(axis=0)
        return gamma * centred / jnp.sqrt((centred**2).mean(axis=0) + 1e-5) + beta

    with jax.enable_x64(True):
        args = tuple(jnp.asarray(a) for a in (x, gamma, beta))
        rows["jax check_grads"] = timed(
            lambda: check_grads(jax_batchnorm, args, order=1, modes=["rev"]), repeats)
    if HAS_TORCH:
        import torch

        def torch_batchnorm(x, gamma, beta):
            centred = x - x.mean(dim=0)
            return gamma * centred / torch.sqrt((centred**2).mean(dim=0) + 1e-5) + beta

        targs = tuple(torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
        rows["torch gradcheck fast"] = timed(lambda: torch.autograd.gradcheck(
            torch_batchnorm, targs, fast_mode=True), repeats)
    return rows


# --- (b) and (c) the 784-512-512-10 network ----------------------------------------------------

def network():
    params = reference.init_params(SIZES, rng=0, scale=0.05)
    rng = np.random.default_rng([0, 1])
    return params, rng.standard_normal((SIZES[0], BATCH)), rng.uniform(size=(SIZES[-1], BATCH))


def planted_manual(params, x, y):
    """The project's hand backprop with dW1[3, 5] off by a relative ``PLANTED``."""
    grads = reference.gradients(params, x, y, "logistic")
    (dW1, db1), *rest = grads
    dW1 = dW1.copy()
    dW1[3, 5] *= 1 + PLANTED
    return [(dW1, db1), *rest]


def _jax_peer(params, x, y, planted: bool):
    """``check_grads`` on the network's cost; ``planted`` gives it a custom VJP whose backward
    carries the same planted error as ``planted_manual``."""
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    from autodiff.core import network

    def cost(p):
        return network.cost(p, x, y)

    if planted:
        plain = cost

        @jax.custom_vjp
        def cost(p):
            return plain(p)

        def forward(p):
            return plain(p), p

        def backward(p, g):
            (dW1, db1), *rest = jax.grad(plain)(p)
            planted = [(dW1.at[3, 5].multiply(1 + PLANTED), db1), *rest]
            return ([(g * dW, g * db) for dW, db in planted],)

        cost.defvjp(forward, backward)
    with jax.enable_x64(True):
        jparams = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
        try:
            check_grads(cost, (jparams,), order=1, modes=["rev"])
            return True
        except AssertionError:
            return False


def _torch_peer(params, x, y, planted: bool):
    import torch

    tx, ty = torch.tensor(x), torch.tensor(y)

    def cost(*flat):
        a = tx
        for W, b in zip(flat[::2], flat[1::2], strict=True):
            a = torch.sigmoid(W @ a + b)
        return ((a - ty) ** 2).sum() / tx.shape[1]

    class Planted(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *flat):
            ctx.save_for_backward(*flat)
            return cost(*flat)

        @staticmethod
        def backward(ctx, g):
            with torch.enable_grad():
                flat = [t.detach().requires_grad_() for t in ctx.saved_tensors]
                grads = list(torch.autograd.grad(cost(*flat), flat))
            grads[0] = grads[0].clone()
            grads[0][3, 5] *= 1 + PLANTED
            return tuple(g * d for d in grads)

    flat = tuple(torch.tensor(p, requires_grad=True) for layer in params for p in layer)
    return torch.autograd.gradcheck(Planted.apply if planted else cost, flat, fast_mode=True,
                                    raise_exception=False)


def big_network(repeats: int) -> tuple[dict, dict]:
    params, x, y = network()
    result = check_gradients(params, x, y)
    rows = {"check_gradients": dict(timed(lambda: check_gradients(params, x, y), repeats),
                                    passed=result.passed, verdict=result.verdict)}
    rows["jax check_grads"] = timed(lambda: _jax_peer(params, x, y, False), repeats)
    if HAS_TORCH:
        rows["torch gradcheck fast"] = timed(lambda: _torch_peer(params, x, y, False), repeats)
    failing = check_gradients(params, x, y, manual=planted_manual)
    caught = {"check_gradients": dict(
        caught=not failing.passed, blocks=[b.name for b in failing.blocks if b.status == "fail"],
        **timed(lambda: check_gradients(params, x, y, manual=planted_manual), 1))}
    caught["jax check_grads"] = {"caught": not _jax_peer(params, x, y, True)}
    if HAS_TORCH:
        caught["torch gradcheck fast"] = {"caught": not _torch_peer(params, x, y, True)}
    return rows, caught


def _print(title: str, rows: dict, ours: str) -> None:
    print(title)
    for name, row in rows.items():
        extra = "" if name == ours else (
            f"   ours/this: min {rows[ours]['min'] / row['min']:.1f}×, "
            f"median {rows[ours]['median'] / row['median']:.1f}×")
        print(f"  {name:22s} min {1e3 * row['min']:9.2f} ms   median "
              f"{1e3 * row['median']:9.2f} ms{extra}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--part", choices=("all", "layer", "network"), default="all")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    small = small_layer(args.repeats) if args.part != "network" else {}
    big, caught = big_network(max(1, args.repeats // 4)) if args.part != "layer" else ({}, {})
    report = {"load_before": load_before, "load_after": os.getloadavg(), "torch": HAS_TORCH,
              "small_layer": small, "network": big, "planted": caught}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"load average before {load_before[0]:.2f}, after {report['load_after'][0]:.2f}; "
          f"torch {'present' if HAS_TORCH else 'not importable: skipped'}")
    if small:
        _print("(a) batch norm N=6 D=4 float64, warm", small, "check_vjp")
    if not big:
        return 0
    _print(f"(b) {'-'.join(map(str, SIZES))} batch {BATCH}, warm "
           f"(verdict {big['check_gradients']['verdict']})", big, "check_gradients")
    print(f"(c) dW1[3, 5] off by a relative {PLANTED:g}:")
    for name, row in caught.items():
        print(f"  {name:22s} {'caught' if row['caught'] else 'MISSED'}"
              + (f" (failing {row['blocks']}, {1e3 * row['min']:.0f} ms)" if "blocks" in row
                 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
