"""Unit tests of the kernel confinement pieces: the seccomp-BPF filter, the Landlock ruleset, the policy, the
level the worker reports (fail closed, switches that only lower), and the typed grader-worker messages.

Each confinement test runs in a forked child (confinement is irreversible) and has a control: the same calls
without the filter or ruleset succeed, so the refusals are the filter's and the ruleset's doing.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import resource
import socket
import sysconfig
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import confine, landlock, messages, seccomp
from autograder.sandbox.messages import Ended, Frame, Level, Request, Started
from autograder.sandbox.wire import WireError

HEADERS = {"x86_64": (Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"), r"#define __NR_(\w+)\s+(\d+)"),
           "aarch64": (Path("/usr/include/asm-generic/unistd.h"), r"#define __NR(?:3264)?_(\w+)\s+(\d+)")}


def in_child(body: Callable[[], object]) -> object:
    """Run ``body`` in a forked child and return what it returned (JSON), or raise what went wrong there."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            answer = json.dumps({"value": body()})
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            answer = json.dumps({"error": f"{type(error).__name__}: {error}"})
        os.write(write_fd, answer.encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as stream:
        data = stream.read()
    os.waitpid(pid, 0)
    answer = json.loads(data)
    if "error" in answer:
        raise AssertionError(answer["error"])
    return answer["value"]


def _open(path, mode: str = "r") -> None:
    with open(path, mode):
        pass


def attempt(call: Callable[[], object]) -> object:
    """"ok", or the errno a call failed with."""
    try:
        call()
    except OSError as error:
        return error.errno
    return "ok"


# =========================================================================== seccomp


@pytest.mark.parametrize("machine", list(HEADERS))
def test_system_call_numbers_match_the_kernel_headers(machine):
    header, pattern = HEADERS[machine]
    if not header.exists():
        pytest.skip(f"{header} is not installed")
    defined = {name: int(number) for name, number in re.findall(pattern, header.read_text())}
    table = seccomp.ARCHITECTURES[machine][2]
    known = {name: number for name, number in table.items() if name in defined}
    assert known == {name: defined[name] for name in known}
    assert set(table) - set(known) <= set(seccomp.COMMON), "a call the headers do not know, outside the shared range"


def _libc_syscall(number: int, *args: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(number, *args) < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return 0


def _calls(scratch: Path) -> dict[str, Callable[[], object]]:
    """The calls the filter must refuse, each harmless when it succeeds."""
    victim = scratch / "victim.txt"
    numbers = seccomp.ARCHITECTURES[os.uname().machine][2]
    return {
        "socket-inet": lambda: socket.socket().close(),
        "socket-unix": lambda: socket.socket(socket.AF_UNIX).close(),
        "signal-parent": lambda: os.kill(os.getppid(), 0),
        "signal-everyone": lambda: os.kill(-1, 0),
        "prlimit-parent": lambda: resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE),
        "getsid-parent": lambda: os.getsid(os.getppid()),
        "pidfd-parent": lambda: os.close(os.pidfd_open(os.getppid())),
        "chmod": lambda: os.chmod(victim, 0o600),
        "utime": lambda: os.utime(victim, (0, 0)),
        "memfd": lambda: os.close(os.memfd_create("x")),
        "fork": lambda: os.waitpid(pid, 0) if (pid := os.fork()) else os._exit(0),
        "mq_open": lambda: _libc_syscall(numbers["mq_open"], 0, 0, 0, 0),
    }


def test_the_filter_refuses_what_it_lists_and_only_that(tmp_path):
    (tmp_path / "victim.txt").write_text("x")
    calls = _calls(tmp_path)
    program = seccomp.Filter()

    def confined() -> dict:
        seccomp.set_no_new_privileges()
        seccomp.Filter.install(program.for_process(os.getpid()))
        own = {"signal-self": attempt(lambda: os.kill(os.getpid(), 0)), "signal-0": attempt(lambda: os.kill(0, 0)),
               "own-limits": attempt(lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0))),
               "getsid-self": attempt(lambda: os.getsid(0)), "read": attempt(lambda: _open(__file__)),
               "clone3": attempt(lambda: _libc_syscall(seccomp.X86_64["clone3"] if os.uname().machine == "x86_64"
                                                       else seccomp.AARCH64["clone3"], 0, 0))}
        return {"refused": {name: attempt(call) for name, call in calls.items()}, "own": own}

    control = in_child(lambda: {name: attempt(call) for name, call in calls.items() if name != "mq_open"})
    assert set(control.values()) == {"ok"}, control  # each call works without the filter
    got = in_child(confined)
    assert got["refused"] == dict.fromkeys(calls, errno.EPERM)
    assert got["own"] == {"signal-self": "ok", "signal-0": "ok", "own-limits": "ok", "getsid-self": "ok",
                          "read": "ok", "clone3": errno.ENOSYS}


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the x32 ABI exists on x86_64 only")
def test_x32_calls_are_refused():
    program = seccomp.Filter()

    def confined() -> object:
        seccomp.set_no_new_privileges()
        seccomp.Filter.install(program.for_process(os.getpid()))
        return attempt(lambda: _libc_syscall(0x40000000 | 39))  # getpid, through the x32 ABI

    assert in_child(confined) == errno.EPERM


