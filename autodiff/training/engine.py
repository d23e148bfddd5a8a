"""The ``jax`` training engine: the worksheet's noisy descent compiled with ``jit`` + ``lax.scan``.

Same algorithm and RNG story as ``reference.training`` (read its docstring): the noise table is
drawn on the host from the run's ``np.random.Generator``, a chunk at a time, so one seed gives
the same run as the ``numpy`` engine up to floating-point rounding.

On a CPU a step of this tiny network costs what its number of compiled kernels costs (about
0.3 µs each), not its flops, so the step is written to need few of them: a hand-fused backward
pass in ``jnp`` on bias-augmented weights ``[W | b]``, ``σ'`` taken from the kept activations,
the step factors ``-aggression·(1 + noise·randn)·2/N`` pre-multiplied on the host, one scan
per chunk (no host round trip per step), an unrolled scan, float32 by default, and a short last
chunk padded with zero factors (a zero step) so a run compiles one shape. ``W a`` and
``Wᵀ delta`` are broadcast-multiply-sums over the few units, not dots, and on CPU the chunk is
compiled with ``CPU_OPTIONS`` (only dots go to the YNNPACK library): each such sum then fuses
with the activation it feeds, or with the ``f'`` it is multiplied by, into one XLA loop. The
gradients ``delta [a; 1]ᵀ``, sums over the N examples, stay dots. A step is 11 kernels (5 loops,
3 dots, 3 updates), down from 15; on the 2-core CPU, 1-6-7-2 on the heart (N=100), float32:
4.0 µs per iteration against 6.1 µs before, and 3.2-3.3 µs with 512-bit vectors (about 70x
the seed engine in ``backprop bench``; why not faster: ``bench_report.JAX_NOTE``). By default
the cost is computed once per chunk, after the scan; when it is not finite the chunk is
replayed from its start with the cost of every step recorded, to name the first iteration that
diverged. ``record_costs=True`` records every step throughout.
The progress callback runs between chunks, never inside the compiled loop.

float64 runs inside a scoped ``jax.enable_x64(True)``; nothing is switched on globally.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from autodiff.core.network import activation_fn
from reference.backprop import cost as reference_cost
from reference.training import (
    Callback,
    TrainingDiverged,
    TrainResult,
    check_hyperparameters,
    first_nonfinite,
    noise_factors,
)
from reference.validation import Params, check_batch, check_params

DTYPES = ("float32", "float64")


def step(Wbs, scaled_factors, x1, y, activation: str = "logistic", record_cost: bool = True):
    """One noisy descent step on bias-augmented weights ``Wbs[l] = [W_l | b_l]`` (shape
    ``(n_out, n_in + 1)``) with ``x1 = [x; 1]``; ``scaled_factors`` (shape ``(2L,)``) already
    hold ``-aggression·(1 + noise·randn)·2/N``. Returns ``(new_Wbs, cost_before_the_step)``
    (the cost is None unless ``record_cost``).

    Hidden activations carry a row of ones. Backward mirrors ``reference.backprop.gradients``
    with the 2/N moved into the factors: ``delta_L = (a_L - y) f'(a_L)``,
    ``grad_l = delta_l [a_{l-1}; 1]ᵀ``, ``delta_{l-1} = (W_lᵀ delta_l) f'(a_{l-1})``.
    """
    f = activation_fn(activation)
    logistic = activation == "logistic"

    def slope(a):  # f' written in terms of f's output, which forward already keeps
        return a * (1 - a) if logistic else 1 - a * a

    activations = [x1]
    for l, Wb in enumerate(Wbs):
        # W a as a broadcast-multiply-sum over the few input units: one XLA loop together
        # with the padding and f below, where a dot would be a kernel of its own.
        z = jnp.sum(Wb[:, :, None] * activations[-1][None], axis=1)
        if l < len(Wbs) - 1:
            # The row of ones as f(+inf) = 1: padding z fuses into f's loop, a concat does not.
            z = jnp.pad(z, ((0, 1), (0, 0)), constant_values=jnp.inf)
        activations.append(f(z))
    residual = activations[-1] - y
    cost = jnp.sum(residual * residual) / x1.shape[1] if record_cost else None

    delta = residual * slope(activations[-1])
    new_Wbs = [None] * len(Wbs)
    for l in reversed(range(len(Wbs))):
        Wb, a = Wbs[l], activations[l]
        grad = delta @ a.T  # a sum over the N examples: a dot (see CPU_OPTIONS)
        if l > 0:  # the old W_l, before its step, without its bias column; fuses like W a
            delta = jnp.sum(Wb[:, :-1, None] * delta[:, None], axis=0) * slope(a[:-1])
        is_weight = jnp.arange(Wb.shape[1]) < Wb.shape[1] - 1
        new_Wbs[l] = Wb + jnp.where(is_weight, scaled_factors[2 * l],
                                    scaled_factors[2 * l + 1]) * grad
    return new_Wbs, cost


def augment(params) -> list:
    """``[(W, b), …]`` to ``[[W | b], …]``."""
    return [jnp.concatenate([W, b], axis=1) for W, b in params]


def split(Wbs) -> list:
    """``[[W | b], …]`` back to ``[(W, b), …]``."""
    return [(Wb[:, :-1], Wb[:, -1:]) for Wb in Wbs]


def with_ones(x):
    """``[x; 1]``: inputs with the row of ones that the bias column multiplies."""
    return jnp.concatenate([x, jnp.ones((1, x.shape[1]), x.dtype)], axis=0)


def augmented_cost(Wbs, x1, y, activation: str = "logistic"):
    """``||a_L - y||² / N`` of augmented weights, as ``step`` computes it."""
    return step(Wbs, jnp.zeros(2 * len(Wbs), x1.dtype), x1, y, activation)[1]


# XLA's CPU backend hands dots and, by default, reductions too to the YNNPACK library, one
# library call (kernel) each. Handing it only the dots keeps step's broadcast-multiply-sums in
# XLA's own loops, fused with the activations around them: 11 kernels a step instead of 15.
# Those loops run over the N examples; with 512-bit vectors where the CPU has them the step
# takes 3.3 µs instead of 3.8-3.9 (1-6-7-2, N=100, float32, measured side by side).
CPU_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_DOT",
               "xla_cpu_prefer_vector_width": 512}


def _run_chunk(params, scaled_factors, x, y, activation: str = "logistic", unroll: int = 4,
               record_costs: bool = False):
    """Scan ``step`` over the rows of ``scaled_factors`` (``(chunk, 2L)``). Returns the final
    params, the ``(chunk,)`` costs before each step (None unless ``record_costs``) and the
    cost of the final params."""
    x1 = with_ones(x)

    def body(Wbs, row):
        return step(Wbs, row, x1, y, activation, record_costs)

    Wbs, costs = jax.lax.scan(body, augment(params), scaled_factors, unroll=unroll)
    return split(Wbs), costs, augmented_cost(Wbs, x1, y, activation)


_STATIC = ("activation", "unroll", "record_costs")
run_chunk = jax.jit(_run_chunk, static_argnames=_STATIC)
# The same for CPU devices only: the option names a CPU backend setting.
run_chunk_cpu = jax.jit(_run_chunk, static_argnames=_STATIC, compiler_options=CPU_OPTIONS)


@functools.cache
def compiler_accepts(options: tuple[tuple[str, str | int], ...]) -> bool:
    """Whether this XLA knows these CPU compile options. CPU_OPTIONS names an experimental
    setting that another jaxlib may not have; without it the engine is slower, not wrong."""
    try:
        # Lowered for a CPU device even where the default backend is a GPU, which would
        # reject a CPU option and turn the CPU runs of a GPU machine's bench to the slow path.
        probe = jax.device_put(np.float32(0), jax.devices("cpu")[0])
        jax.jit(lambda v: v + 1, compiler_options=dict(options)).lower(probe).compile()
    except Exception as error:  # XLA raises its own runtime error type
        if "compile option" not in str(error):
            raise
        return False
    return True


def chunk_runner(platform: str):
    """The compiled chunk for a device platform: ``run_chunk_cpu`` where its options apply."""
    if platform == "cpu" and compiler_accepts(tuple(CPU_OPTIONS.items())):
        return run_chunk_cpu
    return run_chunk


def resolve_device(device: str) -> jax.Device:
    """The first JAX device of platform ``device`` ("cpu" or "gpu"), or a ValueError."""
    if device not in ("cpu", "gpu"):
        raise ValueError(f"device: expected 'cpu' or 'gpu', got {device!r}")
    try:
        return jax.devices(device)[0]
    except RuntimeError:
        raise ValueError(
            f"device: {device!r} requested but JAX sees none (devices: {jax.devices()})"
        ) from None


def check_dtype(dtype: str) -> str:
    if dtype not in DTYPES:
        raise ValueError(f"dtype: expected one of {DTYPES}, got {dtype!r}")
    return dtype


def train_jax(params: Params, x: np.ndarray, y: np.ndarray, iterations: int,
              aggression: float = 7.0, noise: float = 1.0,
              rng: np.random.Generator | int | None = None, activation: str = "logistic",
              dtype: str = "float32", device: str = "cpu", chunk: int = 2000,
              unroll: int = 4, record_costs: bool = False,
              callback: Callback | None = None) -> TrainResult:
    """Train with the compiled engine; same contract and ``TrainResult`` as
    ``reference.training.train_numpy`` (params come back as float64 NumPy arrays, and
    ``final_cost`` is the float64 NumPy cost of them). Without ``record_costs`` the costs are
    those at the end of each chunk."""
    activation_fn(activation)  # a clear error before any work
    params = check_params(params)
    x, y = check_batch(params, x, y)
    check_hyperparameters(iterations, aggression, noise, chunk)
    check_dtype(dtype)
    rng = np.random.default_rng(rng)
    target = resolve_device(device)
    chunk = max(1, min(chunk, iterations))
    scale = -aggression * 2.0 / x.shape[1]
    costs, cost_iterations = [], []

    with jax.enable_x64(dtype == "float64"):
        def put(array):
            with np.errstate(over="ignore"):  # a huge step is inf in float32: it diverges
                return jax.device_put(np.asarray(array, dtype=dtype), target)

        compiled = chunk_runner(target.platform)

        def run(state, table, record):
            return compiled(state, table, x_dev, y_dev, activation=activation, unroll=unroll,
                            record_costs=record)

        state = [(put(W), put(b)) for W, b in params]
        x_dev, y_dev = put(x), put(y)
        done = 0
        while done < iterations:
            count = min(chunk, iterations - done)
            table = np.zeros((chunk, 2 * len(params)))  # zero rows: a no-op step, same shape
            with np.errstate(over="ignore"):  # a huge aggression may overflow: it diverges
                table[:count] = scale * noise_factors(rng, count, 2 * len(params), noise)
            table = put(table)
            new_state, step_costs, end_cost = run(state, table, record_costs)
            if record_costs:
                costs.extend(np.asarray(step_costs)[:count])
                cost_iterations.extend(range(done, done + count))
            if not np.isfinite(end_cost) or (record_costs and
                                             first_nonfinite(costs[-count:]) is not None):
                replayed = np.asarray(run(state, table, True)[1])[:count]
                bad = first_nonfinite(replayed)
                raise TrainingDiverged(done + (count if bad is None else bad), aggression,
                                       noise)
            state, done = new_state, done + count
            if not record_costs:
                costs.append(float(end_cost))
                cost_iterations.append(done)
            if callback is not None:
                callback(done, to_numpy(state), float(end_cost))
        final = to_numpy(state)

    if not all(np.all(np.isfinite(p)) for layer in final for p in layer):
        raise TrainingDiverged(iterations, aggression, noise)
    return TrainResult(params=final, costs=np.array(costs),
                       final_cost=reference_cost(final, x, y, activation),
                       cost_iterations=np.array(cost_iterations, dtype=np.int64))


def to_numpy(params) -> Params:
    """Device params as float64 NumPy ``[(W, b), …]``."""
    return [(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64))
            for W, b in params]


ENGINES = ("seed", "numpy", "jax")


def train(engine: str, sizes=(1, 6, 7, 2), iterations: int = 50_000, aggression: float = 7.0,
          noise: float = 1.0, seed: int = 0, x: np.ndarray | None = None,
          y: np.ndarray | None = None, callback: Callback | None = None,
          **options) -> TrainResult:
    """Train a fresh ``sizes`` network with one of ``ENGINES`` on ``x, y`` (default: the
    worksheet's heart, N=100). The network and the noise come from
    ``np.random.default_rng(seed)`` as ``reference.training`` documents; ``options`` go to
    the engine (``activation``, ``chunk``; for jax also ``dtype``, ``device``, ``unroll``)."""
    from reference.heart import training_data
    from reference.training import train_fresh, train_numpy, train_seed

    engines = {"seed": train_seed, "numpy": train_numpy, "jax": train_jax}
    if engine not in engines:
        raise ValueError(f"engine: expected one of {ENGINES}, got {engine!r}")
    if x is None and y is None:
        x, y = training_data(100)
    return train_fresh(engines[engine], sizes, iterations, aggression, noise, seed, x, y,
                       callback, **options)
