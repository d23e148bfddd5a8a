"""``backprop check`` at real sizes: wall time and peak memory of each run, against the goals.

Each run is a fresh ``python -m autodiff check … --json`` process (so the figures include
importing JAX and compiling), measured with ``os.wait4`` (the child's own peak RSS) and
repeated; the report gives the min and median of each, the machine's load average before and
after, and whether each goal was met. A planted mistake must still be caught, with its
first wrong layer named.

    python benchmarks/check_scale.py               # every run, 3 repeats
    python benchmarks/check_scale.py --repeats 1 --json
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

MIB = 2**20


@dataclass(frozen=True)
class Run:
    name: str
    argv: tuple[str, ...]
    seconds: float | None = None  # the goal, if any
    mib: float | None = None
    expect_status: int = 0
    expect_layer: int | None = None  # first wrong layer a planted mistake must name


RUNS = [
    Run("784-128-10, batch 32", ("--sizes", "784,128,10", "--batch", "32"), 30, 1.5 * 1024),
    Run("784-128-10, batch 32, --no-oracle",
        ("--sizes", "784,128,10", "--batch", "32", "--no-oracle")),
    Run("784-512-512-10, batch 64", ("--sizes", "784,512,512,10", "--batch", "64"),
        120, 3 * 1024),
    # In float32 the derived worst-case bounds of this saturated network (784 inputs at
    # scale 0.5) exceed its gradients: nothing can be tested, and the check says so (exit 4).
    Run("784-512-512-10, batch 64, --dtype float32 (inconclusive)",
        ("--sizes", "784,512,512,10", "--batch", "64", "--dtype", "float32"),
        expect_status=4),
    Run("784-512-512-10, batch 64, --no-oracle",
        ("--sizes", "784,512,512,10", "--batch", "64", "--no-oracle")),
    # missing-transpose goes wrong below the output: layer 2 of 3 (mistakes.wrong_from).
    Run("784-512-512-10, batch 64, --plant missing-transpose",
        ("--sizes", "784,512,512,10", "--batch", "64", "--plant", "missing-transpose"),
        120, 3 * 1024, expect_status=1, expect_layer=2),
    Run("--random 1000000000000 (refused)", ("--random", "1000000000000"), 10, None,
        expect_status=2),
]


def popen_wait4(command) -> tuple[int, float, float, bytes, bytes]:
    """Run ``command``; its exit status, wall seconds, peak RSS in MiB, stdout and stderr."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunks = {child.stdout: [], child.stderr: []}
    # Drain both pipes without waiting on the child (wait() would reap it and lose rusage).
    selector = selectors.DefaultSelector()
    for stream in chunks:
        selector.register(stream, selectors.EVENT_READ)
    while selector.get_map():
        for key, _ in selector.select():
            data = key.fileobj.read1(1 << 16)
            if data:
                chunks[key.fileobj].append(data)
            else:
                selector.unregister(key.fileobj)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    return (child.returncode, seconds, usage.ru_maxrss / 1024,
            b"".join(chunks[child.stdout]), b"".join(chunks[child.stderr]))


def one(run: Run) -> dict:
    command = [sys.executable, "-m", "autodiff", "check", *run.argv]
    if run.expect_status != 2:
        command.append("--json")
    status, seconds, peak, out, err = popen_wait4(command)
    data = json.loads(out) if out.strip().startswith(b"{") else None
    problems = []
    if status != run.expect_status:
        problems.append(f"exit {status}, expected {run.expect_status}: {err.decode()[-300:]}")
    if run.expect_layer is not None and (data or {}).get("first_wrong_layer") != run.expect_layer:
        problems.append(f"first wrong layer {(data or {}).get('first_wrong_layer')}, "
                        f"expected {run.expect_layer}")
    if run.expect_status == 2 and b"--random" not in err:
        problems.append(f"the refusal does not name --random: {err.decode()!r}")
    return {"seconds": seconds, "peak_mib": peak, "problems": problems,
            "message": err.decode().strip().splitlines()[-1] if run.expect_status == 2 else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    report = []
    for run in RUNS:
        trials = [one(run) for _ in range(max(args.repeats, 1))]
        seconds = [t["seconds"] for t in trials]
        peaks = [t["peak_mib"] for t in trials]
        problems = sorted({p for t in trials for p in t["problems"]})
        goal_met = (not problems
                    and (run.seconds is None or max(seconds) < run.seconds)
                    and (run.mib is None or max(peaks) < run.mib))
        report.append({
            "run": run.name, "argv": list(run.argv),
            "seconds_min": min(seconds), "seconds_median": statistics.median(seconds),
            "peak_mib_min": min(peaks), "peak_mib_median": statistics.median(peaks),
            "goal_seconds": run.seconds, "goal_mib": run.mib, "goal_met": goal_met,
            "problems": problems, "message": trials[0]["message"],
        })
    load_after = os.getloadavg()
    if args.json:
        json.dump({"runs": report, "cpus": os.cpu_count(), "load_before": load_before,
                   "load_after": load_after}, sys.stdout, indent=2)
        print()
    else:
        print(f"{os.cpu_count()} CPUs; load average {load_before[0]:.2f} before, "
              f"{load_after[0]:.2f} after; {args.repeats} repeats (min / median)")
        for row in report:
            goal = ("" if row["goal_seconds"] is None else
                    f"  goal < {row['goal_seconds']:g} s"
                    + ("" if row["goal_mib"] is None else f", < {row['goal_mib']:,.0f} MiB")
                    + (": met" if row["goal_met"] else ": MISSED"))
            print(f"{row['run']:<52} {row['seconds_min']:6.2f} / {row['seconds_median']:6.2f} s"
                  f"  {row['peak_mib_min']:6.0f} / {row['peak_mib_median']:6.0f} MiB{goal}")
            for problem in row["problems"]:
                print(f"    problem: {problem}")
            if row["message"]:
                print(f"    says: {row['message']}")
    return 0 if all(row["goal_met"] or (row["goal_seconds"] is None and not row["problems"])
                    for row in report) else 1


if __name__ == "__main__":
    sys.exit(main())
