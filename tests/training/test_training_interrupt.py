"""``backprop train`` on a real terminal: the progress bar shows the cost, and Ctrl-C (SIGINT
to the terminal's foreground process group) stops every engine and still writes the picture.

The command runs in its own session on a fresh pseudo-terminal, which reports a size of 0
columns by 0 rows, as one nobody sized does (tqdm drew nothing at all on those).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

HANG = 180  # seconds after which a run that never answers is a failure, not a slow machine


def read_until(fd: int, process, wanted: bytes, seen: bytearray) -> bool:
    """Read the terminal into ``seen`` until ``wanted`` appears (True) or the process ends
    or HANG passes (False)."""
    give_up = time.monotonic() + HANG
    while wanted not in seen and time.monotonic() < give_up:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the other end closed: the process is gone
                return wanted in seen
        elif process.poll() is not None:
            return wanted in seen
    return wanted in seen


@pytest.mark.parametrize("options", [
    ["--engine", "seed"], ["--engine", "numpy"], ["--engine", "jax"],
    ["--ensemble", "4"], ["--ensemble", "2", "--shard"]],
    ids=["seed", "numpy", "jax", "ensemble", "sharded"])
def test_ctrl_c_on_a_terminal_stops_every_engine_and_writes_the_picture(tmp_path, options):
    picture = tmp_path / "so-far.png"
    leader, follower = os.openpty()
    env = {**os.environ, "MPLBACKEND": "Agg", "BACKPROP_COMPILE_CACHE": "off"}
    process = subprocess.Popen(
        [sys.executable, "-m", "autodiff", "train", "--iterations", "1,000,000,000",
         "--output", str(picture), *options],
        stdin=follower, stdout=follower, stderr=follower, start_new_session=True, env=env)
    os.close(follower)
    seen = bytearray()
    try:
        # The bar with a cost: at least one chunk has run, on a terminal of size 0 x 0.
        assert read_until(leader, process, b"cost=", seen), bytes(seen[-2000:])
        os.killpg(process.pid, signal.SIGINT)
        read_until(leader, process, b"picture of the network so far", seen)
        status = process.wait(timeout=HANG)
        read_until(leader, process, b"\n", seen)  # the rest of the line, if any
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    text = bytes(seen).decode(errors="replace")
    assert status == 130, text[-2000:]
    assert "interrupted after " in text and " of 1000000000 iterations" in text, text[-2000:]
    assert "Traceback" not in text
    assert picture.stat().st_size > 0
