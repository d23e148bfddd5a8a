"""``backprop check LAYERS.py``: every NAME_forward/NAME_backward pair of a user's module that
it can build arguments for; exit 0 all pass, 1 a pair is wrong (or raises), 2 the module
cannot be used — in one line, no traceback — and JSON a machine can read."""

import json
from pathlib import Path

import pytest

from autodiff.cli import main

MODULE = Path(__file__).resolve().parents[2] / "layer_examples" / "user_module.py"
PLANTED = {  # the correct line -> the planted mistake
    "    return dout * (cache > 0)\n": "    return dout * (cache < 0)\n",
    "            dx[n, j * size + k] += dout[n, j]\n":
        "            dx[n, j * size + k] += dout[n, j]\n    dx[:, -1] = 0\n",
}


def run(capsys, *argv):
    status = main(["check", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write(tmp_path, text: str, name: str = "layers.py") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_correct_module_passes_every_pair_it_can_build(capsys):
    status, out, err = run(capsys, str(MODULE))
    assert status == 0 and err == ""
    summary = out[out.index(f"{MODULE}: PASS"):]
    for name in ("affine", "relu", "softmax_loss", "max_pool"):
        assert f"== {name} (" in out and f"  {name:<24} pass" in summary
    assert "== softmax_loss (pair style) ==" in out and "== relu (cache style) ==" in out
    assert "relu_dims" not in out and "x    4x7" in out     # relu_dims made D = 7
    assert "dropout                  skipped: no dropout_example() or dropout_shapes" in out


def test_planted_mistakes_exit_one_and_are_named(tmp_path, capsys):
    text = MODULE.read_text()
    for right, wrong in PLANTED.items():
        assert right in text
        text = text.replace(right, wrong)
    status, out, _ = run(capsys, write(tmp_path, text), "--dtype", "float32")
    assert status == 1
    assert "  relu                     fail: wrong in x" in out
    assert "  max_pool                 fail: wrong in x" in out
    assert "  affine                   pass" in out
    assert "wrong only at index 5 (the last) of axis 1" in out


def test_json_output(capsys):
    status, out, _ = run(capsys, str(MODULE), "--json", "--seed", "3")
    data = json.loads(out)
    assert status == 0 and data["passed"] is True and data["module"] == str(MODULE)
    by_name = {pair["name"]: pair for pair in data["pairs"]}
    assert by_name["dropout"]["status"] == "skipped" and by_name["dropout"]["result"] is None
    affine = by_name["affine"]["result"]
    assert by_name["affine"]["style"] == "cache" and affine["dout"] == "random (seed 3)"
    assert [a["argument"] for a in affine["arguments"]] == ["x", "w", "b"]


def test_a_pair_whose_code_raises_fails_with_its_message(tmp_path, capsys):
    text = MODULE.read_text().replace("    return dout * (cache > 0)\n",
                                      "    raise RuntimeError('not written yet')\n")
    status, out, err = run(capsys, write(tmp_path, text))
    assert status == 1 and "Traceback" not in out + err
    assert "  relu                     error: RuntimeError: not written yet" in out


@pytest.mark.parametrize(("text", "message"), [
    ("import numpy as np\nraise ImportError('no such thing')\n",
     "cannot import it: ImportError: no such thing"),
    ("def f(x):\n    return x\n", "no NAME_forward / NAME_backward pair found"),
    ("def a_forward(x):\n    return x\n\ndef a_backward(dout, x):\n    return dout\n",
     "no pair has arguments to check it on: give NAME_example() or NAME_shapes for a"),
])
def test_an_unusable_module_is_a_usage_error(tmp_path, capsys, text, message):
    status, out, err = run(capsys, write(tmp_path, text))
    assert status == 2 and out == ""
    assert err.startswith("backprop check: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file_and_worksheet_options_are_usage_errors(tmp_path, capsys):
    status, _, err = run(capsys, str(tmp_path / "nope.py"))
    assert status == 2 and "nope.py: no such file" in err
    status, _, err = run(capsys, str(MODULE), "--sizes", "2,3")
    assert status == 2 and "--sizes apply to the worksheet network" in err


NAIVE = '''
import numpy as np
from loops import conv_backward_naive, conv_forward_naive, max_pool_backward_naive
from loops import max_pool_forward_naive, relu_forward

def conv_example():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 2, 3, 3)),
            rng.standard_normal(2), {"stride": 1, "pad": 1})

max_pool_naive_example = lambda: (np.arange(32.0).reshape(1, 2, 4, 4) % 7 + 0.5,
                                  {"size": 2, "stride": 2})

def affine_relu_forward(x):  # a forward without its backward
    return relu_forward(x)
'''


def test_cs231n_naive_names_are_paired_and_skipped_pairs_say_why(tmp_path, capsys):
    (tmp_path / "loops.py").write_text((MODULE.parent / "loops.py").read_text())
    status, out, err = run(capsys, write(tmp_path, NAIVE, "cs231n.py"))
    assert status == 0, out + err
    assert "== conv_naive (cache style) ==" in out and "== max_pool_naive (cache style) ==" in out
    assert "  conv_naive               pass" in out and "  max_pool_naive           pass" in out
    assert ("  affine_relu              skipped: affine_relu_forward has no backward (looked "
            "for affine_relu_backward)") in out
    assert "  relu                     skipped: relu_forward has no backward" in out
