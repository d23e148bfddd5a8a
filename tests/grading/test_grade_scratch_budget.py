"""The weak sandbox's scratch (a folder of the host's ``/tmp``, no tmpfs) is held to the full
sandbox's budget, judged by the damage prevented: the folder of a submission that writes
16 MiB files in a loop, sampled from here while it is graded, never holds more than the
budget plus what one process writes between two of the keeper's looks; the folder is gone
after; the verdict names the scratch. And no false alarm: correct code, and correct code
that fills most of the budget, pass in the weak sandbox."""

from __future__ import annotations

import contextlib
import os
import shutil
import textwrap
import threading
from pathlib import Path

import pytest

from autodiff.grading.confinement.isolation import probe
from autodiff.grading.confinement.zygote_client import Limits, Zygote
from autodiff.grading.session import Options, Session

ZOO = Path(__file__).resolve().parents[1] / "submissions"
OPTIONS = Options(examples=3, seed=11, call_timeout=5.0, total_timeout=60.0)
BUDGET = Limits().scratch_bytes
# What one process may write past the budget before the keeper's next look (README, "What
# protects the teacher"): a few 16 MiB files at the page cache's speed in one period and
# one look, with a wide margin for a loaded machine. Without the keeper it writes 512 MiB.
OVERSHOOT = 96 << 20


@pytest.fixture(scope="module")
def weak():
    with Zygote() as zygote:
        isolation = probe(zygote, strong=False)
    assert not isolation.strong
    return isolation


def _held(folder: str) -> tuple[int, bool]:
    """Bytes allocated beneath ``folder`` (0 once it is gone), and whether it holds a file
    of fill_scratch.py's (other tests on this machine have scratch folders too)."""
    total, ours = 0, False
    for parent, _, files in os.walk(folder):
        for name in files:
            ours = ours or name.startswith(("fill-", "empty-"))
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(parent, name)).st_blocks * 512
    return total, ours


def test_a_submission_cannot_fill_the_hosts_tmp(weak, tmp_path):
    """fill_scratch.py writes 16 MiB files in a loop (J_W3), or deletes each one and keeps it
    open (J_b3) or mapped (J_b2), invisible to a listing, or makes 5000 empty files (J_W2);
    every scratch folder it gets is sampled during the grading (one sandbox at a time, so
    the largest folder is what the host held)."""
    path = tmp_path / "fill_scratch.py"
    shutil.copy(ZOO / "hostile" / "fill_scratch.py", path)
    peak, seen, done = [0], set(), threading.Event()

    def sample():
        while not done.wait(0.002):
            for entry in os.scandir("/tmp"):
                if entry.name.startswith("backprop-scratch-"):
                    held, ours = _held(entry.path)
                    if ours:
                        seen.add(entry.path)
                        peak[0] = max(peak[0], held)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with Session(OPTIONS, isolation=weak) as session:
            report = session.grade(path)
    finally:
        done.set()
        sampler.join()
    assert seen, "no scratch folder of fill_scratch.py's was seen"
    assert peak[0] <= BUDGET + OVERSHOOT, f"the scratch held {peak[0] >> 20} MiB"
    assert [folder for folder in seen if os.path.exists(folder)] == []
    results = {r.name: r for r in report.functions}
    for name in ("J_W3", "J_b3", "J_b2", "J_W2"):
        failure = results[name].failure
        assert failure.kind == "crash", (name, failure.kind, failure.reason)
        assert "scratch folder grew past 16 MiB or 256 entries" in failure.reason, (
            name, failure.reason)


NEAR_BUDGET = textwrap.dedent("""
    import os, tempfile

    _worksheet_J_W3 = J_W3
    # The whole budget, kept while it runs: one file at the 16 MiB cap, beside small ones.
    with open(os.path.join(tempfile.gettempdir(), "cache.bin"), "wb") as _handle:
        _handle.write(bytes(16 << 20))


    def J_W3(x, y):
        # Besides: 48 small files and a folder on every call, then removed.
        with tempfile.TemporaryDirectory() as folder:
            for index in range(48):
                with open(os.path.join(folder, f"part{index}"), "wb") as handle:
                    handle.write(os.urandom(1 << 12))
            np.save(os.path.join(folder, "x.npy"), x)
            return _worksheet_J_W3(x, y)
    """)


@pytest.mark.parametrize("name", ["correct_worksheet.py", "correct_loops.py",
                                  "correct_notebook.ipynb", "near_budget.py"])
def test_correct_code_passes_in_the_weak_sandbox(weak, name, tmp_path):
    """No false alarm: the correct zoo, and the worksheet's solution that keeps a 16 MiB file
    in its scratch and writes 49 small ones on every call, pass."""
    if name == "near_budget.py":
        path = tmp_path / name
        path.write_text((ZOO / "correct_worksheet.py").read_text() + NEAR_BUDGET)
    else:
        path = tmp_path / name
        shutil.copy(ZOO / name, path)
    with Session(OPTIONS, isolation=weak) as session:
        report = session.grade(path)
    assert all(r.passed for r in report.functions), {
        r.name: r.failure.reason for r in report.functions if not r.passed}
