"""The sandbox worker: a fork server that runs each exercise's student code in a locked-down child.

Started by :mod:`autograder.sandbox.runner` as ``python -I worker.py``.  It
imports numpy once, reads one batch request from stdin, then forks one child
per exercise (``parallel`` at a time).  Each child, before any student code
runs, moves to its own session, drops root privileges, caps its memory, CPU,
file size and file descriptors, redirects its output to a capped file and
installs an audit hook that refuses process creation, signals, sockets, ctypes,
symlinks and file access outside its scratch directory.  It then executes the
student's definitions and calls the graded function on each case, streaming one
frame per case.  The worker relays frames to the grader, tagged by exercise, and
kills any child that passes its wall-clock deadline.  This file imports only the
standard library, numpy and the sibling ``wire`` module: nothing of the grader.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import linecache
import os
import resource
import selectors
import signal
import sys
import sysconfig
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import wire

del sys.path[0]

# Modules a student may reasonably import, loaded now: the child cannot read the library any more.
import bisect  # noqa: E402, F401
import collections  # noqa: E402, F401
import copy  # noqa: E402, F401
import fractions  # noqa: E402, F401
import functools  # noqa: E402, F401
import heapq  # noqa: E402, F401
import itertools  # noqa: E402, F401
import math  # noqa: E402, F401
import operator  # noqa: E402, F401
import random  # noqa: E402, F401
import statistics  # noqa: E402, F401
import string  # noqa: E402, F401

import numpy as np  # noqa: E402
import numpy.fft  # noqa: E402 - numpy loads these lazily; the child could not read them any more
import numpy.linalg  # noqa: E402
import numpy.random  # noqa: E402

NOBODY = 65534
CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 1 << 14, 1 << 18
PIPE_BYTES = 1 << 20
RESULT_FD = 3
STUDENT_FILE_PREFIX = "<cell "
BLOCKED_MODULES = frozenset({"ctypes", "_ctypes", "subprocess", "_posixsubprocess", "multiprocessing",
                             "socket", "_socket", "pty"})
BLOCKED_EVENTS = ("os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system",
                  "os.kill", "os.killpg", "signal.pthread_kill", "subprocess.Popen", "socket.", "ctypes.",
                  "os.symlink", "os.link", "os.chdir", "os.chroot", "os.setuid")
FILE_EVENTS = frozenset({"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
                         "os.truncate", "os.utime", "os.listdir", "os.scandir", "shutil.rmtree",
                         "shutil.copyfile", "shutil.move", "os.removexattr", "os.setxattr"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def main() -> None:
    request_frame = wire.read_frame(sys.stdin.buffer, max_bytes=1 << 31)
    if request_frame is None:
        return
    request, buffers = request_frame
    out = sys.stdout.buffer
    jobs = list(request["jobs"])
    limits = request["limits"]
    hidden = [str(path) for path in request.get("hidden", [])]
    running: dict[int, dict] = {}
    selector = selectors.DefaultSelector()
    while jobs or running:
        while jobs and len(running) < limits["parallel"]:
            job = jobs.pop(0)
            child = _spawn(job, buffers, limits, hidden)
            running[child["fd"]] = child
            selector.register(child["fd"], selectors.EVENT_READ)
            wire.write_frame(out, {"exercise": job["exercise"], "event": "started", "pid": child["pid"]})
        timeout = max(0.0, min(child["deadline"] for child in running.values()) - time.monotonic())
        for key, _ in selector.select(timeout):
            _drain(running[key.fd], out, limits)
        for fd, child in list(running.items()):
            if child["eof"] or time.monotonic() >= child["deadline"]:
                selector.unregister(fd)
                del running[fd]
                _finish(child, out, limits)


def _spawn(job: dict, buffers: list[bytes], limits: dict, hidden: list[str]) -> dict:
    scratch = Path(job["scratch"])
    read_fd, write_fd = os.pipe()
    _widen_pipe(read_fd)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        try:
            _confine(scratch, write_fd, limits, hidden)
            _run_student(job, buffers)
        except BaseException as error:  # noqa: BLE001 - last resort, the child must not run on into the server loop
            print(f"[grader] the sandbox could not finish: {type(error).__name__}", file=sys.stderr)
        finally:
            os._exit(0)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    return {"job": job, "pid": pid, "fd": read_fd, "buffer": bytearray(), "eof": False, "received": 0,
            "frames": 0, "frame_limit": len(job["cases"]) + 2, "overflow": None,
            "deadline": time.monotonic() + limits["timeout"], "started": time.monotonic()}


def _widen_pipe(fd: int) -> None:
    """Let a pipe hold 1 MB instead of 64 KB: large results cross in far fewer wake-ups."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _drain(child: dict, out, limits: dict) -> None:
    """Read what a child wrote and relay every complete frame, tagged with its exercise."""
    try:
        chunk = os.read(child["fd"], 1 << 20)
    except BlockingIOError:
        return
    if not chunk:
        child["eof"] = True
        return
    child["received"] += len(chunk)
    if child["received"] > limits["result_bytes"]:
        _refuse(child, "bytes")
        return
    child["buffer"] += chunk
    _relay_complete_frames(child, out)


