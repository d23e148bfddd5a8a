"""``backprop bench``: record keys, side-by-side ratios, the GPU plan, the target check."""

from __future__ import annotations

import json

import pytest

from autodiff.cli import main
from autodiff.training import bench


@pytest.fixture(scope="module")
def records():
    return bench.run_benchmark(iterations=200, ensemble_sizes=(1, 3), ensemble_iterations=30,
                               chunk=100)


def test_records_have_exactly_the_documented_keys(records):
    assert [tuple(r) for r in records] == [bench.RECORD_KEYS] * len(records)
    engines = [(r["engine"], r["ensemble"]) for r in records]
    assert engines == [("seed", 1), ("numpy", 1), ("jax", 1), ("jax-ensemble", 1),
                       ("jax-ensemble", 3)]
    for r in records:
        assert r["us_per_iter"] == pytest.approx(r["seconds"] / r["iterations"] * 1e6)
        assert r["net_iters_per_s"] == pytest.approx(r["ensemble"] * r["iterations"]
                                                     / r["seconds"])


def test_speedups_are_ratios_within_the_run(records):
    ratios = bench.speedups(records)
    seed = records[0]["us_per_iter"]
    assert ratios["seed/cpu"] == 1
    assert ratios["numpy/cpu"] == pytest.approx(seed / records[1]["us_per_iter"])


def test_target_check_passes_and_fails_on_planted_records(records):
    fast = [dict(r) for r in records]
    for r in fast:
        r["us_per_iter"] = {"seed": 300.0, "numpy": 30.0, "jax": 3.0}.get(r["engine"], 1.0)
    assert bench.check_targets(fast) == []
    slow = [dict(r, us_per_iter=10.0) if r["engine"] == "jax" else r for r in fast]
    assert any("jax/cpu" in failure for failure in bench.check_targets(slow))
    untrained = [dict(r, iterations=50_000, final_cost=0.01) if r["engine"] == "jax" else r
                 for r in fast]
    assert any("final cost" in failure for failure in bench.check_targets(untrained))
    without_seed = [r for r in fast if r["engine"] != "seed"]
    assert any("not measured" in failure for failure in bench.check_targets(without_seed))


def test_plan_adds_the_gpu_ensembles_only_with_a_gpu(monkeypatch):
    monkeypatch.setattr(bench, "has_gpu", lambda: True)
    runs = bench.plan(["seed", "numpy", "jax"], None, None)
    assert ("jax", "gpu", 1) in runs
    for device in ("gpu", "cpu"):
        for k in (1, 1024, 16384):
            assert ("jax-ensemble", device, k) in runs
    monkeypatch.setattr(bench, "has_gpu", lambda: False)
    assert bench.plan(["seed", "numpy", "jax"], None, None) == [
        ("seed", "cpu", 1), ("numpy", "cpu", 1), ("jax", "cpu", 1)]


def test_device_ratios_compare_the_same_k():
    rows = [{"engine": "jax-ensemble", "device": d, "ensemble": 8, "net_iters_per_s": v}
            for d, v in (("gpu", 40.0), ("cpu", 2.0))]
    assert bench.device_ratios(rows) == {8: 20.0}


def test_cli_json_and_table(capsys):
    assert main(["bench", "--iterations", "100", "--engines", "numpy,jax", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [r["engine"] for r in printed] == ["numpy", "jax"]
    assert main(["bench", "--iterations", "100", "--engines", "numpy"]) == 0
    assert "µs/iter" in capsys.readouterr().out
    assert main(["bench", "--engines", "cuda"]) == 2
    assert main(["bench", "--engines", ""]) == 2
    assert "expected at least one" in capsys.readouterr().err
    # --check cannot pass on a run that measured no seed baseline.
    assert main(["bench", "--iterations", "100", "--engines", "numpy", "--check"]) == 1
    assert "not measured" in capsys.readouterr().err
