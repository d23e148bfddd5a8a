# ruff: noqa
# Leave processes behind (double fork and setsid, a program started with a marker in its
# command line), fork-bomb, start threads without end, and signal other processes: the
# grader's parent, every process (-1), a process of the teacher's.
# expect J_W3: raised
# expect J_b3: raised
# expect J_W2: raised
# expect J_b2: raised
# expect J_W1: raised
# expect J_b1: raised
import os
import signal
import subprocess
import threading
import time

import numpy as np


def J_W3(x, y):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["@@MARKER@@", "600"])  # the marker as its name
        os._exit(0)
    return np.zeros((2, 7))


def J_b3(x, y):
    while True:
        os.fork()


def J_W2(x, y):
    subprocess.Popen(["@@MARKER@@", "600"], executable="/bin/sleep", start_new_session=True)
    return np.zeros((7, 6))


def J_b2(x, y):
    while True:
        threading.Thread(target=time.sleep, args=(600,), daemon=True).start()


def J_W1(x, y):
    errors = []
    for pid, sig in ((os.getppid(), signal.SIGSTOP), (1, signal.SIGKILL), (-1, signal.SIGKILL),
                     (0, signal.SIGSTOP)):
        try:
            os.kill(pid, sig)
        except OSError as error:
            errors.append(error)
    raise RuntimeError(f"signals refused: {errors}")


def J_b1(x, y):
    os.kill(int("@@TEACHER_PID@@"), signal.SIGSTOP)
    return np.zeros((6, 1))