def _relay_complete_frames(child: dict, out) -> None:
    data = child["buffer"]
    while len(data) >= 8:
        header_size, count = wire.FRAME_HEAD.unpack_from(data)
        offset = 8 + header_size
        for _ in range(count):
            if len(data) < offset + 8:
                return
            (size,) = wire.BUFFER_HEAD.unpack_from(data, offset)
            offset += 8 + size
        if len(data) < offset:
            return
        frame = bytes(data[:offset])
        del data[:offset]
        child["frames"] += 1
        if child["frames"] > child["frame_limit"]:  # a flood would starve the other children
            _refuse(child, "frames")
            return
        wire.write_frame(out, {"exercise": child["job"]["exercise"], "event": "frame", "bytes": offset},
                         [frame])


def _refuse(child: dict, reason: str) -> None:
    """Stop listening to a child that sends more than it was asked for; it is killed at once."""
    child["overflow"] = reason
    child["deadline"] = 0.0


def _finish(child: dict, out, limits: dict) -> None:
    """Stop a child (and anything it started), collect its status and report how it ended."""
    timed_out = not child["eof"]
    for target in (-child["pid"], child["pid"]):
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGKILL)
    _, status = os.waitpid(child["pid"], 0)
    os.set_blocking(child["fd"], True)
    while not child["eof"] and not child["overflow"]:
        _drain(child, out, limits)
    os.close(child["fd"])
    output_path = Path(child["job"]["scratch"]) / "output.txt"
    try:
        with open(output_path, "rb") as stream:
            output = stream.read(limits["output_shown"]).decode("utf-8", "replace")
        output_size = output_path.stat().st_size
    except OSError:
        output, output_size = "", 0
    ending = {
        "exercise": child["job"]["exercise"], "event": "ended",
        "timed_out": timed_out and not child["overflow"], "overflow": child["overflow"],
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "seconds": time.monotonic() - child["started"], "output": output, "output_size": output_size,
    }
    wire.write_frame(out, ending)


# --------------------------------------------------------------------------- the child


