"""``backprop train`` end to end, in process: picture, JSON, ensembles, exit codes."""

from __future__ import annotations

import json

import pytest

from autodiff.cli import main


def train_json(tmp_path, capsys, *options) -> dict:
    output = tmp_path / "out.png"
    status = main(["train", "--iterations", "300", "--output", str(output), "--json", *options])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    record = json.loads(captured.out)  # nothing but the JSON on stdout
    assert output.stat().st_size > 0
    return record


@pytest.mark.parametrize("engine", ["seed", "numpy", "jax"])
def test_every_engine_draws_and_reports(tmp_path, capsys, engine):
    record = train_json(tmp_path, capsys, "--engine", engine)
    assert record["engine"] == engine and record["iterations"] == 300
    assert 0 < record["final_cost"] < 0.3


def test_engines_agree_on_the_first_iterations(tmp_path, capsys):
    costs = [train_json(tmp_path, capsys, "--engine", e, "--dtype", "float64")["final_cost"]
             for e in ("numpy", "jax")]
    assert costs[0] == pytest.approx(costs[1], rel=1e-8)


def test_ensemble_sweep_reports_best_and_spread_and_writes_a_gif(tmp_path, capsys):
    gif = tmp_path / "learn.gif"
    record = train_json(tmp_path, capsys, "--ensemble", "2", "--aggression", "3.5,7",
                        "--gif", str(gif))
    ensemble = record["ensemble"]
    assert ensemble["members"] == 4
    assert record["final_cost"] == ensemble["best"]["final_cost"] == ensemble["spread"]["min"]
    from PIL import Image

    with Image.open(gif) as image:  # 300 iterations in chunks of 100, then the final curve
        assert image.n_frames == 4


def test_divergence_exits_1_with_one_line(tmp_path, capsys):
    status = main(["train", "--iterations", "50", "--aggression", "1e308",
                   "--output", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1 and "iteration 1 " in err


@pytest.mark.parametrize("options", [
    ["--sizes", "2,4,2"], ["--iterations", "0"], ["--ensemble", "0"],
    ["--engine", "numpy", "--ensemble", "3"], ["--engine", "seed", "--shard"],
    ["--engine", "seed", "--activation", "tanh"], ["--aggression", ""]])
def test_bad_usage_exits_2(tmp_path, capsys, options):
    assert main(["train", "--output", str(tmp_path / "x.png"), *options]) == 2
    assert "backprop train: error:" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--output", "--gif"])
def test_an_unwritable_picture_path_fails_before_training(tmp_path, capsys, flag, monkeypatch):
    import autodiff.training.engine

    def must_not_train(*args, **kwargs):
        raise AssertionError("trained before checking the output path")

    monkeypatch.setattr(autodiff.training.engine, "train", must_not_train)
    options = {"--output": str(tmp_path / "x.png"), flag: str(tmp_path / "missing" / "p.png")}
    assert main(["train", "--iterations", "10", *sum(options.items(), ())]) == 2
    assert f"{flag}: the folder of" in capsys.readouterr().err
