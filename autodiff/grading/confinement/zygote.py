"""The zygote: a clean process with NumPy imported that forks one fresh sandbox per request.

Started by the grader (``zygote_client.Zygote``) as ``python -I -S zygote.py CONTROL_FD`` with
an empty environment; its command line, which every sandbox inherits, names nothing of the
grader's (the grader's pid comes with the configuration, on the control socket). It never
runs a submission's code itself, so every sandbox is a fork of a process no student has
touched, and none pays NumPy's import again. Requests come as JSON messages on the control
socket:

* ``{"op": "spawn", "strong": bool}``: fork a sandbox (``confine.py``: the keeper, the PID
  namespace's init, the child that serves the submission), in a cgroup of its own where one
  was delegated (``cgroup.py``), answer its keeper's pid with the grader's ends of its two
  pipes attached; in the weak sandbox the keeper also holds the scratch folder to its
  budget (``scratch_guard.py``);
* ``{"op": "end", "pid", "grace"}``: wait up to ``grace`` seconds for that sandbox to end, then
  kill its process group, and answer its exit status (``128 + n`` when the submission's
  process died of signal ``n``).

Standard library and NumPy only, and no import of this project: the modules it needs are
loaded from this folder by their paths.
"""

import contextlib
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_backprop_{name}", f"{HERE}/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _mapped_library_folders():
    """The folders of the shared libraries this process has loaded (NumPy's BLAS, libffi …)."""
    folders = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split(maxsplit=5)[-1].strip()
            if path.startswith("/") and ".so" in os.path.basename(path):
                folders.add(os.path.dirname(path))
    return sorted(folders)


def allowed_around(read_only, hidden):
    """``(readable, listable)``: ``read_only`` with every folder that holds a ``hidden`` path
    replaced by its entries, recursively, the hidden ones left out; and those folders, whose
    names may still be listed (Python's importer lists a folder before it imports from it).
    Landlock allows whole trees: this allows reading all of ``read_only`` except the files
    beneath ``hidden`` (the folder of libpython holds the standard library, which holds the
    interpreter's own site-packages)."""
    hidden = [os.path.normpath(path) for path in hidden]

    def holds(folder):
        return any(path.startswith(folder.rstrip("/") + "/") for path in hidden)

    readable, listable, todo = [], [], [os.path.normpath(path) for path in read_only]
    while todo:
        path = todo.pop()
        if path in hidden:
            continue
        if os.path.isdir(path) and not os.path.islink(path) and holds(path):
            listable.append(path)
            with os.scandir(path) as entries:
                todo += [entry.path for entry in entries]
        else:
            readable.append(path)
    return sorted(set(readable)), sorted(set(listable))


