"""The fast path: many networks of different shapes through ONE compiled gradient.

Every network is zero-padded into a fixed *bucket* — ``depth`` layers of ``width × width``
weights and ``batch`` example columns — with masks that make the padding inert:

* a padded unit's activation is multiplied by 0, so it feeds nothing forward and its
  σ'-weighted delta is 0 (σ(0) = ½ would otherwise leak);
* a padded example column is masked out of the residual, and the cost still divides by the
  real N;
* a padded layer (beyond the network's depth) passes its input through unchanged.

So every real entry of the padded gradient is the real gradient plus exact zeros (the only
difference is the order XLA sums in, a rounding matter covered by ``autodiff.core.tolerance``),
and every padded entry is exactly 0. ``jax.vmap`` then checks a chunk of networks per call,
and the compiled function is cached per (bucket, chunk, activation, dtype): a new shape
costs nothing once its bucket exists.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

from autodiff.check.cases import MAX_BATCH, MAX_DEPTH, MAX_WIDTH
from reference.backprop import layer_widths


@dataclass(frozen=True)
class Bucket:
    """Padded shapes: ``depth`` layers, every width ``width``, ``batch`` columns."""

    depth: int = MAX_DEPTH
    width: int = MAX_WIDTH
    batch: int = MAX_BATCH

    def fits(self, sizes, batch: int) -> bool:
        return len(sizes) - 1 <= self.depth and max(sizes) <= self.width and batch <= self.batch


def pad(params, x, y, bucket: Bucket, dtype) -> dict[str, np.ndarray]:
    """The network and batch as fixed-shape arrays with masks (see the module docstring)."""
    sizes = layer_widths(params)
    n_examples = x.shape[1]
    if not bucket.fits(sizes, n_examples):
        raise ValueError(
            f"network {sizes} with batch {n_examples} does not fit bucket {bucket}")
    d, w, n = bucket.depth, bucket.width, bucket.batch
    Ws = np.zeros((d, w, w), dtype)
    bs = np.zeros((d, w, 1), dtype)
    unit_mask = np.zeros((d, w, 1), dtype)
    for layer, (W, b) in enumerate(params):
        Ws[layer, : W.shape[0], : W.shape[1]] = W
        bs[layer, : b.shape[0]] = b
        unit_mask[layer, : W.shape[0]] = 1
    x_pad = np.zeros((w, n), dtype)
    x_pad[: x.shape[0], :n_examples] = x
    y_pad = np.zeros((w, n), dtype)
    y_pad[: y.shape[0], :n_examples] = y
    example_mask = np.zeros((1, n), dtype)
    example_mask[0, :n_examples] = 1
    return {
        "Ws": Ws, "bs": bs, "unit_mask": unit_mask,
        "active": (np.arange(d) < len(params)),
        "x": x_pad, "y": y_pad, "example_mask": example_mask,
        "n_examples": np.asarray(n_examples, dtype),
    }


def unpad(dWs: np.ndarray, dbs: np.ndarray, sizes) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut the real ``[(dW, db), …]`` for layer widths ``sizes`` out of padded gradients."""
    return [(dWs[layer, :n_out, :n_in], dbs[layer, :n_out])
            for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes))]


def padded_forward(Ws, bs, arrays, activation: str):
    """The network's output on padded arrays, ``(width, batch)``; padded rows are 0 and
    padded columns hold whatever the zero inputs produce (the cost masks them out)."""
    import jax.numpy as jnp

    from autodiff.core.network import activation_fn

    f = activation_fn(activation)
    a = arrays["x"]
    for layer in range(Ws.shape[0]):
        stepped = f(Ws[layer] @ a + bs[layer]) * arrays["unit_mask"][layer]
        a = jnp.where(arrays["active"][layer], stepped, a)
    return a


def padded_cost(Ws, bs, arrays, activation: str):
    """The network's cost ``||a_L - y||² / N`` on padded arrays (one network, no vmap)."""
    import jax.numpy as jnp

    residual = (padded_forward(Ws, bs, arrays, activation) - arrays["y"]) * arrays["example_mask"]
    return jnp.sum(residual**2) / arrays["n_examples"]


@functools.cache
def batched_grad(activation: str):
    """``jit(vmap(grad(padded_cost)))`` over a leading network axis; compiled once per shape
    and dtype of its inputs (so once per bucket, chunk size and dtype)."""
    import jax

    def one(Ws, bs, arrays):
        return jax.grad(padded_cost, argnums=(0, 1))(Ws, bs, arrays, activation)

    return jax.jit(jax.vmap(one))


def stack(padded: list[dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, dict]:
    """Stack per-network padded arrays along a new leading axis, ready for ``batched_grad``."""
    Ws = np.stack([p["Ws"] for p in padded])
    bs = np.stack([p["bs"] for p in padded])
    arrays = {key: np.stack([p[key] for p in padded]) for key in padded[0]
              if key not in ("Ws", "bs")}
    return Ws, bs, arrays


def grads_many(networks, activation: str, dtype, bucket: Bucket = Bucket(), chunk: int = 64):
    """``jax.grad`` of each ``(params, x, y)`` in ``networks`` through the padded fast path.

    Returns one ``[(dW, db), …]`` (NumPy, ``dtype``) per network. Chunks are topped up with
    copies of the last network so that every call has the same shape and reuses one compile.
    """
    import jax

    dtype = np.dtype(dtype)
    results = []
    with jax.enable_x64(True):
        function = batched_grad(activation)
        for start in range(0, len(networks), chunk):
            group = networks[start:start + chunk]
            padded = [pad(p, x, y, bucket, dtype) for p, x, y in group]
            padded += [padded[-1]] * (chunk - len(padded))
            dWs, dbs = (np.asarray(g) for g in function(*stack(padded)))
            for index, (params, _, _) in enumerate(group):
                results.append(unpad(dWs[index], dbs[index], layer_widths(params)))
    return results
