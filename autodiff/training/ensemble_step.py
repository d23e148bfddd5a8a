"""One noisy-descent step of K networks at once, written once over three array layouts.

The step is the single-network step of ``autodiff.training.engine`` (read its docstring): bias-
augmented weights ``[W_l | b_l]`` acting on ``[a; 1]``, the row of ones made by padding ``z``
with ``+inf`` (``f(+inf) = 1``), ``f'`` taken from the kept activations, the 2/N moved into the
step factors. Only where the K axis sits, and how products are spelt, depends on the layout:

* ``NetworksFirst`` — ``Wb_l`` ``(K, n_out, n_in+1)``, activations ``(K, n, N)``: every product
  is a batched matrix product over the K networks (``jnp.einsum``), one library call each on
  XLA's CPU backend, and the first layer's products, whose input ``x`` all members share, are
  plain matrix products. For CPUs.
* ``NetworksLast`` — ``Wb_l`` ``(n_out, n_in+1, K)``, activations ``(n, N, K)``: every product
  is a broadcast-multiply-sum over a small axis, with K the contiguous axis, which XLA fuses
  with the activation around it into a few loops that read each activation once, coalesced
  across networks. For GPUs, where a batched product of K tiny matrices would be a poor kernel.
* ``Unrolled`` — shapes of ``NetworksLast``, the sums over units written out term by term and
  no row of ones, so only the gradients' sums over the examples are reductions. A candidate for
  GPUs (``benchmarks/gpu_variants.py`` times it beside the others).

Both run the same arithmetic up to the order of a few sums (float64 results agree to rounding).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from autodiff.core.network import activation_fn


class NetworksFirst:
    """K leading; products as batched matrix products (``jnp.einsum``)."""

    name = "networks-first"

    @staticmethod
    def inputs(x1):  # (n_0 + 1, N), shared by every member
        return x1

    @staticmethod
    def targets(y):
        return y

    @staticmethod
    def forward(Wb, a):  # (K, o, i+1) x (K, i+1, N) -> (K, o, N)
        return jnp.einsum("koi,in->kon" if a.ndim == 2 else "koi,kin->kon", Wb, a)

    @staticmethod
    def gradient(delta, a):  # (K, o, N) x (K, i+1, N) -> (K, o, i+1)
        return jnp.einsum("kon,in->koi" if a.ndim == 2 else "kon,kin->koi", delta, a)

    @staticmethod
    def backward(Wb, delta):  # W_lᵀ delta_l without the bias column: (K, i, N)
        # Wᵀ made explicitly (a small copy, kept by the barrier from being folded back into
        # the product) so the product is a plain batched one, which XLA's CPU backend gives
        # its matrix library; contracted over W's rows, it runs a generic loop 10x slower.
        W_T = jax.lax.optimization_barrier(jnp.swapaxes(Wb[:, :, :-1], 1, 2))
        return jnp.einsum("kio,kon->kin", W_T, delta)

    @staticmethod
    def with_ones(z):
        return jnp.pad(z, ((0, 0), (0, 1), (0, 0)), constant_values=jnp.inf)

    @staticmethod
    def units(a):  # an activation without its row of ones
        return a[:, :-1]

    @staticmethod
    def cost(residual):
        return jnp.sum(residual * residual, axis=(1, 2))

    @staticmethod
    def step_factors(factors, l, Wb):  # factors (K, 2L) -> (K, 1, i+1)
        is_weight = jnp.arange(Wb.shape[2]) < Wb.shape[2] - 1
        return jnp.where(is_weight, factors[:, 2 * l, None, None],
                         factors[:, 2 * l + 1, None, None])

    @staticmethod
    def from_stacked(Wb):  # the K-leading (K, o, i+1) of the state
        return Wb

    to_stacked = from_stacked

    @staticmethod
    def factor_rows(rows):  # (chunk, K, 2L) as each step takes them
        return rows


class NetworksLast:
    """K trailing; products as broadcast-multiply-sums that fuse into loops."""

    name = "networks-last"

    @staticmethod
    def inputs(x1):
        return x1[:, :, None]

    @staticmethod
    def targets(y):
        return y[:, :, None]

    @staticmethod
    def forward(Wb, a):  # (o, i+1, K) x (i+1, N, K or 1) -> (o, N, K)
        return jnp.sum(Wb[:, :, None, :] * a[None], axis=1)

    @staticmethod
    def gradient(delta, a):  # (o, N, K) x (i+1, N, K or 1) -> (o, i+1, K)
        return jnp.sum(delta[:, None] * a[None], axis=2)

    @staticmethod
    def backward(Wb, delta):  # (i, N, K)
        return jnp.sum(Wb[:, :-1, None, :] * delta[:, None], axis=0)

    @staticmethod
    def with_ones(z):
        return jnp.pad(z, ((0, 1), (0, 0), (0, 0)), constant_values=jnp.inf)

    @staticmethod
    def units(a):
        return a[:-1]

    @staticmethod
    def cost(residual):
        return jnp.sum(residual * residual, axis=(0, 1))

    @staticmethod
    def step_factors(factors, l, Wb):  # factors (2L, K) -> (1, i+1, K)
        is_weight = jnp.arange(Wb.shape[1]) < Wb.shape[1] - 1
        return jnp.where(is_weight[:, None], factors[2 * l], factors[2 * l + 1])

    @staticmethod
    def from_stacked(Wb):
        return jnp.moveaxis(Wb, 0, -1)

    @staticmethod
    def to_stacked(Wb):
        return jnp.moveaxis(Wb, -1, 0)

    @staticmethod
    def factor_rows(rows):  # (chunk, K, 2L) -> (chunk, 2L, K)
        return jnp.swapaxes(rows, 1, 2)


class Unrolled(NetworksLast):
    """K trailing like ``NetworksLast``, but the sums over the few units are written out in
    Python (``z_j = b_j + Σ_i W[j, i]·a_i``, each term a ``(N, K)`` array), so the forward and
    backward passes are elementwise loops only, and activations carry no row of ones (no
    ``+inf`` pad): the bias is added and its gradient summed on its own. Only the gradients'
    sums over the N examples are reductions."""

    name = "unrolled"

    @staticmethod
    def inputs(x1):  # without x1's row of ones
        return x1[:-1, :, None]

    @staticmethod
    def forward(Wb, a):  # (o, i+1, K) x (i, N, K or 1) -> (o, N, K)
        return jnp.stack([sum((Wb[j, i] * a[i] for i in range(a.shape[0])), Wb[j, -1])
                          for j in range(Wb.shape[0])])

    @staticmethod
    def gradient(delta, a):  # (o, N, K) x (i, N, K or 1) -> (o, i+1, K)
        return jnp.concatenate([jnp.sum(delta[:, None] * a[None], axis=2),
                                jnp.sum(delta, axis=1)[:, None]], axis=1)

    @staticmethod
    def backward(Wb, delta):  # (i, N, K)
        return jnp.stack([sum((Wb[j, i] * delta[j] for j in range(1, Wb.shape[0])),
                              Wb[0, i] * delta[0]) for i in range(Wb.shape[1] - 1)])

    @staticmethod
    def with_ones(z):  # the bias is added in forward: no row of ones
        return z

    @staticmethod
    def units(a):
        return a


LAYOUTS = {layout.name: layout for layout in (NetworksFirst, NetworksLast, Unrolled)}


def default_layout(platform: str) -> str:
    """``networks-last`` on a GPU, ``networks-first`` elsewhere."""
    return NetworksLast.name if platform == "gpu" else NetworksFirst.name


def ensemble_step(Wbs, factors, x1, y, activation: str, layout):
    """One step of every member. ``Wbs`` and ``factors`` (``-aggression·(1 + noise·randn)·2/N``
    per member and block) are in ``layout``'s shapes; ``x1 = [x; 1]`` ``(n_0 + 1, N)`` and
    ``y`` ``(n_L, N)`` are shared. Returns ``(new_Wbs, costs (K,) before the step)``."""
    activation_fn(activation)  # a clear error for an unknown name
    logistic = activation == "logistic"
    # σ(z) = (1 + tanh(z/2)) / 2: the same function to rounding, and on XLA's CPU backend
    # 1.4x faster than 1 / (1 + e^-z), whose division dominates (K = 1024: 0.34 against
    # 0.49 ms per activation of 8 x 100 units).
    f = (lambda z: 0.5 + 0.5 * jnp.tanh(0.5 * z)) if logistic else jnp.tanh

    def slope(a):  # f' from f's output
        return a * (1 - a) if logistic else 1 - a * a

    depth = len(Wbs)
    activations = [layout.inputs(x1)]
    for l, Wb in enumerate(Wbs):
        z = layout.forward(Wb, activations[-1])
        activations.append(f(layout.with_ones(z) if l < depth - 1 else z))
    residual = activations[-1] - layout.targets(y)
    costs = layout.cost(residual) / x1.shape[1]

    delta = residual * slope(activations[-1])
    new_Wbs = [None] * depth
    for l in reversed(range(depth)):
        Wb, a = Wbs[l], activations[l]
        grad = layout.gradient(delta, a)
        if l > 0:  # with the old W_l, before its step
            delta = layout.backward(Wb, delta) * slope(layout.units(a))
        new_Wbs[l] = Wb + layout.step_factors(factors, l, Wb) * grad
    return new_Wbs, costs
