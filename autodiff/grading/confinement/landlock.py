"""Landlock, the kernel's unprivileged access control, through its three system calls.

``restrict(read_only, listable, writable)`` limits the calling process and every process it
starts, for ever: files may be read only beneath ``read_only`` paths (folders beneath
``listable`` ones only listed) and written only beneath ``writable`` ones; nothing may be
executed; on ABI 4 and later no TCP port may be bound or connected to; on ABI 6 and later no
signal may reach a process outside the domain, nor an abstract Unix socket be reached. It
needs ``no_new_privs`` (set by the caller).

Standard library only (``ctypes``): the sandbox's child loads this file before it runs a
submission, and must not import the project. The system call numbers are the same on every
architecture since Linux 5.13.
"""

import ctypes
import os
import struct

CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446
VERSION_FLAG = 1
RULE_PATH_BENEATH = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
# REMOVE_DIR … MAKE_SYM (ABI 1), REFER (ABI 2), TRUNCATE (ABI 3), IOCTL_DEV (ABI 5).
ABI_FS_RIGHTS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | (1 << 14) | (1 << 15)
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _syscall(number, *args):
    result = _libc.syscall(number, *args)
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    return result


def abi_version() -> int:
    """The Landlock ABI this kernel offers, 0 when it offers none (or has it disabled)."""
    try:
        return _syscall(CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(VERSION_FLAG))
    except OSError:
        return 0


def _fs_rights(abi: int) -> int:
    return ABI_FS_RIGHTS[max(level for level in ABI_FS_RIGHTS if level <= abi)]


def restrict(read_only, listable, writable) -> dict:
    """Restrict this process as described above (the folders ``listable`` may be listed, and
    so may every folder beneath them, but none of their files read); return what was
    enforced.

    The result is ``{"abi": n, "filesystem": True, "network": bool, "signals": bool}``;
    raises ``OSError`` when the kernel has no Landlock.
    """
    abi = abi_version()
    if abi < 1:
        raise OSError("this kernel offers no Landlock")
    handled_fs = _fs_rights(abi)
    handled_net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = struct.pack("<QQQ", handled_fs, handled_net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    buffer = ctypes.create_string_buffer(attr[:size], size)
    ruleset = _syscall(CREATE_RULESET, buffer, ctypes.c_size_t(size), ctypes.c_uint32(0))
    try:
        for paths, rights in ((read_only, READ_FILE | READ_DIR), (listable, READ_DIR),
                              (writable, handled_fs & ~EXECUTE)):
            for path in paths:
                _allow(ruleset, path, rights)
        _syscall(RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    return {"abi": abi, "filesystem": True, "network": bool(handled_net),
            "signals": bool(scoped)}


def _allow(ruleset: int, path: str, rights: int) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = ctypes.create_string_buffer(struct.pack("<Qi", rights, fd), 12)
        _syscall(ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH), rule,
                 ctypes.c_uint32(0))
    finally:
        os.close(fd)
