"""``backprop bench``: record keys, minima and medians, side-by-side ratios, the GPU plan, the
targets checked on minima, the notes, the JSON object."""

from __future__ import annotations

import json
import statistics

import pytest

from autodiff.cli import build_parser, main
from autodiff.training import bench, bench_report


@pytest.fixture(scope="module")
def run():
    return bench.run_benchmark(iterations=200, ensemble_sizes=(1, 3), ensemble_iterations=30,
                               repeats=2, chunk=100)


def test_records_have_exactly_the_documented_keys_minima_and_medians(run):
    records, machine = run
    assert [tuple(r) for r in records] == [bench.RECORD_KEYS] * len(records)
    engines = [(r["engine"], r["ensemble"]) for r in records]
    assert engines == [("seed", 1), ("numpy", 1), ("jax", 1), ("jax-ensemble", 1),
                       ("jax-ensemble", 3)]
    for r in records:
        assert r["repeats"] == 2 and r["seconds"] <= r["seconds_median"]
        assert r["us_per_iter"] == pytest.approx(r["seconds"] / r["iterations"] * 1e6)
        assert r["us_per_iter_median"] == pytest.approx(
            r["seconds_median"] / r["iterations"] * 1e6)
        assert r["net_iters_per_s"] == pytest.approx(r["ensemble"] * r["iterations"]
                                                     / r["seconds"])
    assert machine["cpus"] >= 1
    assert machine["load_min"] <= machine["load_median"] <= machine["load_max"]


def test_a_record_keeps_the_minimum_and_the_median_of_its_runs():
    r = bench.record("numpy", "cpu", "float64", 100, 1, [3.0, 1.0, 2.0, 10.0], 0.1)
    assert r["seconds"] == 1.0 and r["seconds_median"] == statistics.median([1, 2, 3, 10])
    assert r["repeats"] == 4


def test_speedups_are_ratios_within_the_run(run):
    records, _ = run
    ratios = bench_report.speedups(records)
    seed = records[0]["us_per_iter"]
    assert ratios["seed/cpu"] == 1
    assert ratios["numpy/cpu"] == pytest.approx(seed / records[1]["us_per_iter"])
    typical = bench_report.speedups(records, key="us_per_iter_median")
    assert typical["numpy/cpu"] == pytest.approx(records[0]["us_per_iter_median"]
                                                 / records[1]["us_per_iter_median"])
    ensembles = bench_report.ensemble_ratios(records)
    assert ensembles[("cpu", 3)] == pytest.approx(records[4]["net_iters_per_s"]
                                                  / records[2]["net_iters_per_s"])


def planted(seed=300.0, numpy=20.0, jax=3.0, ensemble_rate=2e6, k=1024):
    """Records of a run whose minima are the given µs/iter (and ensemble rate)."""
    rows = [bench.record(engine, "cpu", "float32", 1000, 1, [us * 1e-3], 0.001)
            for engine, us in (("seed", seed), ("numpy", numpy), ("jax", jax))]
    rows.append(bench.record("jax-ensemble", "cpu", "float32", 100, k,
                             [k * 100 / ensemble_rate], 0.001))
    return rows


def test_target_check_passes_and_fails_on_planted_records():
    assert bench_report.check_targets(planted()) == []
    assert any("jax/cpu" in f for f in bench_report.check_targets(planted(jax=10.0)))
    assert any("numpy/cpu" in f for f in bench_report.check_targets(planted(numpy=30.0)))
    slow = bench_report.check_targets(planted(ensemble_rate=1e6))  # 3x a 3 µs single network
    assert any("K=1024" in f and "3.00×" in f for f in slow)
    assert any("not measured" in f for f in bench_report.check_targets(planted(k=512)))
    untrained = [dict(r, iterations=50_000, final_cost=0.01) if r["engine"] == "jax" else r
                 for r in planted()]
    assert any("final cost" in f for f in bench_report.check_targets(untrained))
    without_seed = [r for r in planted() if r["engine"] != "seed"]
    assert any("not measured" in f for f in bench_report.check_targets(without_seed))


