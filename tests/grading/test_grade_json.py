"""The grader's JSON is JSON: a submission's NaN or infinity is written as null, never as the
bare ``NaN`` that Python's json module emits and strict parsers (JavaScript, Gradescope's
web page, ``jq``) reject."""

from __future__ import annotations

import json
from pathlib import Path

from autodiff.cli import main

ZOO = Path(__file__).resolve().parents[1] / "submissions"


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_a_nan_answer_is_null_in_the_json_report(tmp_path, capsys):
    source = (ZOO / "correct_mean.py").read_text()
    source += ("\n\ndef J_W1(x, y):\n"
               "    (d1, d2, d3), (a0, a1, a2) = _chain(x, y)\n"
               "    out = _weights(d1, a0)\n"
               "    out[0, 0] = np.nan\n"
               "    return out\n")
    submission = tmp_path / "nan.py"
    submission.write_text(source)
    status = main(["grade", str(submission), "--json", "--seed", "1", "--examples", "3",
                   "--only", "J_W1"])
    assert status == 1
    document = _strict(capsys.readouterr().out)
    (function,) = [f for f in document["functions"] if f["name"] == "J_W1"]
    assert function["verdict"] == "FAIL"
    assert function["worst"]["got"] is None and function["worst"]["expected"] is not None
