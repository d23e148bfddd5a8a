"""``backprop check --random N``: check many random networks cheaply, and measure how cheaply.

Each network gets three opinions, as in ``check_gradients``: the manual gradient (NumPy),
``jax.grad`` through the padded, vmapped, compiled fast path of ``autodiff.check.buckets``, and a
complex-step *directional* derivative per block along a random direction (2L complex forward
passes instead of one per parameter). Manual and ``jax.grad`` must agree element by element,
and both must agree with the third opinion along its direction, all within the rounding
bounds of ``autodiff.core.tolerance``. On request (``naive_sample``, ``check --baseline``) the
rate of this full check is measured side by side with naive eager ``jax.grad`` on a sample of
the same, never-seen shapes: an opt-in, as that costs about as much as the check itself.

Cases are drawn as they are checked (a stream, one chunk per activation pending at a time),
and only the first ``KEPT`` failures are kept in full, so memory does not grow with N.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from autodiff.check import buckets, oracles
from autodiff.check.cases import NetworkCase, random_case
from autodiff.check.crosscheck import default_manual
from autodiff.core.tolerance import error_bounds
from reference.activations import ACTIVATIONS

# Failures reported in full, each located by a full check_gradients (its first wrong layer).
LOCATED = 5
# Failures kept (case and reason) for the report; the rest are only counted.
KEPT = 100
# More networks than this would take days at a few hundred to a few thousand networks/s.
MAX_NETWORKS = 10**8


@dataclass
class SweepResult:
    """What ``run_sweep`` found and how fast: failures keep their reproducible cases."""

    checked: int
    failures: list[tuple[NetworkCase, str]]  # the first KEPT of them
    seconds: float
    compile_seconds: float
    naive_seconds_per_network: float | None
    naive_sample: int
    manual_expr: str | None = None  # Python naming the manual, for reproductions
    # First wrong layer of the first LOCATED failures (full check_gradients on each), by index.
    first_wrong_layers: dict[int, int | None] = field(default_factory=dict)
    failed: int | None = None  # all failures, kept or not (None: as many as kept)

    def __post_init__(self):
        if self.failed is None:
            self.failed = len(self.failures)

    @property
    def passed(self) -> bool:
        return self.failed == 0

    @property
    def rate(self) -> float:
        return self.checked / self.seconds

    @property
    def naive_rate(self) -> float | None:
        return None if not self.naive_seconds_per_network else 1 / self.naive_seconds_per_network

    @property
    def speedup(self) -> float | None:
        return None if self.naive_rate is None else self.rate / self.naive_rate

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "checked": self.checked,
            "failed": self.failed,
            "failures": [{"case": repr(case), "reason": why,
                          "first_wrong_layer": self.first_wrong_layers.get(index),
                          "reproduce": case.reproduction(self.manual_expr)}
                         for index, (case, why) in enumerate(self.failures)],
            "networks_per_second": self.rate,
            "seconds": self.seconds,
            "compile_seconds": self.compile_seconds,
            "naive_eager_networks_per_second": self.naive_rate,
            "naive_sample": self.naive_sample,
            "speedup": self.speedup,
        }

    def report(self) -> str:
        lines = [
            f"{self.checked} random networks checked (manual vs jax.grad elementwise, "
            f"both vs complex step along a random direction per block)",
            f"fast path: {self.rate:,.0f} networks/s ({self.seconds:.2f} s, plus "
            f"{self.compile_seconds:.2f} s compiling once per bucket)",
        ]
        if self.naive_rate is not None:
            lines.append(f"naive eager jax.grad on unseen shapes: {self.naive_rate:.2f} "
                         f"networks/s (sample of {self.naive_sample}); speedup "
                         f"{self.speedup:,.0f}x")
        if self.failures:
            lines.append(f"FAIL: {self.failed} networks disagree; first few:")
            for index, (case, why) in enumerate(self.failures[:LOCATED]):
                layer = self.first_wrong_layers.get(index)
                where = f" (first wrong layer: {layer})" if layer is not None else ""
                lines.append(f"  {why}{where}\n    reproduce: "
                             f"{case.reproduction(self.manual_expr)}")
        else:
            lines.append("PASS: every network agrees")
        return "\n".join(lines)


def check_one(case: NetworkCase, params, x, y, manual_grads, jax_grads,
              rng: np.random.Generator, oracle: bool = True) -> str | None:
    """Why this network fails, or ``None``; all inputs in the case's layout and dtype.
    ``oracle=False`` skips the complex step (manual versus ``jax.grad`` only)."""
    bounds = error_bounds(params, x, y, case.activation, case.dtype)
    bounds64 = (bounds if bounds.dtype == np.float64
                else error_bounds(params, x, y, case.activation, np.float64))
    directions = [(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params]
    along = (oracles.complex_step_directional(params, x, y, directions, case.activation)
             if oracle else None)
    for layer in range(len(params)):
        for which, kind in enumerate("Wb"):
            name = f"{kind}{layer + 1}"
            manual = np.asarray(manual_grads[layer][which], np.float64)
            jax_value = np.asarray(jax_grads[layer][which], np.float64)
            bound = bounds.grads[layer][which]
            if manual.shape != jax_value.shape:
                return f"{name}: manual has shape {manual.shape}, expected {jax_value.shape}"
            if np.any(np.abs(manual - jax_value) > 2 * bound):
                return f"{name}: manual and jax.grad disagree beyond the rounding bound"
            if along is None:
                continue
            v = directions[layer][which]
            # Dotting with v: the element bounds add up weighted by |v|, and the dot itself
            # rounds by at most (size)·u64·Σ|v·g|.
            slack = (np.sum(np.abs(v) * (bound + bounds64.grads[layer][which]))
                     + v.size * bounds64.unit_roundoff * np.sum(np.abs(v * jax_value)))
            for label, value in (("manual", manual), ("jax.grad", jax_value)):
                if abs(np.sum(v * value) - along[layer][which]) > slack:
                    return f"{name}: {label} and the complex step disagree along a direction"
    return None


def naive_eager_seconds(cases: list[NetworkCase]) -> float:
    """Seconds per network of plain eager ``jax.grad`` (no jit, no padding) on ``cases``."""
    import jax

    from autodiff.core import network

    start = time.perf_counter()
    with jax.enable_x64(True):
        for case in cases:
            params, x, y = case.build()
            grads = jax.grad(network.cost)(params, x, y, case.activation)
            jax.block_until_ready(grads)
    return (time.perf_counter() - start) / len(cases)


def random_cases(n: int, seed=0, activation: str | None = None,
                 dtype: str = "float64") -> Iterator[NetworkCase]:
    """The ``n`` cases of a sweep from ``seed``, drawn one at a time as they are consumed."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield random_case(rng, activation, dtype)


