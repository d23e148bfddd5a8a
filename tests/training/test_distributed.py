"""The sharded ensemble: four forced host devices and two processes on localhost give the
single-device result member by member. Subprocesses, bounded by timeouts, so nothing hangs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from autodiff.training.distributed import initialize_from_env
from autodiff.training.ensemble import train_ensemble

TIMEOUT = 120
MEMBERS, ITERATIONS = 4, 100
# float64 members computed with differently batched dots: rounding, ~1e-13 relative.
RTOL = 1e-9

FORCED_DEVICES_SCRIPT = f"""
import json, numpy as np, jax
from autodiff.training.distributed import Sharded
from autodiff.training.ensemble import train_ensemble
run = lambda seeds, place: train_ensemble((1, 6, 7, 2), {ITERATIONS}, seeds, dtype="float64",
                                          chunk=64, place=place).final_costs.tolist()
sharded = Sharded()
spread = len(sharded.shard(np.zeros((8, 1))).sharding.device_set)
try:
    sharded.shard(np.zeros((6, 1))); uneven = ""
except ValueError as error:
    uneven = str(error)
print(json.dumps({{"devices": jax.device_count(), "spread": spread, "uneven": uneven,
                  "sharded": run(range(8), sharded), "single": run(range(8), None),
                  "shifted": run(range(1, 9), None)}}))
"""


def python(code_or_args, env_extra):
    # CPU devices only, also on a machine with a GPU (whose devices jax.devices() would list)
    env = {**os.environ, "JAX_PLATFORMS": "cpu", **env_extra}
    return subprocess.Popen([sys.executable, *code_or_args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def last_json(text: str) -> dict:
    """The JSON line of a child's stdout (gloo may print its own lines there too)."""
    return json.loads([line for line in text.splitlines() if line.startswith("{")][-1])


def finish(process) -> str:
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("a distributed child ran past its timeout")
    assert process.returncode == 0, err[-2000:]
    return out


def test_four_forced_host_devices_give_the_single_device_result():
    child = python(["-c", FORCED_DEVICES_SCRIPT],
                   {"XLA_FLAGS": "--xla_force_host_platform_device_count=4"})
    report = last_json(finish(child))
    assert report["devices"] == 4 and report["spread"] == 4
    assert "6 members do not split evenly over 4 devices" in report["uneven"]
    np.testing.assert_allclose(report["sharded"], report["single"], rtol=RTOL)
    # the comparison can fail: other members' results are far outside the tolerance
    assert not np.allclose(report["sharded"], report["shifted"], rtol=RTOL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_processes_on_localhost_agree_with_one():
    port = free_port()
    children = [
        python(["-m", "autodiff.training.distributed", "--members", str(MEMBERS), "--iterations",
                str(ITERATIONS), "--dtype", "float64", "--all"],
               {"BACKPROP_COORDINATOR": f"127.0.0.1:{port}", "BACKPROP_NUM_PROCESSES": "2",
                "BACKPROP_PROCESS_ID": str(rank), "BACKPROP_INIT_TIMEOUT": "60",
                "XLA_FLAGS": ""})
        for rank in range(2)]
    try:
        reports = [last_json(finish(child)) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    expected = train_ensemble((1, 6, 7, 2), ITERATIONS, range(MEMBERS), dtype="float64",
                              chunk=250).final_costs
    assert sorted(r["process"] for r in reports) == [0, 1]
    for report in reports:
        assert report["processes"] == 2 and report["devices"] == 2
        np.testing.assert_allclose(report["final_costs"], expected, rtol=RTOL)


@pytest.mark.parametrize(("environ", "match"), [
    ({"BACKPROP_COORDINATOR": "localhost"}, "host:port"),
    ({"BACKPROP_COORDINATOR": "h:1", "BACKPROP_NUM_PROCESSES": "two",
      "BACKPROP_PROCESS_ID": "0"}, "BACKPROP_NUM_PROCESSES"),
    ({"BACKPROP_COORDINATOR": "h:1", "BACKPROP_NUM_PROCESSES": "2",
      "BACKPROP_PROCESS_ID": "2"}, "BACKPROP_PROCESS_ID"),
])
def test_bad_environment_is_named_before_anything_starts(environ, match):
    with pytest.raises(ValueError, match=match):
        initialize_from_env(environ)


def test_no_coordinator_means_a_single_process():
    assert initialize_from_env({}) is False


def test_a_fresh_process_gets_one_cpu_device_per_core_and_splits_even_ensembles():
    code = ("import json, os; from autodiff.training.distributed import use_every_cpu_core, "
            "cpu_placement; n = use_every_cpu_core(); print(json.dumps({'devices': n, "
            "'cores': os.cpu_count(), 'even': cpu_placement(2 * n) is not None, "
            "'odd': cpu_placement(2 * n + 1) is not None}))")
    report = last_json(finish(python(["-c", code], {"XLA_FLAGS": ""})))
    assert report["devices"] == report["cores"]
    assert report["even"] is (report["cores"] > 1) and report["odd"] is False


def test_once_jax_runs_the_cpu_devices_stay_as_they_are():
    import jax

    from autodiff.training.distributed import use_every_cpu_core

    jax.numpy.zeros(1).block_until_ready()  # the backends are up
    assert use_every_cpu_core() == len(jax.devices("cpu"))
