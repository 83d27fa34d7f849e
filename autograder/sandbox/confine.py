"""What a sandbox child may do, set up once in the worker and enforced by the kernel in each child.

:class:`Confinement` is built in the worker before any fork: it asks the
kernel what it offers (Landlock ABI, seccomp), builds the Landlock ruleset and
the seccomp program, chooses the uid (as root), and checks the result in a
forked probe child.  :meth:`Confinement.apply` is what each child runs before
student code; after it nothing can be undone.  Policy:

- read-only access to the standard library (each entry but ``site-packages`` /
  ``dist-packages``), numpy (and its bundled libraries) and the child's empty
  working directory; nothing else readable, nothing writable anywhere;
- the seccomp filter of :mod:`.seccomp`; no new privileges;
- as root, a uid of its own per child (no groups, no capabilities);
- resource limits: memory, CPU time, file size (its output), open files,
  processes, core dumps.

With ``enforce=False`` (the ``--no-isolation`` opt-out) only the resource limits
are set.  ``assume_missing`` (test switches) can only take pieces away.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import socket
import sysconfig
from dataclasses import dataclass

import numpy as np

from autograder.sandbox import landlock, seccomp
from autograder.sandbox.messages import Level

NOBODY = 65534
OWN_UID_BASE = 2_000_000_000  # + the child's pid: distinct for children alive at the same time
PACKAGE_FOLDERS = frozenset({"site-packages", "dist-packages"})
PROBE_OK, PROBE_LEAKS = 0, 3
UID_WORDS = {"own": "own uid per child", "nobody": "uid nobody", None: ""}


@dataclass(frozen=True)
class Policy:
    """The folders a child may read, and folders none of them may contain."""

    readable: tuple[str, ...]
    protected: tuple[str, ...]

    def exposed(self) -> list[str]:
        """Protected folders that a readable folder contains (each one is a reason to refuse to confine)."""
        return [kept for kept in self.protected for root in self.readable
                if kept == root or kept.startswith(os.path.join(root, ""))]


def default_policy(workdir: str, protected: list[str]) -> Policy:
    """Standard library entries but third-party packages, numpy and its libraries, the child's working folder."""
    roots: list[str] = []
    for library in dict.fromkeys(os.path.realpath(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib")):
        roots += [os.path.realpath(entry.path) if entry.is_symlink() else entry.path  # where a rule really applies
                  for entry in os.scandir(library) if entry.name not in PACKAGE_FOLDERS]
    numpy_dir = os.path.dirname(os.path.realpath(np.__file__))
    roots += [numpy_dir, *(p for p in (numpy_dir + ".libs", os.path.join(numpy_dir, ".libs")) if os.path.isdir(p))]
    roots.append(os.path.realpath(workdir))
    return Policy(tuple(roots), tuple(os.path.realpath(p) for p in protected))


class Confinement:
    """The prepared pieces (ruleset, filter, uid choice) and the level they reach."""

    def __init__(self, policy: Policy, enforce: bool = True, assume_missing: frozenset[str] = frozenset()) -> None:
        self.ruleset: landlock.Ruleset | None = None
        self.filter: seccomp.Filter | None = None
        self.uid_mode: str | None = None
        self.probe_targets = (*policy.protected[:1], "/proc/self/status")
        if not enforce:
            self.level = Level(False, 0, False, "")
            return
        missing = []
        abi = 0 if "landlock" in assume_missing else landlock.abi_version()
        if abi < 1:
            missing.append("Landlock is not available (it needs Linux 5.13 or newer with Landlock enabled and, in a "
                           "container, a seccomp profile that allows the landlock_* calls)")
        elif exposed := policy.exposed():
            missing.append(f"the readable folders would include {exposed[0]}")
        else:
            self.ruleset = _ruleset(abi, policy.readable)
        if "seccomp" not in assume_missing and seccomp.available():
            self.filter = seccomp.Filter()
        else:
            missing.append("seccomp filters are not available")
        if not missing:
            missing += self._probe()
        self.level = Level(True, abi if self.ruleset else 0, self.filter is not None, UID_WORDS[self.uid_mode],
                           tuple(missing))
        if missing:  # never confine halfway: the grader refuses to grade, or grades NOT ISOLATED
            self.ruleset, self.filter, self.uid_mode = None, None, None

    def move_descriptors(self, lowest: int) -> None:
        """Renumber the descriptors :meth:`apply` needs to ``lowest`` or above (in a child about to renumber its
        own descriptors: theirs must not be overwritten)."""
        if self.ruleset is not None:
            self.ruleset.move_fd(lowest)

    def apply(self, limits: dict) -> None:
        """In a fresh child: limits, then (when enforced) uid, Landlock and seccomp; irreversible."""
        address_space = _current_address_space() + limits["memory_bytes"]
        if self.uid_mode is not None:
            uid = OWN_UID_BASE + os.getpid() if self.uid_mode == "own" else NOBODY
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        caps = {resource.RLIMIT_AS: address_space, resource.RLIMIT_CPU: int(limits["timeout"]) + 2,
                resource.RLIMIT_FSIZE: limits["output_bytes"],
                resource.RLIMIT_NOFILE: 16 + limits.get("descriptors", 0),
                resource.RLIMIT_NPROC: 0, resource.RLIMIT_CORE: 0}
        for which, cap in caps.items():
            resource.setrlimit(which, (cap, cap))
        if self.ruleset is not None and self.filter is not None:
            seccomp.set_no_new_privileges()
            self.ruleset.restrict_self()
            self.filter.install(self.filter.for_process(os.getpid()))

    def _probe(self) -> list[str]:
        """Confine a forked child for real and check from inside that it is confined; choose the uid."""
        # As root the child must leave uid 0: with capabilities (CAP_SYS_RESOURCE, ...) its rlimits would not hold.
        for self.uid_mode in ("own", "nobody") if os.geteuid() == 0 else (None,):
            status = _in_child(self._probe_child)
            if status == PROBE_OK:
                return []
            if status == PROBE_LEAKS:
                return ["a confined test process could still read protected files or open a socket"]
        return ["a test process could not be confined (leaving uid 0, Landlock or seccomp failed)"]

    def _probe_child(self) -> int:
        self.apply({"memory_bytes": 1 << 30, "timeout": 5, "output_bytes": 0})
        leaks = 0
        for target in self.probe_targets:
            with contextlib.suppress(OSError):  # refused (or absent): not a leak
                os.close(os.open(target, os.O_RDONLY))
                leaks += 1
        try:
            socket.socket(socket.AF_UNIX).close()
            leaks += 1
        except OSError as error:
            leaks += error.errno != errno.EPERM
        return PROBE_LEAKS if leaks else PROBE_OK


def _ruleset(abi: int, readable: tuple[str, ...]) -> landlock.Ruleset:
    ruleset = landlock.Ruleset(abi)
    for root in readable:
        ruleset.allow(root, landlock.READ_ONLY)
    return ruleset


def _in_child(body) -> int:
    """Run ``body`` in a forked child; its return value is the exit status (255: it raised)."""
    pid = os.fork()
    if pid == 0:
        code = 255
        try:
            code = body()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _current_address_space() -> int:
    with open("/proc/self/statm", "rb") as statm:  # its first field: the size in pages (cheaper than status)
        return int(statm.read().split()[0]) * resource.getpagesize()
