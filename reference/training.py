"""The worksheet's noisy steepest descent, in two NumPy engines that share one algorithm.

Each iteration computes the gradient of every parameter block, multiplies each block's
gradient by its own scalar factor ``1 + noise * randn()`` and steps the block by
``-aggression * factor * gradient``.

The RNG story, shared with ``autodiff.training.engine``: a run is driven by one
``np.random.Generator``. With ``rng = np.random.default_rng(seed)`` the initial network is
``init_params(sizes, rng)`` and, after it, the noise is drawn from the same generator as a
``(iterations, 2L)`` table of standard normals, row ``i`` for iteration ``i`` and columns in
params order ``W1, b1, W2, b2, …``. NumPy fills such tables sequentially, so drawing them a
chunk at a time gives the same numbers for every chunk size. The same seed therefore gives
the same run, and the ``seed``, ``numpy`` and (single-network) ``jax`` engines follow the same
trajectory up to floating-point rounding.

``costs[j]`` is the cost of the network that iteration ``cost_iterations[j]`` starts from:
every iteration here; the jax engine, by default, records only the end of each chunk. A run
whose cost turns NaN/inf raises ``TrainingDiverged`` naming the first such iteration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reference import worksheet
from reference.activations import get_activation
from reference.backprop import cost as reference_cost
from reference.validation import Params, check_batch, check_params

# callback(iterations_done, params, cost) runs between chunks, never inside the hot loop.
Callback = Callable[[int, Params, float], None]


class TrainingDiverged(RuntimeError):
    """The cost became NaN or infinite; ``iteration`` (0-based) is the first such iteration."""

    def __init__(self, iteration: int, aggression: float):
        self.iteration = iteration
        super().__init__(
            f"training diverged: the cost became NaN/inf at iteration {iteration} "
            f"(aggression {aggression} is probably too large)"
        )


@dataclass
class TrainResult:
    """A finished run: final ``params``; ``costs[j]``, the cost of the network that iteration
    ``cost_iterations[j]`` starts from (both 1-D, equal length); ``final_cost``, the cost of
    the final params."""

    params: Params
    costs: np.ndarray
    final_cost: float
    cost_iterations: np.ndarray


def noise_factors(rng: np.random.Generator, count: int, n_blocks: int, noise: float) -> np.ndarray:
    """``1 + noise * randn`` for ``count`` iterations: shape ``(count, n_blocks)``, float64."""
    return 1.0 + noise * rng.standard_normal((count, n_blocks))


def check_hyperparameters(iterations: int, aggression: float, noise: float, chunk: int) -> None:
    """Reject a non-integer or negative iteration count, a non-positive chunk, or a
    non-finite aggression/noise, naming the argument."""
    for name, value in (("iterations", iterations), ("chunk", chunk)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    if chunk == 0:
        raise ValueError("chunk: expected a positive integer, got 0")
    for name, value in (("aggression", aggression), ("noise", noise)):
        if not isinstance(value, (int, float, np.floating, np.integer)) or not np.isfinite(value):
            raise ValueError(f"{name}: expected a finite number, got {value!r}")


def first_nonfinite(costs: np.ndarray) -> int | None:
    """Index of the first NaN/inf in ``costs``, or None when every entry is finite."""
    bad = np.flatnonzero(~np.isfinite(costs))
    return int(bad[0]) if bad.size else None


def _run_chunks(step_chunk, params, x, y, iterations, aggression, noise, rng, chunk, callback,
                activation="logistic") -> TrainResult:
    """Drive ``step_chunk(factors, costs_out)`` chunk by chunk; check divergence between chunks."""
    costs = np.empty(iterations)
    done = 0
    while done < iterations:
        count = min(chunk, iterations - done)
        factors = noise_factors(rng, count, 2 * len(params), noise)
        step_chunk(factors, costs[done:done + count])
        bad = first_nonfinite(costs[done:done + count])
        if bad is not None:
            raise TrainingDiverged(done + bad, aggression)
        done += count
        if callback is not None:
            callback(done, params, float(costs[done - 1]))
    # The last step can overflow without any cost having seen it yet.
    if not all(np.all(np.isfinite(p)) for layer in params for p in layer):
        raise TrainingDiverged(iterations, aggression)
    final = reference_cost(params, x, y, activation)
    return TrainResult(params=params, costs=costs, final_cost=final,
                       cost_iterations=np.arange(iterations))


def train_seed(params: Params, x: np.ndarray, y: np.ndarray, iterations: int,
               aggression: float = 7.0, noise: float = 1.0,
               rng: np.random.Generator | None = None, chunk: int = 1000,
               callback: Callback | None = None) -> TrainResult:
    """The baseline: the worksheet's loop over its six ``J_*``, each re-running the forward
    pass, on the globals of ``reference.worksheet`` (restored afterwards). 1-n1-n2-2 logistic
    networks only, as in the worksheet; ``params`` is copied, never modified."""
    params = [(W.astype(np.float64), b.astype(np.float64)) for W, b in check_params(params)]
    x, y = check_batch(params, x, y)
    shapes = [W.shape for W, _ in params]
    if len(params) != 3 or shapes[0][1] != 1 or shapes[2][0] != 2:
        raise ValueError(
            f"params: the seed engine runs the worksheet's 1-n1-n2-2 network, got layer shapes "
            f"{shapes}; use the numpy or jax engine for other sizes"
        )
    check_hyperparameters(iterations, aggression, noise, chunk)
    rng = np.random.default_rng(rng)
    jacobians = (worksheet.J_W1, worksheet.J_b1, worksheet.J_W2, worksheet.J_b2,
                 worksheet.J_W3, worksheet.J_b3)
    saved = worksheet.get_params()

    def step_chunk(factors, costs_out):
        for i, row in enumerate(factors):
            costs_out[i] = worksheet.cost(x, y)
            steps = [J(x, y) for J in jacobians]
            (W1, b1), (W2, b2), (W3, b3) = worksheet.get_params()
            blocks = [W1, b1, W2, b2, W3, b3]
            worksheet.set_params(_pairs([p - aggression * f * J
                                         for p, f, J in zip(blocks, row, steps, strict=True)]))
        params[:] = worksheet.get_params()

    worksheet.set_params(params)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return _run_chunks(step_chunk, params, x, y, iterations, aggression, noise, rng,
                               chunk, callback)
    finally:
        worksheet.set_params(saved)


def _pairs(blocks: list[np.ndarray]) -> Params:
    return [(blocks[i], blocks[i + 1]) for i in range(0, len(blocks), 2)]


def train_numpy(params: Params, x: np.ndarray, y: np.ndarray, iterations: int,
                aggression: float = 7.0, noise: float = 1.0,
                rng: np.random.Generator | None = None, activation: str = "logistic",
                chunk: int = 1000, callback: Callback | None = None) -> TrainResult:
    """Fused hand-derived backprop: one forward and one backward pass per iteration, into
    buffers allocated once. Any depth and width; ``params`` is copied, never modified."""
    get_activation(activation)  # a clear error before any work
    params = [(W.astype(np.float64), b.astype(np.float64)) for W, b in check_params(params)]
    x, y = check_batch(params, x, y)
    check_hyperparameters(iterations, aggression, noise, chunk)
    rng = np.random.default_rng(rng)
    n_examples = x.shape[1]
    # Bias folded into the weights: Wb = [W | b] acting on a = [a; 1], so that one dot gives
    # z = W a + b and one dot gives [dC/dW | dC/db] = delta [a; 1]ᵀ (no separate bias sum).
    Wb = [np.concatenate([W, b], axis=1) for W, b in params]
    a = [np.ones((W.shape[1], n_examples)) for W in Wb] + [np.empty((Wb[-1].shape[0],
                                                                           n_examples))]
    a[0][:-1] = x
    units = [a_l[:-1] for a_l in a[1:-1]] + [a[-1]]  # layer l+1's output, a view without the 1s
    a_T = [a_l.T for a_l in a[:-1]]
    W_T = [W[:, :-1].T for W in Wb]  # views: they follow the in-place updates of Wb
    delta = [np.empty(u.shape) for u in units]
    slope = [np.empty(u.shape) for u in units]
    grad = [np.empty_like(W) for W in Wb]
    grad_W = [g[:, :-1] for g in grad]
    grad_b = [g[:, -1:] for g in grad]
    residual = delta[-1].reshape(-1)
    y = np.ascontiguousarray(y, dtype=np.float64)
    logistic = activation == "logistic"
    layers = range(len(Wb))
    backward = range(len(Wb) - 1, -1, -1)
    scale = -aggression * 2.0 / n_examples  # the 2/N of dC/da_L folded into the step

    def step_chunk(factors, costs_out):
        for i, row in enumerate(factors):
            for l in layers:
                out, s = units[l], slope[l]
                np.dot(Wb[l], a[l], out=out)
                if logistic:  # σ(z) = 1 / (1 + e^-z); e^-z may overflow to inf, giving σ = 0
                    np.negative(out, out=out)
                    np.exp(out, out=out)
                    out += 1.0
                    np.reciprocal(out, out=out)
                    np.multiply(out, out, out=s)  # σ' = σ - σ²
                    np.subtract(out, s, out=s)
                else:
                    np.tanh(out, out=out)
                    np.multiply(out, out, out=s)  # tanh' = 1 - tanh²
                    np.subtract(1.0, s, out=s)
            np.subtract(units[-1], y, out=delta[-1])
            costs_out[i] = np.dot(residual, residual) / n_examples
            delta[-1] *= slope[-1]  # delta_L without its 2/N, which `scale` carries
            for l in backward:
                np.dot(delta[l], a_T[l], out=grad[l])
                if l > 0:  # W_l is still needed here; it is stepped just below
                    np.dot(W_T[l], delta[l], out=delta[l - 1])
                    delta[l - 1] *= slope[l - 1]
                grad_W[l] *= scale * row[2 * l]
                grad_b[l] *= scale * row[2 * l + 1]
                Wb[l] += grad[l]
        for l, W in enumerate(Wb):
            params[l] = (W[:, :-1].copy(), W[:, -1:].copy())

    with np.errstate(over="ignore", invalid="ignore"):
        return _run_chunks(step_chunk, params, x, y, iterations, aggression, noise, rng, chunk,
                           callback, activation)