def _confine(scratch: Path, write_fd: int, limits: dict, hidden: list[str]) -> None:
    """Cut the child off from everything but its scratch directory, before student code runs."""
    os.setsid()
    if os.geteuid() == 0:
        _isolate(hidden, scratch)
    os.dup2(write_fd, RESULT_FD)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    output = os.open(scratch / "output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.closerange(RESULT_FD + 1, 1 << 16)
    os.chdir(scratch)
    if os.geteuid() == 0:
        os.chown(scratch, NOBODY, NOBODY)
        os.chown(scratch / "output.txt", NOBODY, NOBODY)
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    address_space = _current_address_space() + limits["memory_bytes"]
    caps = {resource.RLIMIT_AS: address_space, resource.RLIMIT_CPU: int(limits["timeout"]) + 2,
            resource.RLIMIT_FSIZE: limits["output_bytes"], resource.RLIMIT_NOFILE: 16,
            resource.RLIMIT_NPROC: 0, resource.RLIMIT_CORE: 0}
    for which, cap in caps.items():
        resource.setrlimit(which, (cap, cap))
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as the child
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    _install_audit_hook(scratch)


def _isolate(hidden: list[str], scratch: Path) -> None:
    """As root, enforce in the kernel what the audit hook also refuses: no network at all, and the
    instructor's folders (hidden tests, master notebook) replaced by empty read-only ones for this process.
    Where namespaces are not permitted this does nothing and the audit hook stands alone."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS | CLONE_NEWNET) != 0:
        return
    libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)  # keep the mounts below to this process
    for path in hidden:
        if os.path.isdir(path) and not str(scratch).startswith(os.path.join(path, "")):
            libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                       b"size=4k,mode=0555")


def _current_address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _install_audit_hook(scratch: Path) -> None:
    readable = (*NUMPY_ROOT, *_roots(scratch))
    writable = _roots(scratch)
    modules = sys.modules

    def inside(path, roots: tuple[str, ...]) -> bool:
        if isinstance(path, bytes):
            path = path.decode("utf-8", "replace")
        if not isinstance(path, str):
            return False
        full = os.path.normpath(os.path.join(str(scratch), path)) + os.sep
        return full.startswith(roots)

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int):
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(flags & WRITE_FLAGS)
            allowed = inside(path, writable) if writing else (
                inside(path, readable) or (inside(path, LIBRARY_ROOTS) and not inside(path, PACKAGE_ROOTS)))
            if not allowed:
                raise PermissionError(f"the grader's sandbox does not let your code open {path!r}")
        elif event == "import" and args[0] in BLOCKED_MODULES and args[0] not in modules:
            raise ImportError(f"module {args[0]!r} is not available in the grader's sandbox")
        elif event in FILE_EVENTS:
            if not all(inside(arg, writable) for arg in args[:2] if isinstance(arg, (str, bytes))):
                raise PermissionError(f"the grader's sandbox does not allow {event} outside its scratch folder")
        elif event.startswith(BLOCKED_EVENTS):
            raise PermissionError(f"the grader's sandbox does not allow {event}")

    sys.addaudithook(hook)


def _roots(*paths) -> tuple[str, ...]:
    return tuple(os.path.realpath(path) + os.sep for path in paths)


_PATHS = sysconfig.get_paths()
LIBRARY_ROOTS = _roots(_PATHS["stdlib"], _PATHS["platstdlib"])
PACKAGE_ROOTS = _roots(_PATHS["purelib"], _PATHS["platlib"])
NUMPY_ROOT = _roots(os.path.dirname(np.__file__))


def _run_student(job: dict, buffers: list[bytes]) -> None:
    """Execute the student's definitions, then call the graded function once per case."""
    result = os.fdopen(RESULT_FD, "wb")
    namespace: dict = {"__name__": "__student__", "__builtins__": __builtins__}
    try:
        for snippet in job["snippets"]:
            lines = snippet["source"].splitlines(keepends=True)
            linecache.cache[snippet["filename"]] = (0, None, [""] * (snippet["line"] - 1) + lines, "")
            padded = "\n" * (snippet["line"] - 1) + snippet["source"]
            exec(compile(padded, snippet["filename"], "exec"), namespace)
        function = namespace.get(job["function"])
        if not callable(function):
            raise NameError(f"name {job['function']!r} is not defined")
    except BaseException as error:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are student errors too
        wire.write_frame(result, {"kind": "load_error", "error": _describe(error)})
        return
    for case in job["cases"]:
        args = wire.decode(case["args"], buffers)
        kwargs = wire.decode(case["kwargs"], buffers)
        started = time.perf_counter()
        try:
            value = function(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001
            wire.write_frame(result, {"kind": "case", "id": case["id"], "error": _describe(error),
                                      "seconds": time.perf_counter() - started})
            continue
        _send_result(result, case, value, args, time.perf_counter() - started)
    wire.write_frame(result, {"kind": "done"})


def _send_result(result, case: dict, value, args: tuple, seconds: float) -> None:
    """Send a case's value (and its inputs, if watched); a value that cannot be sent is the student's error."""
    value_buffers: list[bytes] = []
    try:
        message = {"kind": "case", "id": case["id"], "value": wire.encode(value, value_buffers), "seconds": seconds}
        if case.get("watch_inputs"):
            message["args_after"] = wire.encode(args, value_buffers)
        header = wire.encode_header(message)
    except BaseException as error:  # noqa: BLE001 - hostile __len__, __iter__, huge objects, ...
        wire.write_frame(result, {"kind": "case", "id": case["id"], "seconds": seconds,
                                  "error": {**_describe(error), "type": "UnsendableResult"}})
        return
    wire.write_frame(result, header, value_buffers)


def _describe(error: BaseException) -> dict:
    """Type, message and the student's own frames of an exception, as plain strings."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename.startswith(STUDENT_FILE_PREFIX)]
    where = [f"{frame.filename[1:-1]}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"
             for frame in frames[-3:]]
    try:
        message = str(error)[:2000]
    except BaseException:  # noqa: BLE001 - a hostile __str__
        message = "<message could not be shown>"
    return {"type": type(error).__name__, "message": message, "where": where}


if __name__ == "__main__":
    main()
