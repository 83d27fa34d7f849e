"""The sandbox worker: a fork server that runs student code in kernel-confined children.

Started by :mod:`autograder.sandbox.runner` as ``python -I worker.py --protect PATHS
[--assume-no PIECES] [--no-isolation]``.  It imports numpy once, prepares the confinement
(:mod:`.confine`: Landlock ruleset, seccomp program, uid; checked in a probe
child), reports the :class:`~.messages.Level` it reached, then serves batch
requests until its input closes.  A request's jobs (one per exercise) are cut
into chains of ``exercises_per_child`` (1 by default: a fresh child per
exercise; 0: ``parallel`` even chains), at most ``parallel`` children at a time.
Each chain runs in one forked child that confines itself irreversibly before
any student code runs, then runs its jobs one after another: each job's
definitions in a fresh namespace, numpy's and random's seeds as the worker left
them, its output into a memfd of its own that the worker owns, one frame per
case on the result pipe and an empty frame when the job is over.  The worker
relays frames to the grader, gives each job its own wall-clock deadline and
kills a child past it, and reads each job's output from
its own descriptor: it never opens a path a child could have touched.  A job
that ends its child (crash, time limit, exit, overflow) costs that job only:
the rest of the chain goes on in a new child.  Nothing of a child survives it:
no file is writable, and each request gets new children.
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
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this very kit, whatever is installed
from autograder.sandbox import confine, messages, wire
from autograder.sandbox.messages import EXIT_NOT_CONFINED, EXIT_OUT_OF_MEMORY, Ended, Frame, JobSpec, Request, Started

del sys.path[0]

# Modules a student may reasonably import, loaded now: the child may not be able to read the library later.
import bisect  # noqa: E402, F401
import collections  # noqa: E402
import copy  # noqa: E402, F401
import fractions  # noqa: E402, F401
import functools  # noqa: E402, F401
import heapq  # noqa: E402, F401
import itertools  # noqa: E402, F401
import math  # noqa: E402, F401
import operator  # noqa: E402, F401
import random  # noqa: E402
import statistics  # noqa: E402, F401
import string  # noqa: E402, F401

import numpy  # noqa: E402
import numpy.fft  # noqa: E402 - numpy loads these lazily
import numpy.linalg  # noqa: E402
import numpy.random  # noqa: E402

PIPE_BYTES = 1 << 20
KEPT_RELAY_BYTES = 16 << 20  # a relay buffer grown past this (a huge, maybe hostile, result) is not kept
RESULT_FD = 3
OUTPUT_FDS = 4  # a chain's output memfds, one per job, from here on
HIGH_FDS = 256  # where a child's descriptors wait before they are given their numbers
JOB_DONE = wire.FRAME_HEAD.pack(0, 0)  # the empty frame: "this job is over" (a child could send it early: its loss)
EXIT_GRACE_S = 1.0  # for a child whose chain is done to exit
# Modules whose namespaces each job of a chain starts from afresh (see _run_chain).
SHARED_MODULES = ("builtins", "numpy", "numpy.random", "numpy.linalg", "numpy.fft", "math", "random", "copy",
                  "functools", "itertools", "collections", "operator", "statistics")
STUDENT_FILE_PREFIX = "<cell "


def main(argv: list[str]) -> None:
    assume_missing = frozenset(argv[argv.index("--assume-no") + 1].split(",")) if "--assume-no" in argv else frozenset()
    protected = argv[argv.index("--protect") + 1].split(os.pathsep) if "--protect" in argv else []
    policy = confine.default_policy(os.getcwd(), [path for path in protected if path])
    confinement = confine.Confinement(policy, "--no-isolation" not in argv, assume_missing)
    out = sys.stdout.buffer
    wire.write_frame(out, messages.header(confinement.level))
    inputs = CaseInputs()
    relays: list[Relay] = []  # reused by one child after another
    numpy.random.seed(0)  # every child of every worker starts from one random state: the same code, the same run
    random.seed(0)
    gc.freeze()  # what the imports made is never collected: children do not touch (and copy) those pages
    while (frame := wire.read_frame(sys.stdin.buffer, max_bytes=1 << 31)) is not None:
        header, buffers = frame
        request = messages.parse(header)
        inputs.add(request, buffers)
        del header, buffers, frame  # the arrays now live in the sealed memfd: a smaller worker forks faster
        _serve(request, inputs, confinement, out, relays)


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


class Relay:
    """The bytes a child sent that the worker has not relayed yet, in an anonymous mapping the worker keeps for
    the next child: no heap, no fresh pages to fault in, and not inherited by forked children (no page tables to
    copy, no copy-on-write faults).  It grows to the largest frame a child sends (at most its result limit)."""

    def __init__(self, size: int = 2 * PIPE_BYTES) -> None:
        self._map = _unforked_mapping(size)
        self.start = self.end = 0

    @property
    def kept(self) -> bool:
        """Whether it is worth keeping for another child (not grown by a huge result)."""
        return len(self._map) <= KEPT_RELAY_BYTES

    def fill(self, fd: int) -> int:
        """Read what the pipe holds into the free space (made first if there is none); 0 at the end of the pipe.
        Raises BlockingIOError when the pipe is empty."""
        if self.end == len(self._map):
            self._make_room()
        with memoryview(self._map) as whole, whole[self.end:] as space:
            count = os.readv(fd, [space])
        self.end += count
        return count

    def view(self) -> memoryview:
        """What is pending (release it before the next fill)."""
        return memoryview(self._map)[self.start:self.end]

    def consume(self, size: int) -> None:
        self.start += size
        if self.start == self.end:
            self.start = self.end = 0

    def clear(self) -> None:
        self.start = self.end = 0

    def _make_room(self) -> None:
        pending = self.end - self.start
        if pending <= len(self._map) // 2:
            self._map.move(0, self.start, pending)
        else:  # one frame larger than half the mapping
            larger = _unforked_mapping(2 * len(self._map))
            larger[:pending] = self._map[self.start:self.end]
            self._map.close()
            self._map = larger
        self.start, self.end = 0, pending


def _unforked_mapping(size: int) -> mmap.mmap:
    mapping = mmap.mmap(-1, size)
    mapping.madvise(mmap.MADV_DONTFORK)
    return mapping


@dataclass
class Child:
    """A confined child working through its chain of jobs, as the worker tracks it."""

    jobs: list[JobSpec]  # its chain, in order; ``index`` is the one running
    pid: int
    fd: int  # the result pipe's reading end
    output_fds: list[int]  # one memfd per job of the chain (each closed once its job has ended)
    limits: dict
    relay: Relay
    index: int = 0
    eof: bool = False
    received: int = 0  # result bytes of the running job
    frames: int = 0  # frames of the running job
    overflow: str | None = None
    deadline: float = 0.0
    started: float = 0.0

    @property
    def job(self) -> JobSpec | None:
        return self.jobs[self.index] if self.index < len(self.jobs) else None

    def begin_job(self, out, flush: bool = True) -> None:
        """The next job of the chain starts now: its own clock, byte and frame counts."""
        self.received, self.frames = 0, 0
        self.started = time.monotonic()
        self.deadline = self.started + self.limits["timeout"]
        if self.job is None:  # the chain is done: the child only has to exit
            self.deadline = self.started + EXIT_GRACE_S
        else:
            wire.write_frame(out, messages.header(Started(self.job.exercise, self.pid)), flush=flush)


def _serve(request: Request, inputs: CaseInputs, confinement: confine.Confinement, out, relays: list[Relay]) -> None:
    """Run the request's jobs in chains of ``exercises_per_child`` (1: a fresh child per job), at most ``parallel``
    children at a time.

    A chain's child runs its jobs one after another; a job that ends its child (crash, time limit, exit,
    overflow) is reported, and the rest of its chain goes on in a new child.
    """
    limits = asdict(request.limits)
    parallel = request.limits.parallel
    length = request.limits.exercises_per_child or -(-len(request.jobs) // parallel)  # 0: dealt evenly
    chains = [list(request.jobs[first:first + length]) for first in range(0, len(request.jobs), length)]
    running: dict[int, Child] = {}
    selector = selectors.DefaultSelector()

    def start(chain: list[JobSpec]) -> None:
        child = _spawn(chain, inputs, limits, confinement, out, relays.pop() if relays else Relay())
        running[child.fd] = child
        selector.register(child.fd, selectors.EVENT_READ)

    while chains or running:
        while chains and len(running) < parallel:
            start(chains.pop(0))
        timeout = max(0.0, min(child.deadline for child in running.values()) - time.monotonic())
        for key, _ in selector.select(timeout):
            _drain(running[key.fd], out)
        for fd, child in list(running.items()):
            if child.eof or time.monotonic() >= child.deadline:
                selector.unregister(fd)
                del running[fd]
                rest = _finish(child, out)
                if child.relay.kept:
                    child.relay.clear()
                    relays.append(child.relay)
                if rest:
                    start(rest)
    selector.close()


def _spawn(jobs: list[JobSpec], inputs: CaseInputs, limits: dict, confinement: confine.Confinement, out,
           relay: Relay) -> Child:
    read_fd, write_fd = os.pipe()
    _widen_pipe(read_fd)
    output_fds = [os.memfd_create("exercise-output", os.MFD_CLOEXEC) for _ in jobs]
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            _enter_child(write_fd, output_fds, limits, confinement)
        except BaseException:  # noqa: BLE001 - not confined: no student code may run
            os._exit(EXIT_NOT_CONFINED)
        try:
            _run_chain(jobs, inputs)
        except MemoryError:
            code = EXIT_OUT_OF_MEMORY
        except BaseException:  # noqa: BLE001 - last resort, the child must not run on into the server loop
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    child = Child(jobs, pid, read_fd, output_fds, limits, relay)
    child.begin_job(out)
    return child


def _enter_child(write_fd: int, output_fds: list[int], limits: dict, confinement: confine.Confinement) -> None:
    """Own session; descriptors 0-2 (/dev/null, the first job's output twice), the result pipe as 3 and each
    job's output memfd from OUTPUT_FDS on, nothing else; then confinement."""
    os.setsid()
    confinement.move_descriptors(HIGH_FDS)
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, HIGH_FDS) for fd in (write_fd, *output_fds)]  # above every target
    for target, fd in enumerate(high, start=RESULT_FD):
        os.dup2(fd, target)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(OUTPUT_FDS, 1)
    os.dup2(OUTPUT_FDS, 2)
    confinement.apply({**limits, "timeout": limits["timeout"] * len(output_fds), "descriptors": len(output_fds)})
    os.closerange(OUTPUT_FDS + len(output_fds), 1 << 20)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as the child
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115


