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
    import reference.training

    def must_not_train(*args, **kwargs):
        raise AssertionError("trained before checking the output path")

    monkeypatch.setattr(reference.training, "train_fresh", must_not_train)
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


@pytest.mark.parametrize("engine", ["seed", "numpy", "jax"])
def test_chunks_stay_small_whatever_the_run_length(engine):
    from autodiff.commands.train import CHUNK_WORK, chunk_size, picture_interval

    assert chunk_size("jax", [1, 6, 7, 2], 50_000, 1) == picture_interval(50_000) == 1000
    for sizes, members in (([1, 50, 50, 2], 1), ([1, 6, 7, 2], 16384)):
        chunk = chunk_size(engine, sizes, 100_000_000, members)
        work = chunk * members * 100 * sum(a * b for a, b in itertools.pairwise(sizes))
        assert chunk == 1 or work <= CHUNK_WORK[engine]  # one iteration is the least
    # the worksheet's loop is ~80x slower than the compiled step: its chunks are that smaller
    assert chunk_size("seed", [1, 6, 7, 2], 2_000_000, 1) <= 1000


@pytest.mark.parametrize("options", [["--engine", "jax"], ["--ensemble", "2"]])
def test_ctrl_c_writes_the_network_so_far_and_a_second_one_is_not_held(
        tmp_path, capsys, monkeypatch, options):
    import signal

    import autodiff.commands.train as command
    import autodiff.training.ensemble
    import reference.training

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

    for module, name in ((reference.training, "train_fresh"),
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


@pytest.mark.parametrize("command", [["train"], ["check"], ["train", "--engine", "numpy"]])
@pytest.mark.parametrize("sizes", ["1,-6,2", "1,0,2", "1,,2", "1", "1,six,2", ""])
def test_a_bad_size_is_named_with_what_is_expected(capsys, command, sizes):
    assert exit_status([*command, "--sizes", sizes]) == 2
    err = capsys.readouterr().err
    assert "argument --sizes: expected layer widths" in err and f"got {sizes!r}" in err
    assert "such as 1,6,7,2" in err and "internal error" not in err


def test_every_numeric_option_gives_an_example_of_its_own(capsys):
    # (argv, the example the error must give); --ensemble 0 once quoted --iterations' 50,000.
    cases = [(["train", "--ensemble", "0"], "such as 64"),
             (["train", "--iterations", "0"], "such as 50,000"),
             (["train", "--seed", "-1"], "such as 42"),
             (["train", "--aggression", "0"], "such as 7 or 3.5,7"),
             (["train", "--aggression", "nan"], "such as 7 or 3.5,7"),
             (["train", "--noise", "-1"], "such as 1 or 0,0.5,1"),
             (["train", "--noise", "1,,2"], "such as 1 or 0,0.5,1"),
             (["bench", "--repeats", "0"], "such as 5"),
             (["bench", "--ensemble-iterations", "0"], "such as 1,000"),
             (["bench", "--ensemble-sizes", "1024,0"], "such as 1,1024"),
             (["bench", "--ensemble-sizes", "1,,2"], "such as 1,1024"),
             (["bench", "--engines", "numpy,"], "such as numpy,jax"),
             (["check", "--random", "100", "--naive-sample", "-3"], "such as 3")]
    for argv, example in cases:
        assert exit_status(argv) == 2, argv
        err = capsys.readouterr().err
        option, value = argv[-2:]
        assert f"argument {option}: expected" in err and f"got {value!r}" in err, err
        assert example in err, (argv, err)


def test_the_distributed_entry_reads_sizes_the_same_way(capsys):
    from autodiff.training.distributed import main as distributed

    with pytest.raises(SystemExit) as exit:
        distributed(["--sizes", "1,-6,2"])
    assert exit.value.code == 2
    assert "argument --sizes: expected layer widths" in capsys.readouterr().err


@pytest.fixture
def little_memory(monkeypatch):
    """A machine with 1 kB free, whatever this one has: nothing may be trained or allocated."""
    import autodiff.core.memory
    import autodiff.training.ensemble
    import reference.training

    def must_not_run(*args, **kwargs):
        raise AssertionError("started a run that was to be refused")

    monkeypatch.setattr(autodiff.core.memory, "available_bytes", lambda device="cpu": 1000)
    for module, name in ((reference.training, "train_fresh"),
                         (autodiff.training.ensemble, "train_ensemble")):
        monkeypatch.setattr(module, name, must_not_run)


@pytest.mark.parametrize("options", [[], ["--engine", "numpy"], ["--engine", "seed"],
                                     ["--ensemble", "8"]])
def test_a_run_larger_than_the_memory_is_refused_before_it_starts(
        tmp_path, capsys, little_memory, options):
    output = tmp_path / "x.png"
    assert main(["train", "--output", str(output), *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith("backprop train: error: --sizes 1,6,7,2") and err.count("\n") == 1
    assert "needs up to" in err and "but this machine has 0.0 GB available" in err
    assert not output.exists()


def test_bench_and_check_refuse_too_large_runs_too(capsys, little_memory, monkeypatch):
    import autodiff.training.bench

    monkeypatch.setattr(autodiff.training.bench, "run_benchmark",
                        lambda *a, **k: pytest.fail("benchmarked a run that was to be refused"))
    assert main(["bench", "--engines", "numpy", "--ensemble-sizes", "1024"]) == 2
    assert "an ensemble of K=1,024 networks on the cpu needs up to" in capsys.readouterr().err
    assert main(["check", "--sizes", "1,3000,2", "--no-oracle"]) == 2
    assert "checking --sizes 1,3000,2 on 100 examples needs up to" in capsys.readouterr().err


def test_a_hundred_million_units_are_refused_on_a_real_machine(tmp_path, capsys):
    # It once ended in the allocator: "internal error: JaxRuntimeError: RESOURCE_EXHAUSTED".
    for argv in (["train", "--sizes", "1,100000000,2", "--output", str(tmp_path / "x.png")],
                 ["check", "--sizes", "1,100000000,2"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "needs up to" in err and "GB available" in err and "internal" not in err


def test_runs_of_the_usual_sizes_fit_a_small_laptop():
    # A false refusal stops a run that would have worked: the bound must not be absurd.
    from autodiff.core.memory import check_estimate, training_estimate

    laptop = 2 * 10**9
    assert training_estimate("jax", [1, 6, 7, 2], members=1024).host < laptop
    assert training_estimate("jax", [1, 6, 7, 2], members=16384, device="gpu").device < 8 * laptop
    assert training_estimate("numpy", [1, 100, 100, 2]).host < laptop
    assert check_estimate([784, 512, 512, 10], 64).host < laptop


@pytest.mark.parametrize("engine", ["seed", "numpy"])
def test_the_numpy_engines_do_not_import_jax(tmp_path, engine):
    # Importing JAX costs a second or more of every such run, for nothing.
    import os
    import subprocess
    import sys

    program = ("import sys; from autodiff.cli import main; status = main(sys.argv[1:]); "
               "print('jax' in sys.modules); sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", program, "train", "--engine", engine,
                             "--iterations", "100", "--output", str(tmp_path / "x.png")],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"
