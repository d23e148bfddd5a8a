"""The ensemble axis sharded over devices, on one host or several, with JAX's own machinery.

``Sharded`` lays a 1-D ``jax.sharding.Mesh`` (axis ``"ensemble"``) over the devices and gives
each device an equal block of members; the data and the shared scalars are replicated.
Members never talk to each other, so the compiled chunk needs no communication, and each
member's noise depends only on its seed (``autodiff.training.ensemble``): a sharded run equals the
single-device run member by member.

Several hosts (or processes): every process runs the same program after
``initialize_from_env()``, which calls ``jax.distributed.initialize`` from

* ``BACKPROP_COORDINATOR``   — ``host:port`` of process 0's coordinator service,
* ``BACKPROP_NUM_PROCESSES`` — how many processes take part,
* ``BACKPROP_PROCESS_ID``    — this process's index, 0 … n-1,
* ``BACKPROP_INIT_TIMEOUT``  — seconds to wait for the others (default 60).

Then ``jax.devices()`` lists every process's devices, each process fills only its own shards
(``jax.make_array_from_callback``) and results are gathered to all processes. The command
``python -m autodiff.training.distributed`` runs a sharded ensemble this way and prints JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from autodiff.core.arguments import count, layer_sizes

ENV_COORDINATOR = "BACKPROP_COORDINATOR"
ENV_NUM_PROCESSES = "BACKPROP_NUM_PROCESSES"
ENV_PROCESS_ID = "BACKPROP_PROCESS_ID"
ENV_TIMEOUT = "BACKPROP_INIT_TIMEOUT"


def _env_int(environ, name: str, default: int | None = None) -> int:
    text = environ.get(name)
    if text is None and default is not None:
        return default
    try:
        return int(text)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected an integer, got {text!r}") from None


def use_every_cpu_core() -> int:
    """Ask JAX for one CPU device per core (``jax_num_cpu_devices``): an ensemble split over
    them with ``Sharded`` then runs a part on every core at once, where one device's program
    spreads over the cores only inside its larger kernels (K = 1024 on 2 cores: 1.3x). JAX
    takes this only before its backends start; afterwards, or where it lacks the option,
    nothing changes. Returns the number of CPU devices."""
    # RuntimeError: the backends are running already; AttributeError: an older JAX
    with contextlib.suppress(RuntimeError, AttributeError):
        jax.config.update("jax_num_cpu_devices", os.cpu_count() or 1)
    return len(jax.devices("cpu"))


def cpu_placement(members: int):
    """``Sharded`` over the CPU devices where there are several and ``members`` splits evenly
    over them, else None (``train_ensemble``'s single device)."""
    cpus = jax.devices("cpu")
    return Sharded(cpus) if len(cpus) > 1 and members % len(cpus) == 0 else None


def initialize_from_env(environ=None) -> bool:
    """Join a multi-process run when ``BACKPROP_COORDINATOR`` is set; return whether it did.
    Must run before anything touches a JAX device."""
    environ = os.environ if environ is None else environ
    coordinator = environ.get(ENV_COORDINATOR)
    if not coordinator:
        return False
    if ":" not in coordinator:
        raise ValueError(f"{ENV_COORDINATOR}: expected host:port, got {coordinator!r}")
    processes = _env_int(environ, ENV_NUM_PROCESSES)
    process_id = _env_int(environ, ENV_PROCESS_ID)
    if processes < 1 or not 0 <= process_id < processes:
        raise ValueError(
            f"{ENV_PROCESS_ID}: expected 0 <= id < {ENV_NUM_PROCESSES} = {processes}, "
            f"got {process_id}")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=processes,
                               process_id=process_id,
                               initialization_timeout=_env_int(environ, ENV_TIMEOUT, 60))
    return True


class Sharded:
    """Placement for ``autodiff.training.ensemble.train_ensemble``: K-leading arrays split over
    ``devices`` (default: every device of every process), everything else replicated."""

    def __init__(self, devices=None):
        self.devices = list(devices if devices is not None else jax.devices())
        self.platform = self.devices[0].platform
        mesh = Mesh(np.array(self.devices), ("ensemble",))
        self.split = NamedSharding(mesh, PartitionSpec("ensemble"))
        self.whole = NamedSharding(mesh, PartitionSpec())

    def shard(self, array: np.ndarray) -> jax.Array:
        if array.shape[0] % len(self.devices):
            raise ValueError(
                f"seeds: {array.shape[0]} members do not split evenly over "
                f"{len(self.devices)} devices; use a multiple of {len(self.devices)}")
        return jax.make_array_from_callback(array.shape, self.split, lambda index: array[index])

    def replicate(self, array: np.ndarray) -> jax.Array:
        return jax.make_array_from_callback(array.shape, self.whole, lambda index: array[index])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autodiff.training.distributed",
        description="Train an ensemble on the heart with its members split over every device "
                    "of every process (BACKPROP_COORDINATOR, BACKPROP_NUM_PROCESSES and "
                    "BACKPROP_PROCESS_ID join processes into one run); print JSON.")
    parser.add_argument("--members", type=count(1, "8"), default=8, metavar="K",
                        help="networks in the ensemble, seeds 0 … K-1; a multiple of the "
                             "number of devices (default 8)")
    parser.add_argument("--iterations", type=count(1, "1,000"), default=1000, metavar="N",
                        help="noisy-descent steps of every member (default 1,000)")
    parser.add_argument("--sizes", type=layer_sizes, default=[1, 6, 7, 2], metavar="N,…",
                        help="layer widths, 1,…,2 for the heart (default 1,6,7,2)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                        help="dtype of the run (default float32)")
    parser.add_argument("--all", action="store_true",
                        help="print from every process, not only from process 0")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a sharded ensemble on the heart (joining a multi-process run if the environment
    says so) and print ``{"processes", "devices", "final_costs"}`` as JSON from process 0, or
    from every process with ``--all``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from autodiff.training.ensemble import train_ensemble

    try:
        initialize_from_env()
        result = train_ensemble(args.sizes, args.iterations,
                                seeds=range(args.members), dtype=args.dtype, chunk=250,
                                place=Sharded())
    except ValueError as error:  # bad environment, sizes or member count: one line
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    if args.all or jax.process_index() == 0:
        print(json.dumps({"processes": jax.process_count(), "devices": jax.device_count(),
                          "process": jax.process_index(),
                          "final_costs": result.final_costs.tolist()}))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