def _widen_pipe(fd: int) -> None:
    """Let a pipe hold 1 MB instead of 64 KB: large results cross in far fewer wake-ups."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _drain(child: Child, out) -> None:
    """Read what a child wrote and relay every complete frame, tagged with its job's exercise."""
    try:
        count = child.relay.fill(child.fd)
    except BlockingIOError:
        return
    if not count:
        child.eof = True
        return
    child.received += count
    if child.received > child.limits["result_bytes"]:
        _refuse(child, "bytes")
        return
    _relay_complete_frames(child, out)
    out.flush()  # once for every frame relayed


def _relay_complete_frames(child: Child, out) -> None:
    while child.overflow is None:
        with child.relay.view() as data:
            size = _frame_size(data)
            if size is None:
                return
            _relay_frame(child, data[:size], out)
        child.relay.consume(size)


def _frame_size(data: memoryview) -> int | None:
    """The size of the frame at the start of ``data``, or None if it is not all there yet."""
    if len(data) < wire.FRAME_HEAD.size:
        return None
    header_size, count = wire.FRAME_HEAD.unpack_from(data)
    offset = wire.FRAME_HEAD.size + header_size
    for _ in range(count):
        if len(data) < offset + wire.BUFFER_HEAD.size:
            return None
        (size,) = wire.BUFFER_HEAD.unpack_from(data, offset)
        offset += wire.BUFFER_HEAD.size + size
    return offset if len(data) >= offset else None


