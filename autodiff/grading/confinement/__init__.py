"""The sandbox a submission runs in, and the only road between it and the grader.

``sandbox.Sandbox`` is the grader's handle on one confined child: ``zygote_client`` starts the
zygote (``zygote.py``, a clean process with NumPy imported that forks one fresh child per
submission), ``confine``, ``landlock``, ``seccomp`` and ``cgroup`` are the kernel's mechanisms
the sandbox is put under (``scratch_guard`` watches the scratch where no tmpfs can hold it),
``isolation`` probes which of them this machine offers and reports
them, and ``worker`` is the child's own side. ``protocol`` (frames, arrays, results) and
``channel`` (bounded reads with deadlines) are all that crosses. The zygote loads
``confine``, ``landlock``, ``seccomp``, ``cgroup``, ``scratch_guard``, ``protocol`` and
``worker`` by path from this folder, without the project on its path: those seven import
nothing of the project."""
