"""How much memory a run will take, at most, and whether the machine has it: asked before
anything is allocated, so that a run too large for the machine is refused in one line
(exit 2) instead of ending in an allocator's out-of-memory error minutes later.

For layer widths ``s_0 … s_L``, ``N`` examples and ``K`` networks, with
``P = Σ s_l (s_{l-1} + 1)`` parameters (weights and biases), ``A = Σ (s_l + 1) N``
activation entries (each layer's ``[a; 1]``) and ``O = Σ s_l (s_{l-1} + 1) N`` entries of the
per-example products ``W a`` and ``Wᵀ delta`` that the compiled steps form before summing
(``autodiff.training.engine.step``; XLA may fuse them away, but need not), the upper bounds in
bytes are

- ``seed``/``numpy`` engines (float64, host): ``8 (8P + 12A)``: the params, their float64
  copy, the gradients, the step's factors per parameter (a row and a sign each) and the
  copies handed to the progress callback; ``a``, ``z``, ``f'``, ``delta`` of every layer and
  NumPy's temporaries between them (8.7A measured at 1-50000-2).
- ``jax`` engine and ensembles (``e`` bytes per entry): ``K e (6P + 8A + 4O)`` where they
  run (the state, the new state, the gradients and the step factors; activations, slopes,
  deltas and their temporaries; forward, gradient and backward products), plus ``8 · 3KP`` on
  the host for the float64 copies of the params fetched between chunks. Measured at
  1-50000-2 (float32, compiling included) a run grew by 0.7 of this; CPU ensembles, whose
  layout XLA fuses, by far less: the bound is loose there, never short.
- the gradient check (float64): ``8 (10P + 24A) + max(32 MiB, 64A)``: five gradient-sized
  sets (manual, ``jax.grad``, third opinion, bounds, a probe's direction) and their inputs,
  the error bounds' per-layer magnitudes, and one stacked complex pass of the third opinion,
  which ``autodiff.check.probes`` keeps within ``CHUNK_BYTES`` (32 MiB) or one direction's
  complex values, tangents and their bounds.

Every run also draws its picture on 400 points (``8 · 4 · 400 · Σ (s_l + 1)``, float64), and
starts from a process whose own footprint (Python, NumPy, JAX: a few hundred MB) is not
counted: the bound is for what grows with the run.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

PICTURE_POINTS = 400
GB = 1e9


@dataclass(frozen=True)
class Estimate:
    """An upper bound on a run's memory: ``host`` bytes in the machine's memory and
    ``device`` bytes on the accelerator (0 when it all runs on the CPU)."""

    host: int
    device: int = 0


def _counts(sizes, batch: int) -> tuple[int, int, int]:
    """``(P, A, O)`` of the module docstring for widths ``sizes`` on ``batch`` examples."""
    params = sum(n_out * (n_in + 1) for n_in, n_out in itertools.pairwise(sizes))
    activations = sum(width + 1 for width in sizes) * batch
    return params, activations, params * batch


def training_estimate(engine: str, sizes, batch: int = 100, members: int = 1,
                      dtype: str = "float32", device: str = "cpu") -> Estimate:
    """The upper bound for training ``members`` networks of ``sizes`` on ``batch`` examples
    with ``engine`` ("seed", "numpy" or "jax"; ensembles are "jax" with ``members`` > 1)."""
    p, a, o = _counts(sizes, batch)
    picture = 8 * 4 * PICTURE_POINTS * sum(width + 1 for width in sizes)
    if engine in ("seed", "numpy"):
        return Estimate(host=8 * (8 * p + 12 * a) + picture)
    entry = 8 if dtype == "float64" else 4
    compiled = members * entry * (6 * p + 8 * a + 4 * o)
    host = 8 * 3 * members * p + picture
    if device == "gpu":
        return Estimate(host=host, device=compiled)
    return Estimate(host=host + compiled)


def check_estimate(sizes, batch: int) -> Estimate:
    """The upper bound for ``check_gradients`` on one network of ``sizes`` and ``batch``."""
    from autodiff.check.probes import CHUNK_BYTES

    p, a, _ = _counts(sizes, batch)
    return Estimate(host=8 * (10 * p + 24 * a) + max(CHUNK_BYTES, 64 * a))


def available_bytes(device: str = "cpu") -> int | None:
    """Memory free for a new allocation: on "cpu" the smaller of the kernel's MemAvailable
    and what this process's cgroup still allows; on "gpu" the first GPU's limit less what is
    in use. None when it cannot be told (the check is then skipped, never guessed)."""
    if device == "gpu":
        try:
            import jax

            stats = jax.devices("gpu")[0].memory_stats() or {}
            return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
        except (RuntimeError, KeyError, IndexError):
            return None
    found = [value for value in (_meminfo_available(), _cgroup_room()) if value is not None]
    return min(found) if found else None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_room() -> int | None:
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as limit:
            text = limit.read().strip()
        if text == "max":
            return None
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as current:
            return int(text) - int(current.read().strip())
    except (OSError, ValueError):
        return None


class TooLarge(ValueError):
    """A run whose memory bound exceeds what the machine has free (the CLI: exit 2)."""


def refuse_if_too_large(estimate: Estimate, what: str, advice: str,
                        device: str = "cpu") -> None:
    """Raise ``TooLarge`` naming ``what`` (the options that size the run), the estimate, the
    memory available and ``advice`` (which options to lower), if the estimate does not fit;
    nothing if it fits or the free memory cannot be told."""
    needs = [(estimate.host, "cpu")] + ([(estimate.device, device)] if estimate.device else [])
    for need, where in needs:
        room = available_bytes(where)
        if room is not None and need > room:
            place = "the GPU has" if where == "gpu" else "this machine has"
            raise TooLarge(f"{what} needs up to {need / GB:,.1f} GB of memory (an upper bound, "
                           f"autodiff.core.memory) but {place} {room / GB:,.1f} GB "
                           f"available; {advice}")
