"""Landlock, the kernel's unprivileged file-system (and network, signal) sandbox, through raw syscalls.

A :class:`Ruleset` handles every access right the running kernel's ABI knows,
so whatever is not allowed by a rule is denied; rules are added once (in the
sandbox worker) and :meth:`Ruleset.restrict_self` is the only call a forked
child makes.  Only the standard library: the worker loads this module.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import stat
import struct
from pathlib import Path

CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446  # the same on every architecture (asm-generic)
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1

# File-system rights, by the ABI that introduced them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2  # ABI 6
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the only rights a rule on a file may name
READ_ONLY = EXECUTE | READ_FILE | READ_DIR
FIRST_FREE_FD = 10

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


class LandlockError(OSError):
    """Landlock is missing, disabled, or refused a rule."""


def abi_version() -> int:
    """The running kernel's Landlock ABI (0: not available, e.g. disabled at boot or blocked by seccomp)."""
    version = _syscall(CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(0, int(version))


def handled_rights(abi: int) -> tuple[int, int, int]:
    """What a ruleset of this ABI can handle: (file-system rights, network rights, scopes)."""
    fs = FS_RIGHTS_BY_ABI.get(abi, FS_RIGHTS_BY_ABI[5]) if abi > 0 else 0
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    return fs, net, scoped


class Ruleset:
    """A ruleset denying everything the ABI knows, except what :meth:`allow` adds."""

    def __init__(self, abi: int) -> None:
        if abi < 1:
            raise LandlockError(0, "Landlock is not available in this kernel")
        self.abi = abi
        self.fs, net, scoped = handled_rights(abi)
        fields = [self.fs] + ([net] if abi >= 4 else []) + ([scoped] if abi >= 6 else [])
        attr = ctypes.create_string_buffer(struct.pack(f"<{len(fields)}Q", *fields), 8 * len(fields))
        fd = _check(_syscall(CREATE_RULESET, attr, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0)),
                    "create a Landlock ruleset")
        self.fd = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, FIRST_FREE_FD)  # out of the way of dup2 onto 0..3
        os.close(fd)

    def allow(self, path: str | Path, rights: int = READ_ONLY) -> None:
        """Allow ``rights`` (masked to what the ABI handles, and to file rights on a file) beneath ``path``."""
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            allowed = rights & self.fs & (~0 if stat.S_ISDIR(os.fstat(fd).st_mode) else FILE_RIGHTS)
            rule = ctypes.create_string_buffer(struct.pack("<Qi", allowed, fd), 12)
            _check(_syscall(ADD_RULE, ctypes.c_int(self.fd), ctypes.c_int(RULE_PATH_BENEATH), rule,
                            ctypes.c_uint32(0)), f"add a Landlock rule for {path}")
        finally:
            os.close(fd)

    def restrict_self(self) -> None:
        """Confine the calling process (irreversibly; needs no-new-privileges or CAP_SYS_ADMIN)."""
        _check(_syscall(RESTRICT_SELF, ctypes.c_int(self.fd), ctypes.c_uint32(0)), "enforce the Landlock ruleset")

    def move_fd(self, lowest: int) -> None:
        """Give the ruleset a descriptor numbered ``lowest`` or above (close-on-exec, as before)."""
        moved = fcntl.fcntl(self.fd, fcntl.F_DUPFD_CLOEXEC, lowest)
        os.close(self.fd)
        self.fd = moved

    def close(self) -> None:
        os.close(self.fd)


def _check(result: int, action: str) -> int:
    if result < 0:
        number = ctypes.get_errno()
        raise LandlockError(number, f"could not {action}: {os.strerror(number)}")
    return int(result)
