"""How far each run's memory is from the upper bound that ``autodiff.core.memory`` refuses by.

Each command runs in a fresh process that reports its peak resident memory; the growth over
the same command on the smallest network is set beside the bound, which must be the larger.
Run: ``python benchmarks/memory_bound.py`` (a few GB of free memory, about a minute).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from autodiff.core.memory import check_estimate, training_estimate

REPORT = ("import resource, sys; from autodiff.cli import main; main(sys.argv[1:]); "
          "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "
          "file=sys.stderr)")


def peak_bytes(argv: list[str]) -> int:
    """The peak resident memory of ``backprop ARGV`` in a fresh process."""
    env = {**os.environ, "MPLBACKEND": "Agg", "BACKPROP_COMPILE_CACHE": "off"}
    result = subprocess.run([sys.executable, "-c", REPORT, *argv], capture_output=True,
                            text=True, env=env)
    lines = [line for line in result.stderr.splitlines() if line.startswith("PEAK")]
    if not lines:
        raise RuntimeError(f"backprop {' '.join(argv)} failed: {result.stderr[-500:]}")
    return int(lines[0].split()[1])


def main() -> None:
    picture = os.path.join(tempfile.mkdtemp(), "x.png")
    train = ["train", "--iterations", "200", "--json", "--output", picture]
    cases = [
        (train, [*train, "--sizes", "1,50000,2"], training_estimate("jax", [1, 50000, 2])),
        ([*train, "--engine", "numpy"], [*train, "--engine", "numpy", "--sizes", "1,50000,2"],
         training_estimate("numpy", [1, 50000, 2])),
        (train, [*train, "--sizes", "1,300,300,2", "--ensemble", "64"],
         training_estimate("jax", [1, 300, 300, 2], members=64)),
        (["check"], ["check", "--sizes", "784,512,512,10", "--batch", "64"],
         check_estimate([784, 512, 512, 10], 64)),
        (["check"], ["check", "--sizes", "1,20000,2"], check_estimate([1, 20000, 2], 100)),
    ]
    print(f"{'run':<60} {'grew (MB)':>10} {'bound (MB)':>11}")
    for small, large, bound in cases:
        grew = peak_bytes(large) - peak_bytes(small)
        name = " ".join(arg for arg in large if arg not in train[1:] or arg == "train")
        print(f"{name:<60} {grew / 1e6:>10,.0f} {bound.host / 1e6:>11,.0f}"
              + ("" if grew <= bound.host else "   OVER THE BOUND"))


if __name__ == "__main__":
    main()
