"""The sandbox worker: a fork server that runs each exercise's student code in a kernel-confined child.

Started by :mod:`autograder.sandbox.runner` as ``python -I worker.py --protect PATHS
[--assume-no PIECES] [--no-isolation]``.  It imports numpy once, prepares the confinement
(:mod:`.confine`: Landlock ruleset, seccomp program, uid; checked in a probe
child), reports the :class:`~.messages.Level` it reached, then serves batch
requests until its input closes.  Per exercise it forks one child (``parallel``
at a time) whose output goes to a memfd the worker owns and whose results come
back on a pipe; the child confines itself irreversibly before any student code
runs, executes the student's definitions and calls the graded function on each
case, one frame per case.  The worker relays frames to the grader, kills any
child past its wall-clock deadline, and reads the child's output from its own
descriptor: it never opens a path a child could have touched.  Nothing of a
child survives it: no file is writable, and each exercise gets a fresh child.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import linecache
import mmap
import os
import selectors
import signal
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this very kit, whatever is installed
from autograder.sandbox import confine, messages, wire
from autograder.sandbox.messages import EXIT_NOT_CONFINED, EXIT_OUT_OF_MEMORY, Ended, Frame, JobSpec, Request, Started

del sys.path[0]

# Modules a student may reasonably import, loaded now: the child may not be able to read the library later.
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

import numpy  # noqa: E402
import numpy.fft  # noqa: E402 - numpy loads these lazily
import numpy.linalg  # noqa: E402
import numpy.random  # noqa: E402, F401

PIPE_BYTES = 1 << 20
RESULT_FD = 3
STUDENT_FILE_PREFIX = "<cell "


def main(argv: list[str]) -> None:
    assume_missing = frozenset(argv[argv.index("--assume-no") + 1].split(",")) if "--assume-no" in argv else frozenset()
    protected = argv[argv.index("--protect") + 1].split(os.pathsep) if "--protect" in argv else []
    policy = confine.default_policy(os.getcwd(), [path for path in protected if path])
    confinement = confine.Confinement(policy, "--no-isolation" not in argv, assume_missing)
    out = sys.stdout.buffer
    wire.write_frame(out, messages.header(confinement.level))
    inputs = CaseInputs()
    gc.freeze()  # what the imports made is never collected: children do not touch (and copy) those pages
    while (frame := wire.read_frame(sys.stdin.buffer, max_bytes=1 << 31)) is not None:
        header, buffers = frame
        request = messages.parse(header)
        inputs.add(request, buffers)
        del header, buffers, frame  # the arrays now live in the sealed memfd: a smaller worker forks faster
        _serve(request, inputs, confinement, out)


class CaseInputs:
    """Each case's arguments, kept for the worker's life: the grader sends a case's inputs once.

    The array bytes go into a sealed memfd (no process can change its contents any more) mapped
    copy-on-write: every forked child sees them without a copy (fork copies no page tables for such a
    mapping) and decodes its arrays as views of them; what a child writes to its inputs lands in pages
    of its own, never in the memfd, so the children that come after it get the inputs unchanged.
    """

    def __init__(self) -> None:
        self._cases: dict[str, tuple[object, object, list[memoryview]]] = {}

    def add(self, request: Request, buffers: list[wire.Chunk]) -> None:
        """Keep the inputs that ``request`` carries (cases whose ``args`` are None are already here)."""
        carried = [case for job in request.jobs for case in job.cases if case.args is not None]
        if not carried:
            return
        views = _sealed(buffers)
        for case in carried:
            self._cases[case.id] = (case.args, case.kwargs, views)

    def decode(self, case_id: str) -> tuple[tuple, dict]:
        """Arguments for a call (in a child: its arrays are copy-on-write views of the kept inputs)."""
        args, kwargs, views = self._cases[case_id]
        return wire.decode(args, views), wire.decode(kwargs, views)


def _sealed(buffers: list[wire.Chunk]) -> list[memoryview]:
    """The buffers in a sealed memfd, mapped copy-on-write (one view per buffer)."""
    total = sum(len(buffer) for buffer in buffers)
    if not total:
        return [memoryview(b"") for _ in buffers]
    fd = os.memfd_create("case-inputs", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        for buffer in buffers:
            view = memoryview(buffer)
            while view:
                view = view[os.write(fd, view):]
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK
                    | fcntl.F_SEAL_SEAL)
        mapping = memoryview(mmap.mmap(fd, total, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE))
    finally:
        os.close(fd)
    views, offset = [], 0
    for buffer in buffers:
        views.append(mapping[offset:offset + len(buffer)])
        offset += len(buffer)
    return views


def _serve(request: Request, inputs: CaseInputs, confinement: confine.Confinement, out) -> None:
    jobs = list(request.jobs)
    limits = asdict(request.limits)
    running: dict[int, dict] = {}
    selector = selectors.DefaultSelector()
    while jobs or running:
        while jobs and len(running) < request.limits.parallel:
            child = _spawn(jobs.pop(0), inputs, limits, confinement)
            running[child["fd"]] = child
            selector.register(child["fd"], selectors.EVENT_READ)
            wire.write_frame(out, messages.header(Started(child["job"].exercise, child["pid"])))
        timeout = max(0.0, min(child["deadline"] for child in running.values()) - time.monotonic())
        for key, _ in selector.select(timeout):
            _drain(running[key.fd], out, limits)
        for fd, child in list(running.items()):
            if child["eof"] or time.monotonic() >= child["deadline"]:
                selector.unregister(fd)
                del running[fd]
                _finish(child, out, limits)
    selector.close()


def _spawn(job: JobSpec, inputs: CaseInputs, limits: dict, confinement: confine.Confinement) -> dict:
    read_fd, write_fd = os.pipe()
    _widen_pipe(read_fd)
    output_fd = os.memfd_create("exercise-output", os.MFD_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            _enter_child(write_fd, output_fd, limits, confinement)
        except BaseException:  # noqa: BLE001 - not confined: no student code may run
            os._exit(EXIT_NOT_CONFINED)
        try:
            _run_student(job, inputs)
        except MemoryError:
            code = EXIT_OUT_OF_MEMORY
        except BaseException:  # noqa: BLE001 - last resort, the child must not run on into the server loop
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    return {"job": job, "pid": pid, "fd": read_fd, "output_fd": output_fd, "buffer": bytearray(), "eof": False,
            "received": 0, "frames": 0, "frame_limit": len(job.cases) + 2, "overflow": None,
            "deadline": time.monotonic() + limits["timeout"], "started": time.monotonic()}


def _enter_child(write_fd: int, output_fd: int, limits: dict, confinement: confine.Confinement) -> None:
    """Own session, descriptors 0-3 only (/dev/null, the output memfd twice, the result pipe), then confinement."""
    os.setsid()
    os.dup2(write_fd, RESULT_FD)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    confinement.apply(limits)
    os.closerange(RESULT_FD + 1, 1 << 20)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as the child
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


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
        child["frames"] += 1
        if child["frames"] > child["frame_limit"]:  # a flood would starve the other children
            _refuse(child, "frames")
            return
        with memoryview(data) as view, view[:offset] as frame:  # relayed without a copy
            wire.write_frame(out, messages.header(Frame(child["job"].exercise, offset)), [frame])
        del data[:offset]


def _refuse(child: dict, reason: str) -> None:
    """Stop listening to a child that sends more than it was asked for; it is killed at once."""
    child["overflow"] = reason
    child["deadline"] = 0.0


def _finish(child: dict, out, limits: dict) -> None:
    """Stop a child, collect its status, read its output from the worker's own memfd, report how it ended."""
    timed_out = not child["eof"]
    for target in (-child["pid"], child["pid"]):  # its group too: without confinement it may have forked
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGKILL)
    _, status = os.waitpid(child["pid"], 0)
    os.set_blocking(child["fd"], True)
    while not child["eof"] and not child["overflow"]:
        _drain(child, out, limits)
    os.close(child["fd"])
    output_fd = child["output_fd"]
    output = os.pread(output_fd, limits["output_shown"], 0).decode("utf-8", "replace")
    output_size = os.fstat(output_fd).st_size
    os.close(output_fd)
    ending = Ended(child["job"].exercise, timed_out and not child["overflow"], child["overflow"],
                   os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                   os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                   time.monotonic() - child["started"], output, output_size)
    wire.write_frame(out, messages.header(ending))