def test_the_program_checks_the_architecture_first_and_allows_by_default():
    program = seccomp.Filter("x86_64")
    first = [seccomp.INSTRUCTION.unpack_from(program.code, 8 * k) for k in range(3)]
    assert first[0] == (seccomp.LD_W_ABS, 0, 0, seccomp.ARCH_OFFSET)
    assert first[1][3] == 0xC000003E and first[2][3] == seccomp.RET_KILL_PROCESS
    assert seccomp.INSTRUCTION.unpack_from(program.code, len(program.code) - 8)[3] == seccomp.RET_ALLOW
    assert len(program.code) // 8 < 4096  # the kernel's limit
    patched = program.for_process(4321)
    assert all(seccomp.INSTRUCTION.unpack_from(patched, 8 * slot)[3] == 4321 for slot in program.pid_slots)
    assert len(program.pid_slots) == len(seccomp.OWN_PID_ONLY)


def test_an_unknown_architecture_has_no_filter():
    with pytest.raises(seccomp.SeccompError, match="riscv64"):
        seccomp.Filter("riscv64")


# =========================================================================== Landlock


def test_handled_rights_follow_the_abi():
    assert landlock.handled_rights(0) == (0, 0, 0)
    assert landlock.handled_rights(1) == ((1 << 13) - 1, 0, 0)
    assert landlock.handled_rights(3)[0] & landlock.TRUNCATE
    assert landlock.handled_rights(4)[1] == landlock.NET_BIND_TCP | landlock.NET_CONNECT_TCP
    assert landlock.handled_rights(6)[2] == landlock.SCOPE_ABSTRACT_UNIX_SOCKET | landlock.SCOPE_SIGNAL
    assert landlock.handled_rights(7)[0] & landlock.IOCTL_DEV
    with pytest.raises(landlock.LandlockError):
        landlock.Ruleset(0)


@pytest.mark.skipif(landlock.abi_version() < 1, reason="this kernel has no Landlock")
def test_the_ruleset_allows_reading_beneath_its_rules_and_nothing_else(tmp_path):
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    for folder in (allowed, other):
        folder.mkdir()
        (folder / "file.txt").write_text("content")
    ruleset = landlock.Ruleset(landlock.abi_version())
    ruleset.allow(allowed)
    ruleset.allow(allowed / "file.txt")  # a rule on a file keeps to file rights
    checks = {
        "read-allowed": lambda: _open(allowed / "file.txt"),
        "list-allowed": lambda: os.listdir(allowed),
        "write-allowed": lambda: _open(allowed / "file.txt", "a"),
        "create-allowed": lambda: _open(allowed / "new.txt", "w"),
        "read-other": lambda: _open(other / "file.txt"),
        "climb-from-allowed": lambda: _open(allowed / ".." / "other" / "file.txt"),
        "dir-fd-of-parent": lambda: os.open("other/file.txt", os.O_RDONLY, dir_fd=os.open(tmp_path, os.O_RDONLY)),
        "proc": lambda: _open("/proc/self/status"),
        "tmp": lambda: _open("/tmp/optkit-landlock-test", "w"),
    }

    def confined() -> dict:
        seccomp.set_no_new_privileges()
        ruleset.restrict_self()
        return {name: attempt(call) for name, call in checks.items()}

    assert set(in_child(lambda: {name: attempt(call) for name, call in checks.items()}).values()) == {"ok"}
    got = in_child(confined)
    assert got == {"read-allowed": "ok", "list-allowed": "ok", **dict.fromkeys(list(checks)[2:], errno.EACCES)}
    Path("/tmp/optkit-landlock-test").unlink(missing_ok=True)


