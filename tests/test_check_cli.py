"""``backprop check``: exit 0 when gradients agree, 1 when they disagree, 2 on bad usage —
with a one-line error and no traceback — and JSON that a machine can read."""

import json

import pytest

from autodiff.check.cases import NetworkCase
from autodiff.cli import main


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
    status, out, _ = run(capsys, "--random", "40", "--naive-sample", "1", "--seed", "3")
    assert status == 0
    assert "40 random networks checked" in out
    assert "networks/s" in out and "speedup" in out and "PASS" in out


def test_random_sweep_with_a_planted_mistake_fails_with_a_reproduction(capsys):
    status, out, _ = run(capsys, "--random", "20", "--naive-sample", "0", "--plant", "sign",
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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sizes", "1,x"], "argument --sizes: expected comma-separated"),
        (["--batch", "0"], "argument --batch: expected a positive integer"),
        (["--seed", "-1"], "argument --seed: expected a non-negative integer, got '-1'"),
        (["--random", "5", "--sizes", "1,2"], "--random draws its own sizes"),
        (["--plant", "nope"], "argument --plant: invalid choice"),
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