# --------------------------------------------------------------------------- the child, once confined


def _run_student(job: JobSpec, inputs: CaseInputs) -> None:
    """Execute the student's definitions, then call the graded function once per case."""
    result = os.fdopen(RESULT_FD, "wb")
    namespace: dict = {"__name__": "__student__", "__builtins__": __builtins__}
    try:
        for snippet in job.snippets:
            lines = snippet.source.splitlines(keepends=True)
            linecache.cache[snippet.filename] = (0, None, [""] * (snippet.line - 1) + lines, "")
            padded = "\n" * (snippet.line - 1) + snippet.source
            exec(compile(padded, snippet.filename, "exec"), namespace)
        function = namespace.get(job.function)
        if not callable(function):
            raise NameError(f"name {job.function!r} is not defined")
    except BaseException as error:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are student errors too
        wire.write_frame(result, {"kind": "load_error", "error": _describe(error)})
        return
    for case in job.cases:
        args, kwargs = inputs.decode(case.id)
        started = time.perf_counter()
        try:
            value = function(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001
            wire.write_frame(result, {"kind": "case", "id": case.id, "error": _describe(error),
                                      "seconds": time.perf_counter() - started})
            continue
        _send_result(result, case, value, args, time.perf_counter() - started)
    wire.write_frame(result, {"kind": "done"})


def _send_result(result, case: messages.CaseSpec, value, args: tuple, seconds: float) -> None:
    """Send a case's value (and its inputs, if watched); a value that cannot be sent is the student's error."""
    value_buffers: list[wire.Chunk] = []
    try:
        message = {"kind": "case", "id": case.id, "value": wire.encode(value, value_buffers), "seconds": seconds}
        if case.watch_inputs:
            message["args_after"] = wire.encode(args, value_buffers)
        header = wire.encode_header(message)
    except BaseException as error:  # noqa: BLE001 - hostile __len__, __iter__, huge objects, ...
        wire.write_frame(result, {"kind": "case", "id": case.id, "seconds": seconds,
                                  "error": {**_describe(error), "type": "UnsendableResult"}})
        return
    wire.write_frame(result, header, value_buffers)


def _describe(error: BaseException) -> dict:
    """Type, message, errno and the student's own frames of an exception, as plain strings."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename.startswith(STUDENT_FILE_PREFIX)]
    where = [f"{frame.filename[1:-1]}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"
             for frame in frames[-3:]]
    try:
        message = str(error)[:2000]
    except BaseException:  # noqa: BLE001 - a hostile __str__
        message = "<message could not be shown>"
    number = error.errno if isinstance(error, OSError) and type(error.errno) is int else None
    return {"type": type(error).__name__, "message": message, "where": where, "errno": number}


if __name__ == "__main__":
    main(sys.argv[1:])
