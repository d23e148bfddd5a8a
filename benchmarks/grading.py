"""Grading speed, side by side in one run: a class in one call versus one call per file, and
one grading and one class today (a git revision, ``main`` by default) versus now.

    python benchmarks/grading.py [--copies 200] [--calls 6] [--repeats 3] [--jobs 2] [--mix]

The class is ``--copies`` files cycling through the zoo's correct ``.py`` submissions; with
``--mix``, through a mix of the zoo (``MIX``: the correct ones and planted mistakes, whose
failures are diagnosed, so the figures include the shrinking and the diagnoses). A command
succeeds with the grader's own exit statuses 0 (all pass) and 1 (a failure). Each
repeat runs, interleaved so that a change in the machine's load hits all alike: one grading
of one file by the baseline revision (extracted with ``git archive``, run with this
interpreter), the same by this tree, ``--calls`` separate ``backprop grade FILE`` calls, and
one ``backprop grade FOLDER -j JOBS`` call by the baseline and one by this tree. Every
figure is a whole command's wall time, start-up included, and its CPU time (user + system of
the command and all it waited for).
Reports min and median over the repeats, the ratios, and the load average, since a shared
machine's other work shows in every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORRECT = ["correct_worksheet.py", "correct_einsum.py", "correct_mean.py", "correct_loops.py"]
# Correct and wrong, interleaved: the first is correct (the one-file rows grade it).
MIX = ["correct_worksheet.py", "mistakes_a.py", "correct_einsum.py", "diagnoses/chain_a.py",
       "correct_mean.py", "diagnoses/helper_d_sigma.py", "correct_loops.py", "mistakes_b.py"]
GRADED = (0, 1)  # backprop grade's exit statuses for a grading: all pass, a failure


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """``(wall s, CPU s)`` of one command run to completion in ``cwd`` (it must grade: exit
    0 or 1)."""
    env = dict(os.environ, PYTHONPATH=str(cwd))
    cpu, start = _cpu(), time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode not in GRADED:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr[-500:]}")
    return wall, _cpu() - cpu


def baseline_tree(revision: str, into: Path) -> Path:
    """The project at ``revision``, extracted from git (the working tree is not touched)."""
    archive = into / "baseline.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), revision], cwd=ROOT,
                   check=True)
    tree = into / "baseline"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def run(copies: int, calls: int, repeats: int, jobs: int, revision: str,
        mix: bool = False) -> dict:
    grade = [sys.executable, "-m", "autodiff", "grade"]
    with tempfile.TemporaryDirectory(prefix="backprop-bench-") as scratch:
        scratch = Path(scratch)
        old = baseline_tree(revision, scratch)
        klass = scratch / "class"
        klass.mkdir()
        sources = MIX if mix else CORRECT
        for index in range(copies):
            name = sources[index % len(sources)]
            shutil.copy(ROOT / "tests" / "submissions" / name,
                        klass / f"{index:04d}_{Path(name).name}")
        files = sorted(klass.iterdir())
        one = files[0]
        figures: dict[str, list[tuple[float, float]]] = {
            "one file, baseline": [], "one file, now": [], "one call per file": [],
            "class, baseline": [], "one call for the class": []}
        load = [os.getloadavg()[0]]
        for _ in range(repeats):
            figures["one file, baseline"].append(timed([*grade, str(one)], old))
            figures["one file, now"].append(timed([*grade, str(one)], ROOT))
            each = [timed([*grade, str(path)], ROOT) for path in files[:calls]]
            figures["one call per file"].append((sum(w for w, _ in each) / calls,
                                                 sum(c for _, c in each) / calls))
            for label, tree in (("class, baseline", old), ("one call for the class", ROOT)):
                wall, cpu = timed([*grade, str(klass), "-j", str(jobs)], tree)
                figures[label].append((wall / copies, cpu / copies))
            load.append(os.getloadavg()[0])
    return summarise(figures, copies, calls, jobs, revision, load, mix)


def summarise(figures, copies, calls, jobs, revision, load, mix=False) -> dict:
    rows = {}
    for label, samples in figures.items():
        walls, cpus = [w for w, _ in samples], [c for _, c in samples]
        rows[label] = {"wall_min": min(walls), "wall_median": statistics.median(walls),
                       "cpu_median": statistics.median(cpus)}
    per_file, batch = rows["one call per file"], rows["one call for the class"]
    return {
        "copies": copies, "calls": calls, "jobs": jobs, "baseline": revision,
        "class": "a mix of the zoo" if mix else "correct submissions",
        "cores": os.cpu_count(), "load_average": [round(x, 2) for x in load], "rows": rows,
        "batch_per_second": {"best": 1 / batch["wall_min"], "median": 1 / batch["wall_median"]},
        "per_file_per_second": {"best": 1 / per_file["wall_min"],
                                "median": 1 / per_file["wall_median"]},
        "batch_over_per_file": {"best": per_file["wall_min"] / batch["wall_min"],
                                "median": per_file["wall_median"] / batch["wall_median"]},
        "now_over_baseline": {
            "best": rows["one file, now"]["wall_min"] / rows["one file, baseline"]["wall_min"],
            "median": (rows["one file, now"]["wall_median"]
                       / rows["one file, baseline"]["wall_median"])},
        "class_now_over_baseline": {
            "best": batch["wall_min"] / rows["class, baseline"]["wall_min"],
            "median": batch["wall_median"] / rows["class, baseline"]["wall_median"]},
        # What the machine could do if this work had its cores to itself.
        "batch_per_second_if_idle": (os.cpu_count() or 1) / batch["cpu_median"],
    }


def table(result: dict) -> str:
    lines = [f"class: {result['copies']} files, {result['class']}",
             f"{'':28} {'wall min':>10} {'wall median':>12} {'CPU median':>11}  (seconds; "
             "per submission for the class and per-file rows)"]
    for label, row in result["rows"].items():
        lines.append(f"{label:28} {row['wall_min']:10.3f} {row['wall_median']:12.3f} "
                     f"{row['cpu_median']:11.3f}")
    rate, per_file = result["batch_per_second"], result["per_file_per_second"]
    ratio, now = result["batch_over_per_file"], result["now_over_baseline"]
    klass = result["class_now_over_baseline"]
    batch_cpu = result["rows"]["one call for the class"]["cpu_median"]
    lines += [
        f"class in one call: {rate['best']:.1f} submissions/s (median {rate['median']:.1f}); "
        f"one call per file: {per_file['best']:.2f}/s (median {per_file['median']:.2f})",
        f"one call for the class / one call per file: {ratio['best']:.1f}x "
        f"(median {ratio['median']:.1f}x)",
        f"one grading now / {result['baseline']}: {now['best']:.2f} "
        f"(median {now['median']:.2f})",
        f"the class now / {result['baseline']}: {klass['best']:.2f} "
        f"(median {klass['median']:.2f})",
        f"CPU per submission in the class: {batch_cpu:.3f} s -> "
        f"{result['batch_per_second_if_idle']:.1f}/s on {result['cores']} idle cores",
        f"load average during the run: {result['load_average']} on {result['cores']} cores"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=200, help="files in the class")
    parser.add_argument("--calls", type=int, default=6,
                        help="separate one-file calls timed per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline", default="main", help="git revision of 'today'")
    parser.add_argument("--mix", action="store_true",
                        help="a class mixing correct and wrong submissions of the zoo")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for flag in ("copies", "calls", "repeats", "jobs"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag}: expected at least 1, got {getattr(args, flag)}")
    if args.calls > args.copies:
        parser.error(f"--calls: expected at most --copies ({args.copies}), got {args.calls}")
    result = run(args.copies, args.calls, args.repeats, args.jobs, args.baseline, args.mix)
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