def _chunks(cases: Iterator[NetworkCase], chunk: int) -> Iterator[tuple[str, list[NetworkCase]]]:
    """``(activation, up to chunk cases)`` as soon as an activation has ``chunk`` pending, then
    the remainders: full chunks keep the compiled call busy, and little is held at once."""
    pending: dict[str, list[NetworkCase]] = {}
    for case in cases:
        group = pending.setdefault(case.activation, [])
        group.append(case)
        if len(group) == chunk:
            yield case.activation, pending.pop(case.activation)
    for act in sorted(pending):
        yield act, pending[act]


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: how far it got (``checked`` of ``n`` networks, ``failed``)."""

    def __init__(self, checked: int, n: int, failed: int):
        super().__init__(checked, n, failed)
        self.checked, self.n, self.failed = checked, n, failed

    def __str__(self) -> str:
        return (f"interrupted after {self.checked:,} of {self.n:,} networks "
                f"({self.failed:,} failed)")


def run_sweep(n: int, seed: int = 0, dtype: str = "float64", activation: str | None = None,
              manual_for: Callable[[str], Callable] | None = None, naive_sample: int = 0,
              chunk: int = 128, progress: bool = False,
              manual_expr: str | None = None, oracle: bool = True) -> SweepResult:
    """Check ``n`` random networks (``autodiff.check.cases.random_case``) drawn from ``seed``.

    ``manual_for(activation)`` gives the manual gradient function (default
    ``reference.gradients``). ``naive_sample`` networks are also timed with eager
    ``jax.grad`` (default 0: not). Compile time is measured apart, on a warm-up network.
    ``manual_expr`` is Python for the manual (given ``act``), used in reproductions.
    ``oracle=False`` skips the complex step. ``progress`` shows a tqdm bar on stderr.
    """
    from autodiff.core.progress import progress_bar

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_NETWORKS:
        raise ValueError(f"n: expected a number of networks from 1 to {MAX_NETWORKS:,}, "
                         f"got {n!r}")
    manual_for = manual_for or default_manual
    direction_rng = np.random.default_rng(seed + 1)

    # Warm-up: compile each activation's bucket once, so the rate below is the marginal cost.
    start = time.perf_counter()
    for act in [activation] if activation else list(ACTIVATIONS):
        warm = NetworkCase(sizes=(1, 1), batch=1, activation=act, dtype=dtype)
        buckets.grads_many([warm.build()], act, dtype, chunk=chunk)
    compile_seconds = time.perf_counter() - start

    failures, failed = [], 0
    manuals: dict[str, Callable] = {}
    bar = progress_bar(n, progress, unit="net", leave=False)
    start = time.perf_counter()
    checked = 0
    try:
        for act, part in _chunks(random_cases(n, seed, activation, dtype), chunk):
            if act not in manuals:
                manuals[act] = manual_for(act)
            manual = manuals[act]
            built = [case.build() for case in part]
            jax_grads = buckets.grads_many(built, act, dtype, chunk=chunk)
            for case, (params, x, y), jg in zip(part, built, jax_grads, strict=True):
                try:
                    why = check_one(case, params, x, y, manual(params, x, y), jg,
                                    direction_rng, oracle)
                except (ValueError, TypeError) as error:
                    why = f"manual raised {type(error).__name__}: {error}"
                checked += 1
                if why:
                    failed += 1
                    if len(failures) < KEPT:
                        failures.append((case, why))
            bar.update(len(part))
    except KeyboardInterrupt:
        bar.close()
        raise SweepInterrupted(checked, n, failed) from None
    seconds = time.perf_counter() - start
    bar.close()

    naive = None
    if naive_sample:
        # Fresh cases from another stream: shapes this process has not yet given to jax.grad.
        naive = naive_eager_seconds(list(random_cases(naive_sample, [seed, 2], activation,
                                                      dtype)))
    # Outside the timing: the full check (with jax.vjp deltas) on the first few failures.
    located = {index: case.check(manual=manual_for(case.activation)).first_wrong_layer
               for index, (case, _) in enumerate(failures[:LOCATED])}
    return SweepResult(n, failures, seconds, compile_seconds, naive, naive_sample,
                       manual_expr=manual_expr, first_wrong_layers=located, failed=failed)
