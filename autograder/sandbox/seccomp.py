"""A seccomp-BPF filter, built in raw BPF: the system calls student code may not make.

The program is built once (in the sandbox worker, before it forks) for the
running architecture; a child patches its own pid into it with
:meth:`Filter.for_process` and installs it with :meth:`Filter.install`.  What it
refuses, with ``EPERM`` unless said otherwise:

- creating processes or threads, executing programs (``clone3``: ``ENOSYS``, so
  that the C library falls back to ``clone``, which is refused);
- reaching another process: signals, ``prlimit``, scheduling and pid queries
  whose pid argument is neither 0 nor the caller; ptrace, pidfds, process_vm;
- sockets of any family (network, Unix, netlink), io_uring (it could open them);
- namespaces, mounts, keys, BPF, perf, userfaultfd, modules, reboot, clocks;
- identity changes; metadata changes Landlock does not cover (chmod, chown,
  times, extended attributes); inotify/fanotify; SysV IPC and POSIX message
  queues (kernel objects that outlive the process); ``memfd_create``, ``mknod``;
- any other architecture's calls (the process is killed), and the x32 ABI.

Only the standard library: the worker loads this module.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

# Architectures: (audit arch, first number to refuse as a whole (x32 on x86_64), system call numbers).
# Numbers from /usr/include/x86_64-linux-gnu/asm/unistd_64.h and asm-generic/unistd.h (aarch64), checked
# by tests/test_isolation_unit.py where those headers are installed; 452 and later are shared by all.
COMMON = {"fchmodat2": 452, "setxattrat": 463, "removexattrat": 466}
X86_64 = {
    "socket": 41, "socketpair": 53, "kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129,
    "rt_tgsigqueueinfo": 297, "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438, "ptrace": 101,
    "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "prlimit64": 302, "setpriority": 141,
    "getpriority": 140, "sched_setaffinity": 203, "sched_getaffinity": 204, "sched_setscheduler": 144,
    "sched_getscheduler": 145, "sched_setparam": 142, "sched_getparam": 143, "sched_rr_get_interval": 148,
    "sched_setattr": 314, "sched_getattr": 315, "ioprio_set": 251, "ioprio_get": 252, "migrate_pages": 256,
    "move_pages": 279, "getpgid": 121, "getsid": 124, "setpgid": 109, "get_robust_list": 274, "capget": 125,
    "capset": 126, "process_madvise": 440, "process_mrelease": 448, "execve": 59, "execveat": 322, "fork": 57,
    "vfork": 58, "clone": 56, "clone3": 435, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166,
    "pivot_root": 155, "chroot": 161, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "move_mount": 429, "open_tree": 428, "mount_setattr": 442, "bpf": 321, "perf_event_open": 298,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 250,
    "add_key": 248, "request_key": 249, "memfd_create": 319, "memfd_secret": 447, "mknod": 133, "mknodat": 259,
    "open_by_handle_at": 304, "name_to_handle_at": 303, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320, "reboot": 169, "swapon": 167, "swapoff": 168,
    "acct": 163, "quotactl": 179, "quotactl_fd": 443, "syslog": 103, "iopl": 172, "ioperm": 173, "shmget": 29,
    "shmat": 30, "shmdt": 67, "shmctl": 31, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "semget": 64,
    "semop": 65, "semtimedop": 220, "semctl": 66, "mq_open": 240, "mq_unlink": 241, "mq_timedsend": 242,
    "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245, "personality": 135, "setuid": 105,
    "setgid": 106, "setreuid": 113, "setregid": 114, "setresuid": 117, "setresgid": 119, "setfsuid": 122,
    "setfsgid": 123, "setgroups": 116, "chmod": 90, "fchmod": 91, "fchmodat": 268, "chown": 92, "fchown": 93,
    "fchownat": 260, "lchown": 94, "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280,
    "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197, "lremovexattr": 198,
    "fremovexattr": 199, "inotify_init": 253, "inotify_init1": 294, "inotify_add_watch": 254,
    "fanotify_init": 300, "fanotify_mark": 301, "lookup_dcookie": 212, "uselib": 134, "vhangup": 153,
    "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305, **COMMON,
}
AARCH64 = {
    "socket": 198, "socketpair": 199, "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138,
    "rt_tgsigqueueinfo": 240, "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438, "ptrace": 117,
    "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272, "prlimit64": 261, "setpriority": 140,
    "getpriority": 141, "sched_setaffinity": 122, "sched_getaffinity": 123, "sched_setscheduler": 119,
    "sched_getscheduler": 120, "sched_setparam": 118, "sched_getparam": 121, "sched_rr_get_interval": 127,
    "sched_setattr": 274, "sched_getattr": 275, "ioprio_set": 30, "ioprio_get": 31, "migrate_pages": 238,
    "move_pages": 239, "getpgid": 155, "getsid": 156, "setpgid": 154, "get_robust_list": 100, "capget": 90,
    "capset": 91, "process_madvise": 440, "process_mrelease": 448, "execve": 221, "execveat": 281, "clone": 220,
    "clone3": 435, "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428,
    "mount_setattr": 442, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 219, "add_key": 217, "request_key": 218,
    "memfd_create": 279, "memfd_secret": 447, "mknodat": 33, "open_by_handle_at": 265, "name_to_handle_at": 264,
    "init_module": 105, "finit_module": 273, "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294,
    "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89, "quotactl": 60, "quotactl_fd": 443, "syslog": 116,
    "shmget": 194, "shmat": 196, "shmdt": 197, "shmctl": 195, "msgget": 186, "msgsnd": 189, "msgrcv": 188,
    "msgctl": 187, "semget": 190, "semop": 193, "semtimedop": 192, "semctl": 191, "mq_open": 180,
    "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183, "mq_notify": 184, "mq_getsetattr": 185,
    "personality": 92, "setuid": 146, "setgid": 144, "setreuid": 145, "setregid": 143, "setresuid": 147,
    "setresgid": 149, "setfsuid": 151, "setfsgid": 152, "setgroups": 159, "fchmod": 52, "fchmodat": 53,
    "fchown": 55, "fchownat": 54, "utimensat": 88, "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7,
    "removexattr": 14, "lremovexattr": 15, "fremovexattr": 16, "inotify_init1": 26, "inotify_add_watch": 27,
    "fanotify_init": 262, "fanotify_mark": 263, "lookup_dcookie": 18, "vhangup": 58, "settimeofday": 170,
    "clock_settime": 112, "adjtimex": 171, "clock_adjtime": 266, **COMMON,
}
ARCHITECTURES = {"x86_64": (0xC000003E, 0x40000000, X86_64), "aarch64": (0xC00000B7, None, AARCH64)}

# Calls whose first argument is a pid: allowed for 0 (the caller) and the caller's own pid, refused otherwise.
OWN_PID_ONLY = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "prlimit64",
                "sched_setaffinity", "sched_getaffinity", "sched_setparam", "sched_getparam", "sched_setscheduler",
                "sched_getscheduler", "sched_rr_get_interval", "sched_setattr", "sched_getattr", "getpgid",
                "getsid", "setpgid", "migrate_pages", "move_pages", "get_robust_list")
NOT_IMPLEMENTED = ("clone3",)  # ENOSYS: the C library then falls back to clone, which is refused

# BPF, from linux/filter.h and linux/seccomp.h.
LD_W_ABS, JEQ_K, JGE_K, RET_K = 0x20, 0x15, 0x35, 0x06
RET_KILL_PROCESS, RET_ERRNO, RET_ALLOW = 0x80000000, 0x00050000, 0x7FFF0000
NR_OFFSET, ARCH_OFFSET, ARG0_LOW_OFFSET = 0, 4, 16  # struct seccomp_data (little-endian)
PR_SET_NO_NEW_PRIVS, PR_GET_SECCOMP, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 21, 22, 2
INSTRUCTION = struct.Struct("<HBBI")
OWN_PID_PLACEHOLDER = 0xFFFFFFFF

_libc = ctypes.CDLL(None, use_errno=True)


class SeccompError(OSError):
    """seccomp is missing, or the architecture is not one the filter knows."""


class _Program(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def available() -> bool:
    """Whether this kernel lets a process install a seccomp filter (and the architecture is known)."""
    return platform.machine() in ARCHITECTURES and _libc.prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0


class Filter:
    """The compiled program, with the places where a child's own pid goes."""

    def __init__(self, machine: str | None = None) -> None:
        machine = machine or platform.machine()
        if machine not in ARCHITECTURES:
            raise SeccompError(errno.ENOSYS, f"no seccomp filter for the {machine} architecture")
        audit_arch, first_refused, numbers = ARCHITECTURES[machine]
        code: list[tuple[int, int, int, int]] = [
            (LD_W_ABS, 0, 0, ARCH_OFFSET), (JEQ_K, 1, 0, audit_arch), (RET_K, 0, 0, RET_KILL_PROCESS),
            (LD_W_ABS, 0, 0, NR_OFFSET)]
        if first_refused is not None:
            code += [(JGE_K, 0, 1, first_refused), (RET_K, 0, 0, RET_ERRNO | errno.EPERM)]
        self.pid_slots: list[int] = []
        for name, number in sorted(numbers.items(), key=lambda item: item[1]):
            if name in OWN_PID_ONLY:
                self.pid_slots.append(len(code) + 3)
                code += [(JEQ_K, 0, 5, number), (LD_W_ABS, 0, 0, ARG0_LOW_OFFSET), (JEQ_K, 2, 0, 0),
                         (JEQ_K, 1, 0, OWN_PID_PLACEHOLDER), (RET_K, 0, 0, RET_ERRNO | errno.EPERM),
                         (RET_K, 0, 0, RET_ALLOW)]
            else:
                error = errno.ENOSYS if name in NOT_IMPLEMENTED else errno.EPERM
                code += [(JEQ_K, 0, 1, number), (RET_K, 0, 0, RET_ERRNO | error)]
        code.append((RET_K, 0, 0, RET_ALLOW))
        self.code = b"".join(INSTRUCTION.pack(*instruction) for instruction in code)

    def for_process(self, pid: int) -> bytes:
        """The program with ``pid`` as the one process the pid-taking calls may name (besides 0)."""
        program = bytearray(self.code)
        for slot in self.pid_slots:
            struct.pack_into("<I", program, slot * INSTRUCTION.size + 4, pid)
        return bytes(program)

    @staticmethod
    def install(program: bytes) -> None:
        """Load ``program`` into the calling thread (irreversible; after :func:`set_no_new_privileges`)."""
        buffer = ctypes.create_string_buffer(program, len(program))
        header = _Program(len(program) // INSTRUCTION.size, ctypes.addressof(buffer))
        if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(header), 0, 0) != 0:
            _raise("install the seccomp filter")


def set_no_new_privileges() -> None:
    """From now on no exec can grant privileges (setuid files, file capabilities); needed by seccomp and Landlock."""
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        _raise("set no-new-privileges")


def _raise(action: str) -> None:
    number = ctypes.get_errno()
    raise SeccompError(number, f"could not {action}: {errno.errorcode.get(number, number)}")