# =========================================================================== policy and level


def test_the_policy_reads_the_standard_library_and_numpy_but_no_installed_package(tmp_path):
    policy = confine.default_policy(str(tmp_path), [])
    names = {os.path.basename(root) for root in policy.readable}
    assert not names & confine.PACKAGE_FOLDERS
    assert os.path.dirname(os.path.realpath(np.__file__)) in policy.readable
    assert str(tmp_path.resolve()) in policy.readable
    purelib = os.path.realpath(sysconfig.get_paths()["purelib"])
    assert not any(purelib == root or purelib.startswith(root + os.sep) for root in policy.readable)


def test_a_protected_folder_inside_a_readable_one_is_found(tmp_path):
    json_package = os.path.dirname(json.__file__)
    policy = confine.default_policy(str(tmp_path), [os.path.join(json_package, "decoder.py")])
    assert policy.exposed() == [os.path.realpath(os.path.join(json_package, "decoder.py"))]
    level = confine.Confinement(policy).level
    assert not level.isolated and "readable folders would include" in level.missing[0]


def test_the_full_confinement_is_verified_and_described(tmp_path):
    level = confine.Confinement(confine.default_policy(str(tmp_path), [str(Path(__file__).parent)])).level
    assert level.isolated, level.missing
    assert re.fullmatch(r"Landlock ABI \d+ \+ seccomp \+ (own uid per child \+ )?rlimits", level.describe())
    assert ("own uid" in level.describe()) == (os.geteuid() == 0)


@pytest.mark.parametrize(("assume", "missing"), [({"landlock"}, "Landlock is not available"),
                                                 ({"seccomp"}, "seccomp filters are not available")])
def test_switches_take_pieces_away(assume, missing, tmp_path):
    confinement = confine.Confinement(confine.default_policy(str(tmp_path), []), assume_missing=frozenset(assume))
    assert not confinement.level.isolated and missing in confinement.level.describe()
    assert confinement.level.describe().startswith("NOT ISOLATED: ")
    assert confinement.ruleset is None and confinement.filter is None  # never confined halfway


def test_unknown_switch_values_change_nothing(tmp_path):
    confinement = confine.Confinement(confine.default_policy(str(tmp_path), []),
                                      assume_missing=frozenset({"", "landlock-please", "everything"}))
    assert confinement.level.isolated


def test_the_opt_out_says_not_isolated(tmp_path):
    level = confine.Confinement(confine.default_policy(str(tmp_path), []), enforce=False).level
    assert not level.isolated and level.describe().startswith("NOT ISOLATED (--no-isolation)")


# =========================================================================== messages


@pytest.mark.parametrize("message", [
    Level(True, 7, True, "own uid per child", ()),
    Level(True, 0, True, "", ("Landlock is not available",)),
    Started("update_lr", 1234),
    Frame("update_lr", 99),
    Ended("update_lr", False, None, 0, None, 0.25, "printed\n", 8),
    Request((messages.JobSpec("e", "f", (messages.SnippetSpec("x = 1", "<cell 1>", 3),),
                              (messages.CaseSpec("c", {"t": "list", "items": []}, {"t": "py", "v": 1}, True),)),),
            messages.LimitSpec(1.0, 2, 3, 4, 5, 6)),
], ids=lambda message: message.event)
def test_messages_cross_the_wire_as_themselves(message):
    assert messages.parse(json.loads(json.dumps(messages.header(message)))) == message


@pytest.mark.parametrize("raw", [None, [], {}, {"event": "shell"}, {"event": "started", "exercise": "x"},
                                 {"event": "request", "jobs": [{"exercise": "x"}], "limits": {}}])
def test_anything_else_is_a_wire_error(raw):
    with pytest.raises(WireError):
        messages.parse(raw)
