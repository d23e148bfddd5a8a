"""``backprop train`` end to end, in process: picture, JSON, ensembles, exit codes."""

from __future__ import annotations

import itertools
import json

import pytest

from autodiff.cli import main


def exit_status(argv) -> int:
    """main's status, or argparse's where it rejects an option before main's own checks."""
    try:
        return main(argv)
    except SystemExit as exit:
        return exit.code


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

    with Image.open(gif) as image:  # 300 iterations: pictures at 100 and 200, then the final
        assert image.n_frames == 3


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
    assert exit_status(["train", "--output", str(tmp_path / "x.png"), *options]) == 2
    assert "backprop train: error:" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--output", "--gif"])
def test_an_unwritable_picture_path_fails_before_training(tmp_path, capsys, flag, monkeypatch):
    import autodiff.training.engine

    def must_not_train(*args, **kwargs):
        raise AssertionError("trained before checking the output path")

    monkeypatch.setattr(autodiff.training.engine, "train", must_not_train)
    suffix = {"--output": "png", "--gif": "gif"}[flag]
    options = {"--output": str(tmp_path / "x.png"),
               flag: str(tmp_path / "missing" / f"p.{suffix}")}
    assert main(["train", "--iterations", "10", *sum(options.items(), ())]) == 2
    assert f"{flag}: the folder of" in capsys.readouterr().err


def test_output_without_a_suffix_or_as_a_folder_is_written_where_reported(tmp_path, capsys):
    folder = tmp_path / "pictures"
    folder.mkdir()
    for output, written in ((tmp_path / "myheart", tmp_path / "myheart.png"),
                            (folder, folder / "heart.png")):
        assert main(["train", "--iterations", "200", "--json", "--output", str(output),
                     "--gif", str(folder)]) == 0
        record = json.loads(capsys.readouterr().out)
        assert record["output"] == str(written) and written.stat().st_size > 0
        assert record["gif"] == str(folder / "learn.gif")
    assert exit_status(["train", "--output", str(tmp_path / "heart.txt")]) == 2
    assert "--output: cannot write a 'txt' picture" in capsys.readouterr().err


def test_a_missing_folder_is_named_as_a_folder(tmp_path, capsys):
    missing = str(tmp_path / "nosuchdir") + "/"
    assert exit_status(["train", "--iterations", "10", "--output", missing]) == 2
    err = capsys.readouterr().err
    assert f"--output: the folder {missing!r} does not exist" in err and ".png" not in err


def test_iterations_are_read_as_the_help_writes_them():
    from autodiff.cli import build_parser

    assert build_parser().parse_args(["train", "--iterations", "50,000"]).iterations == 50_000
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--iterations", "5,0"])


@pytest.mark.parametrize("engine", ["numpy", "seed"])
def test_a_network_saturated_by_huge_steps_is_named(tmp_path, capsys, engine):
    # float64 keeps the cost finite at noise 1e300 (weights ~1e298, every unit saturated): it
    # once printed a final cost and nothing else.
    common = ["train", "--engine", engine, "--iterations", "50", "--json",
              "--output", str(tmp_path / "x.png")]
    assert main([*common, "--noise", "1e300"]) == 0
    captured = capsys.readouterr()
    assert "every unit of layer 1 is saturated" in captured.err and "noise 1e+300" in captured.err
    assert json.loads(captured.out)["saturated_layer"] == 1
    assert main(common) == 0  # the worksheet's steps: nothing to warn about
    captured = capsys.readouterr()
    assert "saturated" not in captured.err
    assert json.loads(captured.out)["saturated_layer"] is None


def test_a_huge_noise_is_named_and_no_raw_warning_escapes(tmp_path, capsys):
    import warnings

    for options in ([], ["--ensemble", "2"]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status = main(["train", "--iterations", "50", "--noise", "1e300",
                           "--output", str(tmp_path / "x.png"), *options])
        err = capsys.readouterr().err
        assert status == 1 and err.count("\n") == 1
        assert "noise 1e+300" in err and "iteration 1 " in err
        assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_compiled_chunks_stay_small_whatever_the_run_length():
    from autodiff.commands.train import CHUNK_WORK, chunk_size, picture_interval

    assert chunk_size([1, 6, 7, 2], 50_000, 1) == picture_interval(50_000) == 1000
    for sizes, members in (([1, 50, 50, 2], 1), ([1, 6, 7, 2], 16384)):
        chunk = chunk_size(sizes, 100_000_000, members)
        work = chunk * members * 100 * sum(a * b for a, b in itertools.pairwise(sizes))
        assert chunk >= 1 and work <= CHUNK_WORK


@pytest.mark.parametrize("options", [["--engine", "jax"], ["--ensemble", "2"]])
def test_ctrl_c_writes_the_network_so_far_and_a_second_one_is_not_held(
        tmp_path, capsys, monkeypatch, options):
    import signal

    import autodiff.commands.train as command
    import autodiff.training.engine
    import autodiff.training.ensemble

    def interrupt_after_two_chunks(train):
        def wrapped(*args, callback, **kwargs):
            calls = []

            def on_chunk(*values):
                callback(*values)
                calls.append(values[0])
                if len(calls) == 2:
                    raise KeyboardInterrupt
            return train(*args, callback=on_chunk, **kwargs)
        return wrapped

    for module, name in ((autodiff.training.engine, "train"),
                         (autodiff.training.ensemble, "train_ensemble")):
        monkeypatch.setattr(module, name, interrupt_after_two_chunks(getattr(module, name)))
    handlers, draw = [], command._draw
    monkeypatch.setattr(command, "_draw", lambda *a: (handlers.append(
        signal.getsignal(signal.SIGINT)), draw(*a))[1])
    before = signal.getsignal(signal.SIGINT)
    output = tmp_path / "so-far.png"
    try:
        status = main(["train", "--iterations", "1000", "--output", str(output), *options])
    finally:
        signal.signal(signal.SIGINT, before)  # the command leaves the default for its exit
    err = capsys.readouterr().err
    assert status == 130 and output.stat().st_size > 0
    assert "interrupted after 200 of 1000 iterations" in err
    assert handlers == [signal.SIG_DFL]