class Zygote:
    def __init__(self, control, config, modules):
        self.control, self.config = control, config
        (self.confine, self.landlock, self.seccomp, self.protocol, self.worker,
         self.cgroup, self.scratch_guard) = modules
        self.read_only = sorted({*config["read_only"], *_mapped_library_folders()})
        # Landlock allows whole trees: a folder holding a hidden one is allowed child by child.
        self.landlock_read = allowed_around(self.read_only, config["hidden"])
        self.mountpoint = _mountpoint()
        self.children: dict[int, str | None] = {}  # keeper pid -> its scratch on the host
        self.finished: dict[int, int] = {}  # keeper pid -> wait status, until ``end``
        self.cgroups: dict[int, str | None] = {}  # keeper pid -> its sandbox's cgroup
        self.leftover_cgroups: list[str] = []  # busy when their sandbox ended: again at exit
        self.spawned = 0
        # A sandbox's standard streams: never the zygote's own stderr, which every sandbox
        # would share (a channel from one submission to the next).
        self.devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)

    def serve(self):
        try:
            while True:
                message = self.control.recv(1 << 16)
                if not message:
                    return
                request = json.loads(message)
                if request["op"] == "spawn":
                    self.spawn(request["strong"])
                elif request["op"] == "end":
                    self.control.send(json.dumps(
                        {"status": self.end(request["pid"], request["grace"])}).encode())
                self.reap()
        finally:
            for pid in list(self.children):
                self.end(pid, 0)
            for path in self.leftover_cgroups:
                self.cgroup.remove(path)

    def spawn(self, strong):
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        # Without a mount namespace the scratch is a folder of the host's: made and removed
        # here, since a keeper may be killed before it could remove it.
        scratch = None if strong else tempfile.mkdtemp(prefix="backprop-scratch-")
        group = self._new_cgroup()
        zygote = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(request_write)
                os.close(reply_read)
                self.control.close()
                for fd in (0, 1, 2):
                    os.dup2(self.devnull, fd)
                os.close(self.devnull)
                self.keeper(request_read, reply_write, strong, zygote, scratch, group)
            except BaseException as error:
                message = self.protocol.text(f"{type(error).__name__}: {error}")
                os.write(reply_write, self.protocol.frame(self.protocol.SETUP_FAILED, message))
            finally:
                os._exit(70)
        os.close(request_read)
        os.close(reply_write)
        self.children[pid], self.cgroups[pid] = scratch, group
        socket.send_fds(self.control, [json.dumps({"pid": pid}).encode()],
                        [request_write, reply_read])
        os.close(request_write)
        os.close(reply_read)

    def end(self, pid, grace):
        if pid not in self.children:
            return None
        status = self.finished.pop(pid, None)
        stop = time.monotonic() + grace
        while status is None:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            status = None
            if time.monotonic() >= stop:
                # The keeper leads the sandbox's process group; while it is not reaped, no
                # other group can have its number.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
            else:
                time.sleep(0.001)
        scratch, group = self.children.pop(pid), self.cgroups.pop(pid)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        if group is not None and not self.cgroup.remove(group):
            self.leftover_cgroups.append(group)
        return os.waitstatus_to_exitcode(status)

    def _new_cgroup(self):
        """A fresh cgroup for the next sandbox, where one was delegated; None otherwise, or
        when it could not be made (the keeper then refuses to start)."""
        parent = self.config["cgroup_parent"]
        if parent is None:
            return None
        self.spawned += 1
        limits = self.config["limits"]
        try:
            return self.cgroup.create(parent, f"backprop-{os.getpid()}-{self.spawned}",
                                      limits["memory"], limits["tasks"])
        except OSError:
            return None

    def reap(self):
        """Reap the keepers that ended, keeping their status for ``end``."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:  # every keeper ended; ``end`` has not been asked yet
                return
            if pid == 0:
                return
            if pid in self.children:
                self.finished[pid] = status

    # The three processes of a sandbox.

    def keeper(self, request_fd, reply_fd, strong, zygote, scratch, group):
        confine, config = self.confine, self.config
        confine.set_parent_death_signal()
        if os.getppid() != zygote:
            os._exit(1)
        os.setsid()  # the sandbox's own process group, led by this keeper
        bits = 0
        if config["cgroup_parent"] is not None:
            if group is None:
                raise OSError(f"could not make a cgroup in {config['cgroup_parent']}")
            self.cgroup.join(group)  # before the namespaces: the cgroup one is rooted here
            bits |= confine.BITS["memory_cgroup"]
        if strong:
            bits |= confine.enter_namespaces()
            bits |= confine.build_view(self.mountpoint, self.read_only, config["hidden"],
                                       config["scratch_bytes"], config["scratch_entries"])
            scratch = confine.SCRATCH
        lifeline_read, lifeline_write = os.pipe()
        init = os.fork()
        if init == 0:
            os.close(lifeline_write)
            self.init(request_fd, reply_fd, lifeline_read, strong, scratch, bits)
        os.close(request_fd)
        os.close(reply_fd)
        os.close(lifeline_read)
        if strong:  # the tmpfs holds the scratch to its budget
            _, status = os.waitpid(init, 0)
        else:
            status = self.scratch_guard.watch(init, scratch, config["scratch_bytes"],
                                              config["scratch_entries"])
            if status is None:
                signal.signal(self.scratch_guard.SIGNAL, signal.SIG_DFL)
                os.kill(os.getpid(), self.scratch_guard.SIGNAL)
        os._exit(os.waitstatus_to_exitcode(status) % 256)

    def init(self, request_fd, reply_fd, lifeline, strong, scratch, bits):
        """PID 1 of the sandbox's namespace (outside one: a subreaper) and the submission's
        parent; it only reaps, and passes on how the submission's process ended."""
        self.confine.set_parent_death_signal()
        if select.select([lifeline], [], [], 0)[0]:
            os._exit(1)  # the keeper is already gone
        if not strong:
            self.confine.become_subreaper()
        child = os.fork()
        if child == 0:
            os.close(lifeline)
            self.child(request_fd, reply_fd, strong, scratch, bits)
        os.close(request_fd)
        os.close(reply_fd)
        code = 1
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if pid == child:
                code = status >> 8 if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
                for orphan in _children():
                    os.kill(orphan, signal.SIGKILL)
        os._exit(code)

    def child(self, request_fd, reply_fd, strong, scratch, bits):
        confine, config = self.confine, self.config
        bits |= confine.clean_environment(scratch)
        os.chdir(scratch)
        bits |= confine.set_limits(config["limits"], count_tasks=strong)
        bits |= confine.drop_privileges()
        abi = self.landlock.abi_version()
        if abi:
            enforced = self.landlock.restrict(*self.landlock_read, [scratch])
            bits |= confine.BITS["landlock_filesystem"]
            bits |= confine.BITS["landlock_network"] if enforced["network"] else 0
            bits |= confine.BITS["landlock_signals"] if enforced["signals"] else 0
        if self.seccomp.supported():
            self.seccomp.install(strong)
            bits |= confine.BITS["seccomp"]
        self.worker.serve(self.protocol, request_fd, reply_fd, config["output_cap"], bits, abi)
        os._exit(0)


def _mountpoint():
    """An empty folder to mount each sandbox's root on (in its own mount namespace, so one
    serves them all): the same one for every run of this user, so a zygote killed before
    it could clean up leaves nothing new behind; a fresh one if that name is not safely ours."""
    path = os.path.join(tempfile.gettempdir(), f"backprop-sandbox-{os.getuid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        status = os.lstat(path)
        if not (stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid()
                and not status.st_mode & 0o077 and not os.listdir(path)):
            path = tempfile.mkdtemp(prefix="backprop-sandbox-")
    return path


def _children():
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as listing:
            return [int(pid) for pid in listing.read().split()]
    except OSError:
        return []


def main(control_fd):
    control = socket.socket(fileno=control_fd)
    config = json.loads(control.recv(1 << 20))
    parent_pid = config["parent_pid"]
    sys.path.insert(0, config["numpy_parent"])
    import numpy  # noqa: F401  (imported once here, inherited by every sandbox)
    sys.path.remove(config["numpy_parent"])
    modules = [_load(name) for name in ("confine", "landlock", "seccomp", "protocol", "worker",
                                        "cgroup", "scratch_guard")]
    modules[0].set_parent_death_signal()
    if os.getppid() != parent_pid:
        return
    zygote = Zygote(control, config, modules)
    control.send(json.dumps({"pid": os.getpid(), "threads": len(os.listdir("/proc/self/task")),
                             "read_only": zygote.read_only}).encode())
    zygote.serve()


if __name__ == "__main__":
    main(int(sys.argv[1]))
