"""A seccomp filter: the system calls a submission may make, every other one refused.

The list is an allow-list, measured: what the worksheet's NumPy code, the imports it makes
and the child's side of the protocol (``worker.py``) call once the filter is installed, traced
with ``strace -f`` over the correct and misbehaving zoo in both modes, plus what the same code
may reach on other paths of the C library (threads, sleeping, temporary files in the scratch,
``shutil``). To measure it again: grade the zoo under ``strace -f -o FILE`` and list the
calls each process makes after its ``prctl(PR_SET_SECCOMP, …)``, and those of the threads it
starts. Everything else answers ``EPERM``: processes and programs, sockets, ptrace,
mounts and namespaces, SysV IPC (``shmget`` and its family: memory outside every cap that
outlives the process), pipes, kernel modules, io_uring, keys. Some calls are allowed only with
given arguments, read from the call by the filter:

* ``clone`` only with ``CLONE_THREAD`` (threads); ``clone3``, whose flags a filter cannot
  read, answers ``ENOSYS`` so that the C library falls back to ``clone``;
* signals (``kill``, ``tgkill`` …) and ``prlimit64`` only to the caller's own process;
* ``fcntl`` only to duplicate a descriptor or read and set its flags, never ``O_ASYNC`` nor an
  owner or a signal (``F_SETOWN``, ``F_SETSIG``: the kernel would signal that owner for the
  submission); ``ioctl`` only ``isatty``'s and the descriptor-flag requests (never
  ``FIOSETOWN``, ``SIOCSPGRP`` or ``FIOASYNC``); ``prctl`` only to name a thread or mapping.

Without namespaces (the weak sandbox) the filter also refuses changing a file's mode, owner,
times or extended attributes, which Landlock does not cover. A call made under another
architecture's numbering (x32, i386) ends the process.

Standard library only (``ctypes``), loaded by the sandbox's child. The numbers are the
kernel's for x86_64 (``asm/unistd_64.h``), the only machine the list was measured on;
elsewhere ``supported()`` is False, no filter is installed and the report says seccomp did not
hold, so grading is refused unless the teacher accepts weaker isolation.
"""

import ctypes
import errno
import os
import platform
import struct

# Allowed whatever the arguments: memory, reading the files Landlock lets it read, writing
# its scratch, the clock and its own timers, threads' bookkeeping, its own identity and
# limits.
ALLOWED_X86_64 = dict(
    read=0, write=1, open=2, close=3, stat=4, fstat=5, lstat=6, poll=7, lseek=8, mmap=9,
    mprotect=10, munmap=11, brk=12, rt_sigaction=13, rt_sigprocmask=14, rt_sigreturn=15,
    pread64=17, pwrite64=18, readv=19, writev=20, access=21, select=23, sched_yield=24, mremap=25,
    msync=26, madvise=28, dup=32, dup2=33, nanosleep=35, getitimer=36, alarm=37, setitimer=38,
    getpid=39, sendfile=40, exit=60, uname=63, fsync=74, fdatasync=75, truncate=76, ftruncate=77,
    getdents=78, getcwd=79, chdir=80, fchdir=81, rename=82, mkdir=83, rmdir=84, creat=85,
    unlink=87, readlink=89, umask=95, gettimeofday=96, getrlimit=97, getrusage=98, sysinfo=99,
    times=100, getuid=102, getgid=104, geteuid=107, getegid=108, getppid=110, getpgrp=111,
    getgroups=115, getresuid=118, getresgid=120, getpgid=121, getsid=124, sigaltstack=131,
    statfs=137, fstatfs=138, setrlimit=160, gettid=186, time=201, futex=202, sched_getaffinity=204,
    getdents64=217, set_tid_address=218, restart_syscall=219, clock_gettime=228, clock_getres=229,
    clock_nanosleep=230, exit_group=231, openat=257, mkdirat=258, newfstatat=262, unlinkat=263,
    renameat=264, readlinkat=267, faccessat=269, pselect6=270, ppoll=271, set_robust_list=273,
    dup3=292, getcpu=309, renameat2=316, getrandom=318, copy_file_range=326, statx=332, rseq=334,
    close_range=436, openat2=437, faccessat2=439,
    map_shadow_stack=453)  # a new thread's shadow stack, where the C library enables CET
# A file's mode, owner, times and extended attributes: in the scratch only, hence allowed
# only where the mount namespace leaves nothing else writable.
METADATA_X86_64 = dict(
    utime=132, chmod=90, fchmod=91, chown=92, fchown=93, lchown=94, setxattr=188,
    lsetxattr=189, fsetxattr=190, getxattr=191, lgetxattr=192, fgetxattr=193, listxattr=194,
    llistxattr=195, flistxattr=196, removexattr=197, lremovexattr=198, fremovexattr=199,
    utimes=235, fchownat=260, futimesat=261, fchmodat=268, utimensat=280, fchmodat2=452,
    setxattrat=463, getxattrat=464, listxattrat=465, removexattrat=466)