def test_the_check_uses_minima_so_a_busy_spell_does_not_fail_a_fast_engine():
    rows = planted()
    rows[2] = bench.record("jax", "cpu", "float32", 1000, 1, [3e-3, 9e-3, 9e-3], 0.001)
    assert bench_report.speedups(rows, key="us_per_iter_median")["jax/cpu"] < 80
    assert bench_report.check_targets(rows) == []


def test_notes_explain_the_missed_targets_only():
    assert bench_report.notes(planted()) == []
    missed = bench_report.notes(planted(jax=4.0, ensemble_rate=5e5))
    assert len(missed) == 2 and "YNNPACK" in missed[0] and "batched products" in missed[1]


def test_plan_adds_the_gpu_runs_only_with_a_gpu(monkeypatch):
    monkeypatch.setattr(bench, "has_gpu", lambda: True)
    runs = bench.plan(["seed", "numpy", "jax"], None, None)
    assert ("jax", "gpu", 1) in runs
    for device in ("gpu", "cpu"):
        for k in (1, 1024, 16384):
            assert ("jax-ensemble", device, k) in runs
    monkeypatch.setattr(bench, "has_gpu", lambda: False)
    assert bench.plan(["seed", "numpy", "jax"], None, None) == [
        ("seed", "cpu", 1), ("numpy", "cpu", 1), ("jax", "cpu", 1),
        ("jax-ensemble", "cpu", 1024)]


def test_device_ratios_compare_the_same_k():
    rows = [{"engine": "jax-ensemble", "device": d, "ensemble": 8, "net_iters_per_s": v}
            for d, v in (("gpu", 40.0), ("cpu", 2.0))]
    assert bench_report.device_ratios(rows) == {8: 20.0}


def test_iterations_are_read_as_the_help_writes_them():
    args = build_parser().parse_args(["bench", "--iterations", "50,000",
                                      "--ensemble-iterations", "2_000"])
    assert args.iterations == 50_000 and args.ensemble_iterations == 2000
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--iterations", "5,0"])


def test_cli_json_and_table(capsys):
    common = ["--iterations", "100", "--repeats", "1", "--ensemble-sizes", ""]
    assert main(["bench", *common, "--engines", "numpy,jax", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [r["engine"] for r in printed["records"]] == ["numpy", "jax"]
    assert set(printed) == {"machine", "records", "missed", "notes"}
    assert main(["bench", *common, "--engines", "numpy"]) == 0
    out = capsys.readouterr().out
    assert "µs/it min" in out and "machine:" in out
    assert main(["bench", "--engines", "cuda"]) == 2
    with pytest.raises(SystemExit) as exit:  # argparse's own error, in one line
        main(["bench", "--engines", ""])
    assert exit.value.code == 2
    assert "argument --engines: expected engine names such as numpy,jax, got ''" in \
        capsys.readouterr().err
    # --check cannot pass on a run that measured no seed baseline.
    assert main(["bench", *common, "--engines", "numpy", "--check"]) == 1
    assert "not measured" in capsys.readouterr().err



def test_check_help_names_the_targets_it_checks(capsys):
    from autodiff.training.bench import (
        COST_TARGET,
        ENSEMBLE_TARGET,
        ENSEMBLE_TARGET_K,
        SPEED_TARGETS,
    )

    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help's lines
    expected = [f"numpy {SPEED_TARGETS['numpy/cpu']:g}×", f"jax {SPEED_TARGETS['jax/cpu']:g}×",
                f"K={ENSEMBLE_TARGET_K} {ENSEMBLE_TARGET:g}×", f"below cost {COST_TARGET:g}",
                "on minima"]
    assert all(part in text for part in expected), (expected, text)
    assert "issue" not in text.lower()  # the help once sent users to "the targets"
