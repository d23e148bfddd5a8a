"""benchmarks/gpu_variants.py, the GPU formulation benchmark, run on the CPU at a tiny K before
anyone spends GPU time on it: every variant's float64 step is the textbook step (and a planted
slip is caught), one variant failing does not stop the others, the JSON has the table's rows."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jax.numpy as jnp
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_variants.py"


@pytest.fixture(scope="module")
def variants():
    spec = importlib.util.spec_from_file_location("gpu_variants", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["step/examples-minor", "step/unrolled-dot",
                                  "noise-in-step/unrolled", "chunk/networks-last"])
def test_a_variant_takes_the_textbook_step_and_a_slip_is_caught(variants, name, monkeypatch):
    advance, _ = variants.variants(("networks-last", "unrolled"))[name]
    assert variants.textbook_gap(advance) < 1e-13

    class Slipped(variants.ExamplesMinor):  # the bias gradient summed over all but 1 example
        @staticmethod
        def gradient(delta, a):
            return jnp.concatenate([jnp.sum(delta[:, None] * a[None], axis=3),
                                    jnp.sum(delta[..., 1:], axis=2)[:, None]], axis=1)

    monkeypatch.setitem(variants.ALL_LAYOUTS, "slipped", Slipped)
    slipped, _ = variants.step_variant("slipped", False)
    assert variants.textbook_gap(slipped) > 1e-6


def test_the_table_and_json_keep_going_past_a_failing_variant(variants, tmp_path, capsys,
                                                             monkeypatch):
    def broken(*args):
        raise RuntimeError("planted")

    found = variants.variants(("unrolled",))
    monkeypatch.setattr(variants, "variants", lambda layouts: {
        "step/broken": (found["step/unrolled"][0], broken),
        "step/unrolled": found["step/unrolled"]})
    out = tmp_path / "rows.json"
    assert variants.main(["--device", "cpu", "--k", "8", "--iterations", "2", "--repeats", "1",
                          "--train-iterations", "0", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert rows[0]["error"] == "RuntimeError: planted"
    good = rows[1]
    assert good["variant"] == "step/unrolled" and good["f64_gap"] < 1e-13
    assert good["kernels"] > 0 and good["ms_per_step"] <= good["ms_per_step_median"]
    table = capsys.readouterr().out.splitlines()
    assert table[-1].startswith("step/unrolled") and "error: RuntimeError: planted" in table[-2]