def _relay_frame(child: Child, frame: memoryview, out) -> None:
    """Relay one complete frame of the running job, tagged with its exercise (an empty frame ends the job)."""
    job = child.job
    child.frames += 1
    if job is None or child.frames > len(job.cases) + 2:  # a flood would starve the other children
        _refuse(child, "frames")
        return
    if len(frame) == len(JOB_DONE):  # the empty frame: the child says this job is over
        ending = Ended(job.exercise, False, None, None, None, time.monotonic() - child.started,
                       *_output(child))  # no exit status: the child goes on
        wire.write_frame(out, messages.header(ending), flush=False)
        child.index += 1
        child.begin_job(out, flush=False)
    else:
        wire.write_frame(out, messages.header(Frame(job.exercise, len(frame))), [frame], flush=False)


def _refuse(child: Child, reason: str) -> None:
    """Stop listening to a child that sends more than it was asked for; it is killed at once."""
    child.overflow = reason
    child.deadline = 0.0


def _output(child: Child) -> tuple[str, int]:
    """The start of what the running job printed, and its size, from the worker's own memfd (then closed)."""
    fd = child.output_fds[child.index]
    output = os.pread(fd, child.limits["output_shown"], 0).decode("utf-8", "replace")
    size = os.fstat(fd).st_size
    os.close(fd)
    return output, size


