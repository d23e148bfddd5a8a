"""``backprop check --layer NAME --mode jvp|vjp|both``: the forward-mode rule checked, alone or
beside the backward and tied to it; bad combinations are usage errors."""

import json

from autodiff.cli import main


def run(capsys, *argv):
    status = main(["check", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_mode_jvp_checks_only_the_forward_mode_rule(capsys):
    status, out, _ = run(capsys, "--layer", "layernorm", "--mode", "jvp")
    assert status == 0 and "jvp rule layernorm_jvp" in out and "backward" not in out


def test_mode_both_checks_the_rules_and_ties_them(capsys):
    status, out, _ = run(capsys, "--layer", "conv2d", "--mode", "both", "--json")
    result = json.loads(out)
    assert status == 0 and set(result) == {"layer", "check_vjp", "check_jvp", "pair"}
    assert result["pair"]["passed"] and result["check_jvp"]["rule"] == "conv2d_jvp"


def test_a_planted_backward_breaks_the_pair(capsys):
    status, out, _ = run(capsys, "--layer", "dense", "--mode", "both", "--plant",
                         "dense-missing-transpose")
    assert status == 1 and "backward: wrong in x" in out and "jvp rule: agrees" in out


def test_mode_without_a_layer_or_with_a_plant_alone_is_a_usage_error(capsys):
    status, _, err = run(capsys, "--mode", "jvp")
    assert status == 2 and "use it with --layer NAME" in err
    status, _, err = run(capsys, "--layer", "dense", "--mode", "jvp", "--plant",
                         "dense-missing-transpose")
    assert status == 2 and "--mode vjp or both" in err
