"""``backprop check --list-layers | --layer NAME | --stack TEXT`` and layer mistakes for
``--plant``: exit 0 when the hand backward agrees, 1 when not (its layer named), 2 on bad usage
with one line and no traceback."""

import json

import pytest

from autodiff.cli import main
from reference.layers import LAYER_NAMES


def run(capsys, *argv):
    status = main(["check", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_list_layers_prints_one_name_per_line(capsys):
    status, out, _ = run(capsys, "--list-layers")
    assert status == 0 and out.splitlines() == list(LAYER_NAMES)
    assert len(out.splitlines()) >= 19
    status, out, _ = run(capsys, "--list-layers", "--json")
    entries = json.loads(out)
    assert [e["name"] for e in entries] == list(LAYER_NAMES)
    assert all(len(e["mistakes"]) >= 2 and e["layout"] for e in entries)


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_every_layer_passes_its_check(capsys, name):
    status, out, _ = run(capsys, "--layer", name, "--json")
    data = json.loads(out)
    assert status == 0 and data["layer"]["passed"] and data["layer"]["layer"] == name
    assert data["check_vjp"]["passed"]  # the second opinion agrees


def test_a_layer_mistake_fails_alone_and_in_a_stack_with_its_layer_named(capsys):
    status, out, _ = run(capsys, "--plant", "conv2d-unflipped-kernel")
    assert status == 1
    assert "FAIL: conv2d's backward is wrong in dx" in out
    assert "dx: conv2d-unflipped-kernel: dx by the full correlation with w" in out
    assert "FAIL: the backward is wrong in x" in out  # check_vjp's verdict on the same pair
    assert "first wrong layer: layer 3 (conv2d), in dinput" in out


def test_a_conv_stack_is_checked_layer_by_layer(capsys):
    stack = "conv2d(filters=3),relu,maxpool,dense(units=3),softmax_cross_entropy"
    status, out, _ = run(capsys, "--stack", stack, "--dtype", "float32", "--input", "2,2,6,6")
    assert status == 0, out
    assert "stack input (2, 2, 6, 6) → conv2d (2, 3, 6, 6)" in out
    for label in ("layer 6 (softmax_cross_entropy)", "layer 5 (dense)", "layer 4 (flatten)",
                  "layer 3 (maxpool)", "layer 2 (relu)", "layer 1 (conv2d)"):
        assert label in out
    status, out, _ = run(capsys, "--stack", stack, "--input", "2,2,6,6", "--plant",
                         "maxpool-whole-window", "--json")
    data = json.loads(out)
    assert status == 1 and data["first_wrong_layer"] == 3
    assert data["first_wrong_layer_name"] == "maxpool"


@pytest.mark.parametrize(("argv", "message"), [
    (["--stack", "dense,nope"], "stack: unknown layer 'nope'"),
    (["--layer", "dense", "--sizes", "1,2"], "--sizes: options of the network check"),
    (["--layer", "dense", "--stack", "dense"], "--layer and --stack: choose one"),
    (["--stack", "dense", "--plant", "bce-sign"], "the stack has no binary_cross_entropy"),
    (["--layer", "relu", "--plant", "bce-sign"], "is a binary_cross_entropy mistake, not relu"),
    (["--layer", "dense", "--plant", "sign"], "--plant sign is a network mistake"),
    (["--layer", "dense", "--input", "2,3"], "--input sets a stack's input shape"),
    (["--stack", "conv2d", "--input", "2,x"], "argument --input: expected comma-separated"),
    (["--layer", "nope"], "argument --layer: invalid choice: 'nope'"),
])
def test_bad_usage_exits_two_with_one_line(capsys, argv, message):
    try:
        status, _, err = run(capsys, *argv)
    except SystemExit as exit_:  # argparse's own errors
        status, err = exit_.code, capsys.readouterr().err
    assert status == 2
    assert message in err.strip().splitlines()[-1] and "Traceback" not in err
