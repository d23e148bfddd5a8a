"""A teacher's machine in a temporary folder, for the hostile zoo's tests.

``Arena`` makes copies of what a submission must not touch: a home with a secret key and a
canary file, a shared folder, honest classmates' submissions carrying a secret; it sets a
secret environment variable, opens a loopback listener, starts a process of the teacher's,
and renders the zoo's templates into the class folder with those paths, the port, the pid
and a marker. Its detectors say what actually happened: ``snapshot`` (every file's digest),
``stray_files``, ``processes_with(marker)``, ``teacher_process_state``, the listener's
``contacts`` and ``package_digest``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import numpy as np

import autodiff
from autodiff.grading.loader import support_source

ZOO = Path(__file__).parent / "submissions"
PACKAGE_FOLDERS = [Path(autodiff.__file__).parent, Path(autodiff.__file__).parents[1] / "reference"]
ENV_NAME = "BACKPROP_TEST_TOKEN"


class Listener:
    """A TCP and a UDP socket on one loopback port; ``contacts`` lists what reached them."""

    def __init__(self):
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.contacts: list = []
        for target in (self._accept, self._receive):
            threading.Thread(target=target, daemon=True).start()

    def _accept(self):
        with contextlib.suppress(OSError):
            while True:
                connection, address = self.tcp.accept()
                self.contacts.append(("tcp", address))
                connection.close()

    def _receive(self):
        with contextlib.suppress(OSError):
            while True:
                self.contacts.append(("udp", self.udp.recvfrom(1 << 16)))

    def close(self):
        for sock in (self.tcp, self.udp):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Arena:
    """See the module docstring; ``only`` limits the templates rendered. A context manager."""

    def __init__(self, root: Path, templates: Path, only=None):
        self.root, self.marker = root, "bpmark" + uuid.uuid4().hex[:12]
        self.secrets = [f"sk-{kind}-{uuid.uuid4().hex}" for kind in ("file", "env", "classmate")]
        self.home, self.shared, self.klass = root / "home", root / "shared", root / "class"
        for folder in (self.home / ".ssh", self.shared, self.klass):
            folder.mkdir(parents=True)
        (self.home / ".ssh" / "id_rsa").write_text(
            f"-----BEGIN OPENSSH PRIVATE KEY-----\n{self.secrets[0]}\n")
        (self.home / "canary.txt").write_text("the teacher's notes\n")
        (self.shared / "canary.txt").write_text("a shared file\n")
        self.classmates = ["classmate_worksheet.py", "classmate_mean.py"]
        for name, original in zip(self.classmates, ("correct_worksheet.py", "correct_mean.py"),
                                  strict=True):
            text = (ZOO / original).read_text() + f"\n# {self.secrets[2]}\n"
            (self.klass / name).write_text(text)
        self.listener = Listener()
        self.teacher = subprocess.Popen(["sleep", "300"])
        values = {"SECRET_FILE": self.home / ".ssh" / "id_rsa",
                  "HOME_CANARY": self.home / "canary.txt",
                  "SHARED_CANARY": self.shared / "canary.txt",
                  "CLASSMATE": self.klass / self.classmates[0], "CLASS_DIR": self.klass,
                  "SECRET_ENV_NAME": ENV_NAME, "PORT": self.listener.port,
                  "MARKER": self.marker, "TEACHER_PID": self.teacher.pid,
                  "JUDGE_PY": PACKAGE_FOLDERS[0] / "grading" / "judge.py"}
        for template in sorted(templates.glob("*.py")):
            if only is None or template.name in only:
                text = template.read_text()
                for key, value in values.items():
                    text = text.replace(f"@@{key}@@", str(value))
                assert "@@" not in text, template
                (self.klass / template.name).write_text(text)
        self._saved: dict = {}

    def __enter__(self) -> Arena:
        self._saved = {key: os.environ.get(key) for key in (ENV_NAME, "HOME")}
        os.environ[ENV_NAME], os.environ["HOME"] = self.secrets[1], str(self.home)
        return self

    def __exit__(self, *exc) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self.listener.close()
        self.kill_leftovers()
        with contextlib.suppress(ProcessLookupError):
            self.teacher.send_signal(signal.SIGCONT)
        self.teacher.kill()
        self.teacher.wait()

    @property
    def submissions(self) -> list[Path]:
        return sorted(self.klass.iterdir())

    def snapshot(self) -> dict[str, str]:
        """Every file and folder under the arena, with its contents' digest."""
        state = {}
        for path in sorted(self.root.rglob("*")):
            key = str(path.relative_to(self.root))
            state[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "/"
        return state

    def stray_files(self) -> list[str]:
        """Files named with the marker where a submission might have dropped them."""
        folders = [Path("/tmp"), Path("/dev/shm"), Path(np.__file__).parents[1]]
        return [str(path) for folder in folders if folder.is_dir()
                for path in folder.glob(f"{self.marker}*")]

    def teacher_process_state(self) -> str:
        """The state letter of the teacher's process (``S`` sleeping, ``T`` stopped …)."""
        stat = Path(f"/proc/{self.teacher.pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0]

    def run_unconfined(self, calls) -> str:
        """Call ``(file, function)`` pairs in a plain Python process: no sandbox at all."""
        lines = [support_source(), "reset_network()", "x, y = training_data()"]
        for filename, function in calls:
            lines.append(f"exec(open({str(self.klass / filename)!r}).read())")
            lines.append(f"try:\n    {function}(x, y)\nexcept BaseException as error:\n"
                         f"    print(repr(error))")
        # Output to a file, not a pipe: a process the attack leaves would hold a pipe open.
        output = self.root / "unconfined.txt"
        with open(output, "w") as handle:
            subprocess.run([sys.executable, "-c", "\n".join(lines)], stdout=handle,
                           stderr=subprocess.STDOUT, timeout=60, cwd=self.root)
        text = output.read_text()
        output.unlink()
        return text

    def kill_leftovers(self) -> None:
        for pid in processes_with(self.marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for path in self.stray_files():
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.remove(path)


def processes_with(marker: str) -> list[int]:
    """The processes whose command line or name holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + (entry / "comm").read_bytes()
        except OSError:
            continue
        if marker.encode() in text:
            found.append(int(entry.name))
    return found


def package_digest() -> str:
    """One digest of the installed package's files and of site-packages' listing."""
    digest = hashlib.sha256()
    for folder in PACKAGE_FOLDERS:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path).encode() + path.read_bytes())
    for path in sorted(Path(np.__file__).parents[1].iterdir()):
        digest.update(path.name.encode())
    return digest.hexdigest()