# Allowed with some arguments only (see the module docstring).
SELF_ONLY_X86_64 = dict(kill=62, tgkill=234, rt_sigqueueinfo=129, rt_tgsigqueueinfo=297)
FILTERED_X86_64 = dict(clone=56, fcntl=72, ioctl=16, prctl=157, prlimit64=302)
CLONE3 = 435
AUDIT_ARCH_X86_64 = 0xC000003E
X32_BIT = 0x40000000
CLONE_THREAD = 0x00010000
# fcntl: F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_DUPFD_CLOEXEC; F_SETFL without O_ASYNC.
FCNTL_ALLOWED = (0, 1, 2, 3, 1030)
F_SETFL, O_ASYNC = 4, 0o20000
# ioctl: TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIONCLEX, FIOCLEX.
IOCTL_ALLOWED = (0x5401, 0x5413, 0x541B, 0x5421, 0x5450, 0x5451)
# prctl: PR_SET_NAME, PR_GET_NAME, PR_SET_VMA (names of the caller's own threads, mappings).
PRCTL_ALLOWED = (15, 16, 0x53564D41)

LD_ABS_W, JEQ, JSET, JGE, RET = 0x20, 0x15, 0x45, 0x35, 0x06
RET_KILL_PROCESS, RET_ERRNO, RET_ALLOW = 0x80000000, 0x00050000, 0x7FFF0000
NR_OFFSET, ARCH_OFFSET = 0, 4
# The low 32 bits of argument n (little-endian): every argument read here is an int.
ARG_LOW = {n: 16 + 8 * n for n in range(6)}
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def supported() -> bool:
    return platform.machine() == "x86_64"


def allowed(strong: bool) -> dict[str, int]:
    """The calls allowed whatever their arguments, by name."""
    return {**ALLOWED_X86_64, **(METADATA_X86_64 if strong else {})}


def program(own_pid: int, strong: bool) -> list[tuple[int, int, int, int]]:
    """The filter as BPF instructions ``(code, jump_true, jump_false, k)``; ``strong``: the
    sandbox has its own mount namespace (see the module docstring)."""
    # Labels resolve to the instruction index of each block, appended after the dispatch.
    code: list = [(LD_ABS_W, 0, 0, ARCH_OFFSET), (JEQ, 0, "kill", AUDIT_ARCH_X86_64),
                  (LD_ABS_W, 0, 0, NR_OFFSET), (JGE, "kill", 0, X32_BIT),
                  (JEQ, "enosys", 0, CLONE3)]
    code += [(JEQ, name, 0, number) for name, number in FILTERED_X86_64.items()]
    code += [(JEQ, "self", 0, number) for number in sorted(SELF_ONLY_X86_64.values())]
    code += [(JEQ, "allow", 0, number) for number in sorted(allowed(strong).values())]
    code.append((RET, 0, 0, RET_ERRNO | errno.EPERM))  # every other call

    def one_of(argument, values):
        return [(LD_ABS_W, 0, 0, ARG_LOW[argument]),
                *[(JEQ, "allow", 0, value) for value in values], (RET, 0, 0, RET_ERRNO |
                                                                  errno.EPERM)]

    blocks = {
        "clone": [(LD_ABS_W, 0, 0, ARG_LOW[0]), (JSET, "allow", "deny", CLONE_THREAD)],
        "fcntl": [(LD_ABS_W, 0, 0, ARG_LOW[1]), (JEQ, "setfl", 0, F_SETFL),
                  *one_of(1, FCNTL_ALLOWED)[1:]],
        "setfl": [(LD_ABS_W, 0, 0, ARG_LOW[2]), (JSET, "deny", "allow", O_ASYNC)],
        "ioctl": one_of(1, IOCTL_ALLOWED),
        "prctl": one_of(0, PRCTL_ALLOWED),
        # pid_t is 32 bits: the kernel reads only the low half of the argument.
        "prlimit64": one_of(0, (0, own_pid)),
        "self": one_of(0, (own_pid,)),
        "allow": [(RET, 0, 0, RET_ALLOW)],
        "deny": [(RET, 0, 0, RET_ERRNO | errno.EPERM)],
        "enosys": [(RET, 0, 0, RET_ERRNO | errno.ENOSYS)],
        "kill": [(RET, 0, 0, RET_KILL_PROCESS)],
    }
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


def install(strong: bool) -> None:
    """Install the filter on the calling thread (and the threads it starts); raises OSError."""
    if not supported():
        raise OSError(f"no seccomp filter measured for {platform.machine()}")
    instructions = program(os.getpid(), strong)
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
