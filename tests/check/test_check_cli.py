"""``backprop check``: exit 0 when gradients agree, 1 when they disagree, 2 on bad usage —
with a one-line error and no traceback — and JSON that a machine can read."""

import json
import sys

import pytest

from autodiff.check import sweep
from autodiff.check.cases import NetworkCase
from autodiff.check.mistakes import get_mistake
from autodiff.cli import build_parser, main


def run(capsys, *argv):
    status = main(["check", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_default_is_the_worksheet_network(capsys):
    status, out, _ = run(capsys)
    assert status == 0
    assert "network 1-6-7-2, logistic, float64, batch 100" in out
    assert out.count(" pass") == 6


def test_planted_mistake_exits_one_and_names_the_layer(capsys):
    status, out, _ = run(capsys, "--plant", "missing-transpose", "--activation", "tanh")
    assert status == 1
    assert "FAIL: the manual gradient is wrong in W1, b1, W2, b2; first wrong layer: 2" in out


def test_json_output(capsys):
    status, out, _ = run(capsys, "--json", "--sizes", "2,5,3", "--batch", "7",
                         "--dtype", "float32")
    data = json.loads(out)
    assert status == 0 and data["passed"] is True
    assert data["sizes"] == [2, 5, 3] and data["batch"] == 7 and data["dtype"] == "float32"
    assert [b["block"] for b in data["blocks"]] == ["W1", "b1", "W2", "b2"]


def test_random_sweep_reports_throughput(capsys):
    status, out, _ = run(capsys, "--random", "40", "--baseline", "--naive-sample", "1",
                         "--seed", "3")
    assert status == 0
    assert "40 random networks checked" in out
    assert "networks/s" in out and "speedup" in out and "PASS" in out


def test_random_sweep_with_a_planted_mistake_fails_with_a_reproduction(capsys):
    status, out, _ = run(capsys, "--random", "20", "--plant", "sign",
                         "--json")
    data = json.loads(out)
    assert status == 1 and data["failed"] == 20
    reproduce = data["failures"][0]["reproduce"]
    assert "get_mistake('sign', act)" in reproduce
    namespace: dict = {}
    exec(reproduce.replace("print(", "result = (").replace(".table())", ")"), namespace)
    assert not namespace["result"].passed
    # The first few failures are located: a sign slip is wrong from the output layer down.
    located = [(f["first_wrong_layer"], f["case"]) for f in data["failures"][:5]]
    for layer, case in located:
        assert layer == len(eval(case, {"NetworkCase": NetworkCase}).sizes) - 1, case
    assert all(f["first_wrong_layer"] is None for f in data["failures"][5:])


def test_an_mnist_sized_network_is_checked_and_a_planted_mistake_named(capsys):
    # Issue 13: the third opinion once built an identity over all parameters (75 GiB here).
    status, out, _ = run(capsys, "--sizes", "784,128,10", "--batch", "32", "--json",
                         "--plant", "dropped-sigma-prime")
    data = json.loads(out)
    assert status == 1 and data["first_wrong_layer"] == 2
    w1 = data["blocks"][0]
    assert w1["status"] == "fail" and w1["third_opinion_probe"]["directions"] == 16
    assert w1["third_opinion_probe"]["manual_excess"] > 1  # the probes alone see it too
    assert [b["third_opinion_probe"] is None for b in data["blocks"]] == [False, True, True, True]


def test_a_fully_saturated_network_is_inconclusive_with_its_own_exit_status(capsys):
    status, out, _ = run(capsys, "--scale", "60", "--json")
    data = json.loads(out)
    assert status == 4 and data["verdict"] == "inconclusive" and data["inconclusive"] is True
    status, out, _ = run(capsys, "--scale", "60")
    assert status == 4 and "INCONCLUSIVE" in out
    assert run(capsys, "--scale", "0.5")[0] == 0


def test_no_oracle_skips_the_third_opinion(capsys):
    status, out, _ = run(capsys, "--no-oracle", "--json")
    data = json.loads(out)
    assert status == 0
    assert all(b["third_opinion"] is None and b["third_opinion_probe"] is None
               for b in data["blocks"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sizes", "1,x"], "argument --sizes: expected layer widths n_in,…,n_out"),
        (["--batch", "0"], "argument --batch: expected a positive integer"),
        (["--seed", "-1"], "argument --seed: expected a non-negative integer such as 0, got '-1'"),
        (["--random", "5", "--sizes", "1,2"], "--random draws its own sizes"),
        (["--random", "5", "--scale", "2"], "drop --scale"),
        (["--scale", "-1"], "argument --scale: expected a positive number like 0.5, got '-1'"),
        (["--plant", "nope"], "argument --plant: invalid choice"),
        (["--random", "1000000000000"], "argument --random: expected at most 100,000,000"),
        (["--probes", "0"], "argument --probes: expected a positive integer"),
        # a million directions once ran for minutes before anything was printed
        (["--probes", "1000000"], "argument --probes: expected at most 4,096"),
        (["--random", "100,000,001"], "argument --random: expected at most 100,000,000"),
        (["--random", "5,0"], "argument --random: expected a positive integer such as 1000, "
                              "got '5,0'"),
        (["--batch", "x"], "argument --batch: expected a positive integer such as 32, got 'x'"),
        (["--probes", "0"], "expected a positive integer such as 16, got '0'"),
        (["--third-opinion", "always", "--no-oracle"], "--no-oracle skips the third opinion"),
        (["--third-opinion", "auto", "--random", "3"], "a single network check, not --random"),
        (["--third-opinion", "always", "--layer", "relu"], "--third-opinion: options of the "
                                                          "network check"),
        (["--third-opinion", "always", "--hvp"], "drop --third-opinion"),
    ],
)
def test_bad_usage_exits_two_with_one_line(capsys, argv, message):
    try:
        status, _, err = run(capsys, *argv)
    except SystemExit as exit_:  # argparse's own errors
        status, err = exit_.code, capsys.readouterr().err
    assert status == 2
    assert message in err
    assert "Traceback" not in err


def test_third_opinion_always_runs_it_on_blocks_auto_leaves_without(capsys):
    # 24-16-2: W1 (384 elements) is probed, or skipped by auto where manual and jax.grad
    # agree far inside the bound; always runs it on every block.
    argv = ["--sizes", "24,16,2", "--json"]
    auto = json.loads(run(capsys, *argv)[1])
    always = json.loads(run(capsys, *argv, "--third-opinion", "always")[1])
    covered = [b["third_opinion"] is not None or b["third_opinion_probe"] is not None
               for b in always["blocks"]]
    assert all(covered)
    assert not all(b["third_opinion"] is not None or b["third_opinion_probe"] is not None
                   for b in auto["blocks"])


def test_counts_are_read_as_the_help_writes_them():
    args = build_parser().parse_args(["check", "--random", "100,000,000", "--probes", "1,024"])
    assert (args.random, args.probes) == (100_000_000, 1024)
    assert build_parser().parse_args(["check", "--random", "1_000"]).random == 1000


class Stop(Exception):
    """Raised by a manual to end a sweep at its first check."""


def test_random_cases_are_drawn_as_they_are_checked(monkeypatch):
    # `--random 1000000000000` once drew every case before checking the first (7.5 GB, silent).
    drawn = []
    real_random_case = sweep.random_case

    def counted(*args, **kwargs):
        drawn.append(1)
        return real_random_case(*args, **kwargs)

    def stop(params, x, y):
        raise Stop

    monkeypatch.setattr(sweep, "random_case", counted)
    with pytest.raises(Stop):
        sweep.run_sweep(100_000, naive_sample=0, chunk=8, manual_for=lambda act: stop)
    # One activation's chunk filled; the other holds fewer than a chunk.
    assert 8 <= len(drawn) < 16


def test_ctrl_c_in_a_sweep_says_how_far_it_got(capsys, monkeypatch):
    real_check_one, calls = sweep.check_one, []

    def interrupt_at_the_fifth(*args, **kwargs):  # Ctrl-C while checking network 5
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_check_one(*args, **kwargs)

    monkeypatch.setattr(sweep, "check_one", interrupt_at_the_fifth)
    status, out, err = run(capsys, "--random", "1,000")
    assert status == 130 and out == ""
    assert "backprop check: interrupted after 4 of 1,000 networks (0 failed)" in err


def test_the_sweep_shows_progress_on_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    status, _, err = run(capsys, "--random", "20")
    assert status == 0
    assert "/20" in err and "net/s" in err  # tqdm's bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert run(capsys, "--random", "20")[2] == ""


def test_failures_are_counted_but_only_the_first_few_kept(monkeypatch):
    monkeypatch.setattr(sweep, "KEPT", 3)
    result = sweep.run_sweep(12, naive_sample=0, manual_for=lambda act: get_mistake("sign", act))
    assert result.failed == 12 and len(result.failures) == 3 and not result.passed
    assert result.to_dict()["failed"] == 12
    assert "FAIL: 12 networks disagree" in result.report()


@pytest.mark.parametrize("n", [0, sweep.MAX_NETWORKS + 1, 2.5, True])
def test_an_absurd_sweep_is_refused_by_the_library_too(n):
    with pytest.raises(ValueError, match=r"n: expected a number of networks from 1 to "):
        sweep.run_sweep(n)


def test_every_option_is_described_in_the_help():
    # Issue 13, item 12: `check --dtype` had no description.
    parser = build_parser()
    check = next(action for action in parser._actions if action.dest == "command").choices[
        "check"]
    undescribed = [action.option_strings for action in check._actions
                   if action.option_strings and not action.help]
    assert undescribed == []
    assert "exit status: 0 the gradients agree" in check.format_help()


def test_the_eager_baseline_is_timed_only_when_asked_for(capsys, monkeypatch):
    from autodiff.check import sweep

    timed = []
    monkeypatch.setattr(sweep, "naive_eager_seconds", lambda cases: timed.append(cases) or 1.0)
    status, out, _ = run(capsys, "--random", "20")
    assert status == 0 and timed == [] and "naive eager" not in out
    status, out, _ = run(capsys, "--random", "20", "--baseline")
    assert status == 0 and len(timed[0]) == 3 and "naive eager jax.grad" in out
    assert main(["check", "--random", "20", "--naive-sample", "2"]) == 2
    assert "--naive-sample 2: applies with --baseline" in capsys.readouterr().err