def _finish(child: Child, out) -> list[JobSpec]:
    """Stop a child and collect its status; report how its running job ended; return the jobs it did not reach."""
    timed_out = not child.eof
    for target in (-child.pid, child.pid):  # its group too: without confinement it may have forked
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGKILL)
    _, status = os.waitpid(child.pid, 0)
    os.set_blocking(child.fd, True)
    while not child.eof and not child.overflow:
        _drain(child, out)
    os.close(child.fd)
    job = child.job
    if job is None:
        return []
    ending = Ended(job.exercise, timed_out and not child.overflow, child.overflow,
                   os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                   os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                   time.monotonic() - child.started, *_output(child))
    wire.write_frame(out, messages.header(ending))
    for fd in child.output_fds[child.index + 1:]:
        os.close(fd)
    return child.jobs[child.index + 1:]


# --------------------------------------------------------------------------- the child, once confined


def _run_chain(jobs: list[JobSpec], inputs: CaseInputs) -> None:
    """Each job in turn, each from the same start: its output into its own memfd; numpy's and random's seeds,
    the namespaces of builtins and the common modules, sys.stdout and sys.stderr as the worker left them.

    This is hygiene for the student's own exercises (a helper that patches ``np.sum`` or seeds numpy must not
    change the next exercise's result), not a protection: the chain's jobs are one submission's."""
    result = os.fdopen(RESULT_FD, "wb")
    streams = sys.stdout, sys.stderr
    if len(jobs) > 1:  # a chain of one (the default) has nothing to restore: copying the namespaces would cost pages
        seeds = numpy.random.get_state(), random.getstate()
        modules = [sys.modules[name] for name in SHARED_MODULES]
        namespaces = [dict(vars(module)) for module in modules]
    for index, job in enumerate(jobs):
        if index:
            os.dup2(OUTPUT_FDS + index, 1)
            os.dup2(OUTPUT_FDS + index, 2)
            _restore(modules, namespaces)
            numpy.random.set_state(seeds[0])
            random.setstate(seeds[1])
        _run_student(job, inputs, result)
        sys.stdout, sys.stderr = streams
        for stream in streams:
            stream.flush()
        result.write(JOB_DONE)
        result.flush()


def _restore(modules: list, namespaces: list[dict]) -> None:
    """Put each module back in sys.modules with its namespace as it was (updated first: builtins stay usable)."""
    for module, namespace in zip(modules, namespaces, strict=True):
        sys.modules[module.__name__] = module
        current = vars(module)
        current.update(namespace)
        for name in current.keys() - namespace.keys():
            del current[name]


def _run_student(job: JobSpec, inputs: CaseInputs, result) -> None:
    """Execute the student's definitions in a fresh namespace, then call the graded function once per case."""
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
    frames: collections.deque = collections.deque(maxlen=3)  # the innermost three (a recursion may hold 1000s)
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(STUDENT_FILE_PREFIX):
            frames.append((tb.tb_frame.f_code, tb.tb_lineno))
        tb = tb.tb_next
    where = [f"{code.co_filename[1:-1]}, line {number}, in {code.co_name}: {_source_line(code.co_filename, number)}"
             for code, number in frames]
    try:
        message = str(error)[:2000]
    except BaseException:  # noqa: BLE001 - a hostile __str__
        message = "<message could not be shown>"
    number = error.errno if isinstance(error, OSError) and type(error.errno) is int else None
    return {"type": type(error).__name__, "message": message, "where": where, "errno": number}


def _source_line(filename: str, number: int) -> str:
    """A student line as the job's snippets gave it (they are in linecache; nothing is read from disk)."""
    entry = linecache.cache.get(filename)
    lines = entry[2] if entry is not None and len(entry) > 2 else []
    return lines[number - 1].strip() if isinstance(number, int) and 0 < number <= len(lines) else ""


if __name__ == "__main__":
    main(sys.argv[1:])
