"""Which protections hold on this machine: probed, reported, and required.

``probe`` forks one empty sandbox and reads the protections its child reports once it has
confined itself. ``strongest`` asks for full isolation (namespaces, Landlock as far as this
kernel offers it, seccomp, limits) and refuses to go on without it (``SandboxUnavailable``)
unless weaker isolation was accepted, in which case it probes without namespaces. Without a
PID namespace only Landlock's signal scoping (ABI 6) keeps the kernel itself from delivering
a submission's signals to the teacher's processes; below it, the weak sandbox is refused
too unless that was accepted as well (the seccomp filter then stands alone). The
``Isolation`` goes into every report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from autodiff.grading.confinement import confine, protocol
from autodiff.grading.confinement.channel import Channel, Lost
from autodiff.grading.confinement.zygote_client import SandboxUnavailable, Zygote


@dataclass(frozen=True)
class Isolation:
    """The protections that held in a probe sandbox; ``strong``: with namespaces."""

    strong: bool
    bits: int
    landlock_abi: int
    missing: tuple[str, ...] = field(default=())
    cgroup: bool = False  # a cgroup v2 was delegated: each sandbox gets one

    @property
    def held(self) -> list[str]:
        return confine.held(self.bits)

    def to_json(self) -> dict:
        return {"full": not self.missing, "namespaces": self.strong,
                "landlock_abi": self.landlock_abi, "cgroup": self.cgroup, "held": self.held,
                "missing": list(self.missing)}


def probe(zygote: Zygote, strong: bool, timeout: float = 30.0) -> Isolation:
    """Fork an empty sandbox and read which protections held in it."""
    channel = Channel(zygote, strong)
    try:
        kind, payload = channel.receive({protocol.READY, protocol.SETUP_FAILED},
                                        time.monotonic() + timeout)
    except Lost as lost:
        raise SandboxUnavailable(
            f"a probe sandbox was lost ({lost.status} {lost.message})") from None
    finally:
        channel.close()
    if kind == protocol.SETUP_FAILED:
        raise SandboxUnavailable(protocol.read_text(payload))
    bits, abi = protocol.read_ready(payload)
    offered = zygote.cgroup_parent is not None
    missing = confine.missing(bits, abi, offered)
    if not strong and not bits & confine.BITS["landlock_signals"] and (
            "landlock_signals" not in missing):
        missing.append("landlock_signals")  # without a PID namespace, nothing else scopes them
    return Isolation(strong, bits, abi, tuple(missing), offered)


def strongest(zygote: Zygote, allow_weak: bool,
              allow_unscoped_signals: bool = False) -> Isolation:
    """The strongest isolation this machine gives; ``SandboxUnavailable`` when it lacks a
    protection it should offer and ``allow_weak`` is False, or when only the weak sandbox
    is left, its signals are not scoped and ``allow_unscoped_signals`` is False."""
    try:
        strong = probe(zygote, strong=True)
    except SandboxUnavailable as error:
        strong, reason = None, f"namespaces unavailable ({error})"
    else:
        if not strong.missing:
            return strong
        reason = "missing " + ", ".join(strong.missing)
    if not allow_weak:
        raise SandboxUnavailable(
            f"refusing to run untrusted code: this machine cannot confine it fully ({reason}); "
            "--allow-weak-sandbox grades with the protections that remain")
    # With namespaces, whatever else is missing, is still stronger than without them.
    if strong is not None:
        return strong
    weak = probe(zygote, strong=False)
    if not weak.bits & confine.BITS["landlock_signals"] and not allow_unscoped_signals:
        raise SandboxUnavailable(
            f"refusing to run untrusted code in the weak sandbox: {reason}, and Landlock "
            f"(ABI {weak.landlock_abi} here; scoping needs ABI 6) does not keep a submission's "
            "signals from the teacher's processes, only the seccomp filter would; "
            "--allow-unscoped-signals accepts that")
    return weak
