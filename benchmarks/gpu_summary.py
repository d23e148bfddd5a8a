"""The short table that ends ``benchmarks/gpu_check.sh``, read from the logs in ``OUT``.

Usage: ``python benchmarks/gpu_summary.py OUT``. Missing logs are reported as missing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
    except OSError:
        return "missing"
    return lines[-1] if lines else "empty"


def summary(out: Path) -> list[str]:
    rows = [f"{'what':<46}{'result'}"]
    found = _load(out / "diagnose.json")
    if found is None:
        rows.append(f"{'float64 diagnosis':<46}missing (see diagnose.log)")
    else:
        for name, gaps in found["one_step"].items():
            worst = max(gaps) if isinstance(gaps, list) else gaps
            rows.append(f"{'one step, ' + name:<46}{worst:.1e}")
        for config in ("failing_config", "well_conditioned"):
            for name, part in found[config].items():
                if name != "final_costs":
                    rows.append(f"{config + ', ' + name:<46}>1e-9 from iteration "
                                f"{part['first_above_1e-09']}, largest {part['max']:.1e}")
    rows.append(f"{'GPU tests (pytest)':<46}{_last_line(out / 'pytest.log')}")
    for name, file in (("bench", "bench.json"), ("bench, networks-first on gpu",
                                                 "bench_networks_first.json")):
        bench = _load(out / file)
        if bench is None or "skipped" in bench:
            rows.append(f"{name:<46}" + (f"skipped: {bench['skipped']}" if bench else
                                         f"missing (see {file} and its .err)"))
            continue
        for r in bench["records"]:
            label = f"{name}: {r['engine']}/{r['device']} K={r['ensemble']}"
            rows.append(f"{label:<46}{r['us_per_iter']:.2f} us/it, {r['net_iters_per_s']:.3g} "
                        f"net-it/s (median {r['net_iters_per_s_median']:.3g})")
        machine = bench["machine"]
        rows.append(f"{name + ': load':<46}{machine['load_min']:.1f}-{machine['load_max']:.1f} "
                    f"on {machine['cpus']} CPUs")
    table = _last_table(out / "bench.txt")
    return rows + (["", *table] if table else [])


def _last_table(path: Path) -> list[str]:
    """The ratio and bandwidth lines of the bench's own table (bench.txt)."""
    try:
        text = path.read_text().splitlines()
    except OSError:
        return []
    return [line for line in text if line.startswith(("ensemble K=", "machine:"))]


if __name__ == "__main__":
    print("\n".join(summary(Path(sys.argv[1]))))
