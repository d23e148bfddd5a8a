"""A seccomp filter: the system calls a submission may never make, refused by the kernel.

NumPy arithmetic needs memory, files it may already read and the clock; a submission never
needs to start a process or a program, open a socket, trace or signal another process, leave
its session, mount, change namespaces, load kernel code or make memory outside its address
space (``memfd_create``). ``install()`` refuses those calls with ``EPERM`` for the calling
process and its threads, for ever. Threads stay allowed (``clone`` with ``CLONE_THREAD``);
``clone3``, whose flags a filter cannot read, answers ``ENOSYS`` so that the C library falls
back to ``clone``.
Signals may go only to the caller's own process. A call made under another architecture's
numbering (x32, a 32-bit personality) ends the process.

Standard library only (``ctypes``), loaded by the sandbox's child. The numbers are the
kernel's for x86_64 and aarch64 (``asm/unistd_64.h``, ``asm-generic/unistd.h``); on another
machine ``supported()`` is False and the report says seccomp did not hold.
"""

import ctypes
import errno
import os
import platform
import struct

# Each architecture's own numbers, then those shared by every architecture since Linux 5.1.
_DENIED_X86_64 = dict(
    socket=41, socketpair=53, ptrace=101, process_vm_readv=310, process_vm_writev=311,
    mount=165, umount2=166, pivot_root=155, chroot=161, unshare=272, setns=308, keyctl=250,
    add_key=248, request_key=249, bpf=321, perf_event_open=298, userfaultfd=323,
    kexec_load=246, kexec_file_load=320, init_module=175, finit_module=313, delete_module=176,
    reboot=169, swapon=167, swapoff=168, acct=163, syslog=103, open_by_handle_at=304,
    name_to_handle_at=303, memfd_create=319, execve=59, execveat=322, fork=57, vfork=58,
    personality=135, clock_settime=227, clock_adjtime=305, settimeofday=164, adjtimex=159,
    sethostname=170, setdomainname=171, vhangup=153, mknod=133,
    mknodat=259, fanotify_init=300, quotactl=179, kcmp=312, tkill=200, iopl=172, ioperm=173,
    lookup_dcookie=212, uselib=134, setsid=112, setpgid=109)
_DENIED_AARCH64 = dict(
    socket=198, socketpair=199, ptrace=117, process_vm_readv=270, process_vm_writev=271,
    mount=40, umount2=39, pivot_root=41, chroot=51, unshare=97, setns=268, keyctl=219,
    add_key=217, request_key=218, bpf=280, perf_event_open=241, userfaultfd=282,
    kexec_load=104, kexec_file_load=294, init_module=105, finit_module=273, delete_module=106,
    reboot=142, swapon=224, swapoff=225, acct=89, syslog=116, open_by_handle_at=265,
    name_to_handle_at=264, memfd_create=279, execve=221, execveat=281, personality=92,
    clock_settime=112, clock_adjtime=266, settimeofday=170, adjtimex=171, sethostname=161,
    setdomainname=162, vhangup=58, mknodat=33, fanotify_init=262,
    quotactl=60, kcmp=272, tkill=130, lookup_dcookie=18, setsid=157, setpgid=154)
_DENIED_COMMON = dict(
    pidfd_send_signal=424, io_uring_setup=425, io_uring_enter=426, io_uring_register=427,
    open_tree=428, move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433,
    pidfd_open=434, pidfd_getfd=438, process_madvise=440, mount_setattr=442, quotactl_fd=443,
    memfd_secret=447)
CLONE3 = 435
# arch: (AUDIT_ARCH, denied, clone, calls whose first argument is the target process).
ARCHITECTURES = {
    "x86_64": (0xC000003E, {**_DENIED_X86_64, **_DENIED_COMMON}, 56,
               dict(kill=62, tgkill=234, rt_sigqueueinfo=129, rt_tgsigqueueinfo=297)),
    "aarch64": (0xC00000B7, {**_DENIED_AARCH64, **_DENIED_COMMON}, 220,
                dict(kill=129, tgkill=131, rt_sigqueueinfo=138, rt_tgsigqueueinfo=240)),
}
X32_BIT = 0x40000000
CLONE_THREAD = 0x00010000

LD_ABS_W, JEQ, JSET, JGE, RET = 0x20, 0x15, 0x45, 0x35, 0x06
RET_KILL_PROCESS, RET_ERRNO, RET_ALLOW = 0x80000000, 0x00050000, 0x7FFF0000
NR_OFFSET, ARCH_OFFSET, ARG0_LOW_OFFSET = 0, 4, 16
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def supported() -> bool:
    return platform.machine() in ARCHITECTURES


def program(machine: str, own_pid: int) -> list[tuple[int, int, int, int]]:
    """The filter as BPF instructions ``(code, jump_true, jump_false, k)``."""
    audit_arch, denied, clone, signalling = ARCHITECTURES[machine]
    # Labels resolve to the instruction index of each return block, appended at the end.
    code: list = [(LD_ABS_W, 0, 0, ARCH_OFFSET), (JEQ, 0, "kill", audit_arch),
                  (LD_ABS_W, 0, 0, NR_OFFSET)]
    if machine == "x86_64":
        code.append((JGE, "kill", 0, X32_BIT))
    code += [(JEQ, "deny", 0, number) for number in sorted(denied.values())]
    code += [(JEQ, "enosys", 0, CLONE3), (JEQ, "clone", 0, clone)]
    code += [(JEQ, "signal", 0, number) for number in sorted(signalling.values())]
    # Every jump goes forward: the argument checks come first, the returns last.
    blocks = {
        "clone": [(LD_ABS_W, 0, 0, ARG0_LOW_OFFSET), (JSET, "allow", "deny", CLONE_THREAD)],
        # pid_t is 32 bits: the kernel reads only the low half of the argument.
        "signal": [(LD_ABS_W, 0, 0, ARG0_LOW_OFFSET), (JEQ, "allow", "deny", own_pid)],
        "allow": [(RET, 0, 0, RET_ALLOW)],
        "deny": [(RET, 0, 0, RET_ERRNO | errno.EPERM)],
        "enosys": [(RET, 0, 0, RET_ERRNO | errno.ENOSYS)],
        "kill": [(RET, 0, 0, RET_KILL_PROCESS)],
    }
    code.append((RET, 0, 0, RET_ALLOW))  # every other call
    where = {}
    for label, block in blocks.items():
        where[label] = len(code)
        code += block

    def offset(target, index):
        if isinstance(target, int):
            return target
        jump = where[target] - index - 1
        if not 0 <= jump <= 255:
            raise ValueError(f"seccomp program: jump to {target} out of range")
        return jump

    return [(op, offset(jt, i), offset(jf, i), k) for i, (op, jt, jf, k) in enumerate(code)]


def install() -> None:
    """Install the filter on the calling thread (and the threads it starts); raises OSError."""
    machine = platform.machine()
    if machine not in ARCHITECTURES:
        raise OSError(f"no seccomp filter written for {machine}")
    instructions = program(machine, os.getpid())
    raw = b"".join(struct.pack("<HBBI", *instruction) for instruction in instructions)
    filters = ctypes.create_string_buffer(raw, len(raw))

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = Program(len(instructions), ctypes.addressof(filters))
    libc = ctypes.CDLL(None, use_errno=True)
    for args in ((PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
                 (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0)):
        if libc.prctl(*(ctypes.c_ulong(a) for a in args)) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"prctl: {os.strerror(error)}")
