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
    """The cost became NaN or infinite; ``iteration`` (0-based) is the first such iteration.
    The message names the step, ``aggression·(1 + noise·randn)``, with both of its knobs."""

    def __init__(self, iteration: int, aggression: float, noise: float):
        self.iteration = iteration
        super().__init__(
            f"training diverged: the cost became NaN/inf at iteration {iteration} (the steps "
            f"aggression·(1 + noise·randn), with aggression {aggression:g} and noise "
            f"{noise:g}, are probably too large)"
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
            raise TrainingDiverged(done + bad, aggression, noise)
        done += count
        if callback is not None:
            callback(done, params, float(costs[done - 1]))
    # The last step can overflow without any cost having seen it yet.
    if not all(np.all(np.isfinite(p)) for layer in params for p in layer):
        raise TrainingDiverged(iterations, aggression, noise)
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
    """Fused hand-derived backprop: one forward and one backward pass per iteration, in about
    30 NumPy calls into buffers allocated once. Any depth and width; ``params`` is copied,
    never modified. Bit for bit the textbook step (``tests/training/test_training_numpy.py``)."""
    get_activation(activation)  # a clear error before any work
    params = [(W.astype(np.float64), b.astype(np.float64)) for W, b in check_params(params)]
    x, y = check_batch(params, x, y)
    check_hyperparameters(iterations, aggression, noise, chunk)
    rng = np.random.default_rng(rng)
    step = _FusedStep(params, x, y, activation, -aggression * 2.0 / x.shape[1])

    def step_chunk(factors, costs_out):
        step.run(factors, costs_out)
        params[:] = step.params()

    with np.errstate(over="ignore", invalid="ignore"):
        return _run_chunks(step_chunk, params, x, y, iterations, aggression, noise, rng, chunk,
                           callback, activation)


class _FusedStep:
    """The noisy step on bias-augmented weights ``[W | b]`` acting on ``[a; 1]`` (one dot
    gives ``z = W a + b``, one dot gives ``[dC/dW | dC/db] = delta [a; 1]ᵀ``), with every
    weight and every gradient in one flat buffer each, so that the update is two calls.

    Why each trick keeps the result bit for bit: for the logistic the buffer holds ``-[W | b]``,
    so the dot gives ``-z`` and ``exp(-z)`` needs no negation; negation is exact in IEEE
    arithmetic, so every sign it flips (the deltas alternate, the step factors follow) is
    undone exactly. The factors ``scale·(1 + noise·randn)`` (the 2/N of dC/da_L is in
    ``scale``) are spread to one per parameter for a block of rows at a time.
    """

    def __init__(self, params: Params, x: np.ndarray, y: np.ndarray, activation: str,
                 scale: float):
        n = x.shape[1]
        self.logistic = activation == "logistic"
        sign = -1.0 if self.logistic else 1.0
        shapes = [(W.shape[0], W.shape[1] + 1) for W, _ in params]
        sizes = [rows * cols for rows, cols in shapes]
        ends = np.cumsum(sizes)
        self.flat = np.concatenate([sign * np.concatenate([W, b], axis=1).reshape(-1)
                                    for W, b in params])
        self.grad = np.empty_like(self.flat)
        self.Wb = [self.flat[e - s:e].reshape(shape)
                   for e, s, shape in zip(ends, sizes, shapes, strict=True)]
        grads = [self.grad[e - s:e].reshape(shape)
                 for e, s, shape in zip(ends, sizes, shapes, strict=True)]
        # Which factor each parameter takes (2l: weights, 2l+1: bias) and with what sign: the
        # delta of layer l carries sign^(L-1-l), the stored weights sign, so the factor
        # needs sign^(L-l) for sign·W + factor·grad to equal sign·(W + F·grad) exactly.
        depth = len(params)
        block = np.concatenate([np.where(np.arange(rows * cols) % cols == cols - 1,
                                         2 * l + 1, 2 * l)
                                for l, (rows, cols) in enumerate(shapes)])
        flips = np.concatenate([np.full(s, sign ** (depth - l)) for l, s in enumerate(sizes)])
        self.block, self.flips, self.scale = block, flips, scale
        self.rows_per_block = max(1, 2**20 // self.flat.size)  # the factor table's memory

        a = [np.ones((cols, n)) for _, cols in shapes] + [np.empty((shapes[-1][0], n))]
        a[0][:-1] = x
        units = [a_l[:-1] for a_l in a[1:-1]] + [a[-1]]  # layer l's output, without the 1s
        slope = [np.empty(u.shape) for u in units]
        delta = [np.empty(u.shape) for u in units]
        self.shapes, self.y, self.n = shapes, np.ascontiguousarray(y, dtype=np.float64), n
        self.units, self.slope, self.delta = units, slope, delta
        self.residual = delta[-1].reshape(-1)
        self.forward = list(zip(self.Wb, a[:-1], units, slope, strict=True))
        backward = [(grads[l], delta[l], a[l].T,
                     self.Wb[l][:, :-1].T if l else None,  # views follow the updates
                     delta[l - 1] if l else None, slope[l - 1] if l else None)
                    for l in range(depth)]
        self.backward = backward[::-1]

    def factor_rows(self, factors: np.ndarray) -> np.ndarray:
        """``(rows, P)`` per-parameter factors for a block of noise rows ``(rows, 2L)``."""
        return (self.scale * factors)[:, self.block] * self.flips

    def run(self, factors: np.ndarray, costs_out: np.ndarray) -> None:
        """Step once per row of ``factors`` ``(count, 2L)``, writing the cost before each step."""
        dot, multiply, subtract, add = np.dot, np.multiply, np.subtract, np.add
        exp, reciprocal, tanh = np.exp, np.reciprocal, np.tanh
        logistic, forward, backward = self.logistic, self.forward, self.backward
        units, slope, delta, residual, y = self.units, self.slope, self.delta, self.residual, self.y
        flat, grad = self.flat, self.grad
        for first in range(0, len(factors), self.rows_per_block):
            table = self.factor_rows(factors[first:first + self.rows_per_block])
            for i, row in enumerate(table, start=first):
                for Wb, a, out, s in forward:
                    dot(Wb, a, out)
                    if logistic:  # σ(z) = 1 / (1 + e^-z), the dot gave -z; e^-z may be inf
                        exp(out, out)
                        add(out, 1.0, out)
                        reciprocal(out, out)
                        multiply(out, out, s)  # σ' = σ - σ²
                        subtract(out, s, s)
                    else:
                        tanh(out, out)
                        multiply(out, out, s)  # tanh' = 1 - tanh²
                        subtract(1.0, s, s)
                subtract(units[-1], y, delta[-1])
                costs_out[i] = dot(residual, residual)
                multiply(delta[-1], slope[-1], delta[-1])  # without its 2/N: see scale
                for g, d, a_T, W_T, d_prev, s_prev in backward:
                    dot(d, a_T, g)
                    if W_T is not None:  # the weights before this step's update
                        dot(W_T, d, d_prev)
                        multiply(d_prev, s_prev, d_prev)
                multiply(grad, row, grad)
                add(flat, grad, flat)
        costs_out /= self.n

    def params(self) -> Params:
        """The current ``[(W, b), …]``, copied out of the flat buffer."""
        sign = -1.0 if self.logistic else 1.0
        return [(sign * Wb[:, :-1], sign * Wb[:, -1:]) for Wb in self.Wb]


def train_fresh(engine: Callable[..., TrainResult], sizes, iterations: int,
                aggression: float, noise: float, seed: int, x: np.ndarray, y: np.ndarray,
                callback: Callback | None = None, **options) -> TrainResult:
    """Run ``engine`` (``train_seed``, ``train_numpy`` or the jax engine, same contract) on a
    fresh ``sizes`` network: ``rng = default_rng(seed)`` draws it and then the noise, as the
    module docstring tells, so every engine starts from the same network and noise."""
    from reference.backprop import init_params

    rng = np.random.default_rng(seed)
    params = init_params(list(sizes), rng)
    return engine(params, x, y, iterations, aggression, noise, rng=rng, callback=callback,
                  **options)
