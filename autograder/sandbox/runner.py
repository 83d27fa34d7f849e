"""The grader's side of the sandbox: start the worker early, send a batch, collect outcomes.

Everything that comes back is untrusted plain data (see :mod:`.wire`); a
worker that dies, hangs or talks nonsense costs the exercises still running,
never the grader.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.sandbox import messages, wire
from autograder.sandbox.messages import (
    EXIT_NOT_CONFINED,
    EXIT_OUT_OF_MEMORY,
    CaseSpec,
    Ended,
    Frame,
    JobSpec,
    Level,
    LimitSpec,
    Request,
    SnippetSpec,
    Started,
)

WORKER = Path(__file__).resolve().parent / "worker.py"
KIT_ROOT = Path(__file__).resolve().parents[2]  # the checkout (or site-packages) holding this kit: never readable
REFUSED_ERRNOS = (errno.EPERM, errno.EACCES)
SANDBOX_REFUSAL = ("the grader's sandbox does not allow this: student code may only compute, read Python's and "
                   "numpy's own files and print")
# Test switches: set to 1, each takes a piece of the confinement away (they can never add one).
LOWERING_SWITCHES = {"OPTKIT_ASSUME_NO_LANDLOCK": "landlock", "OPTKIT_ASSUME_NO_SECCOMP": "seccomp"}
PASSED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SINGLE_THREADED = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
# The worker's C library gives large blocks back at once: its heap stays small, so each fork copies fewer page
# tables, and neither the worker nor a child pays copy-on-write faults on memory only a finished frame used.
FIXED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}


@dataclass(frozen=True)
class Limits:
    """What one exercise's student code may use."""

    timeout: float = 5.0  # wall-clock seconds for all of an exercise's cases
    memory_mb: int = 256  # address space on top of the interpreter and numpy
    output_kb: int = 256  # what the student's code may print
    result_mb: int = 64  # what it may send back
    parallel: int = max(1, min(4, os.cpu_count() or 1))  # children at a time
    # 1: a fresh confined child per exercise; 0: one child per chain of a submission's exercises (--child-per-
    # submission: fewer forks, but an exercise's code can affect the same student's later exercises)
    exercises_per_child: int = 1

    def as_message(self) -> LimitSpec:
        return LimitSpec(self.timeout, self.memory_mb << 20, self.output_kb << 10, 2000, self.result_mb << 20,
                         self.parallel, self.exercises_per_child)


@dataclass(frozen=True)
class Snippet:
    """Student source to execute, with the cell and line it came from (for tracebacks)."""

    source: str
    filename: str
    line: int = 1


@dataclass(frozen=True)
class Call:
    """One call of the graded function: positional and keyword arguments (plain data).

    With ``watch_inputs`` the positional arguments are sent back after the call,
    so that what the function did to them can be checked.
    """

    case_id: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    watch_inputs: bool = False


@dataclass(frozen=True)
class Job:
    """One exercise to run: the student's definitions and the calls to make."""

    exercise: str
    function: str
    snippets: tuple[Snippet, ...]
    calls: tuple[Call, ...]


@dataclass(frozen=True)
class StudentError:
    """An exception raised by student code, described as plain strings."""

    type: str
    message: str
    where: tuple[str, ...] = ()


@dataclass
class ExerciseRun:
    """What happened when an exercise's code ran: per-case values or errors, and how it ended."""

    exercise: str
    values: dict[str, Any] = field(default_factory=dict)
    args_after: dict[str, tuple] = field(default_factory=dict)  # for calls that watch their inputs
    errors: dict[str, StudentError] = field(default_factory=dict)
    load_error: StudentError | None = None
    stopped: str | None = None  # why the run ended early, in words for the student
    output: str = ""  # what the student's code printed (truncated)
    seconds: float = 0.0


class IsolationUnavailable(RuntimeError):
    """The kernel confinement of student code is below the minimum, and isolation was not waived."""

    def __init__(self, level: Level) -> None:
        self.level = level
        super().__init__(f"refusing to run untrusted student code: {'; '.join(level.missing) or 'no isolation'}. "
                         f"Pass --no-isolation to grade anyway without isolation (every result then says "
                         f"NOT ISOLATED); see SECURITY.md")


class SandboxLost(RuntimeError):
    """The worker died, hung or broke the stream during a run: the grader's fault, never the student's.

    Children cannot reach the worker (seccomp, their own uid), so a lost worker is a tool failure; the
    runs of that batch are incomplete and must not be scored.
    """


class Sandbox:
    """A started worker process that runs batches of jobs in confined children (one per chain of jobs).

    Start it as early as possible: the worker's interpreter and numpy import
    overlap with the grader's own start-up.  :meth:`run` may be called any number
    of times; :meth:`close` stops the worker.  ``isolation=False`` is the
    ``--no-isolation`` opt-out: resource limits only.
    """

    def __init__(self, limits: Limits = Limits(), python: str = sys.executable, hidden: tuple[Path, ...] = (),
                 isolation: bool = True) -> None:
        self.limits = limits
        self.isolation = isolation
        self._workdir = Path(tempfile.mkdtemp(prefix="optkit-sandbox-"))  # empty, read-only for the children
        os.chmod(self._workdir, 0o755)
        environment = {k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ}
        environment.update(SINGLE_THREADED, **FIXED_MALLOC, HOME=str(self._workdir), PYTHONHASHSEED="0")
        self._process = subprocess.Popen(
            [python, "-I", str(WORKER), *_worker_options(hidden, isolation)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=self._workdir, env=environment,
            start_new_session=True)
        if self._process.stdin is None or self._process.stdout is None:
            raise OSError("the sandbox worker was started without its pipes")
        self._requests, self._replies = self._process.stdin, self._process.stdout
        self._children: dict[str, int] = {}  # exercise -> pid of its child, until the worker has reaped it
        self._inputs_sent: dict[str, tuple[tuple, dict]] = {}  # case id -> the argument objects the worker holds
        self._level: Level | None = None
        self._in_step = True  # False once a run ended without every child's end: the stream may be mid-frame
        for stream in (self._requests, self._replies):
            with contextlib.suppress(OSError):
                fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)

    @property
    def level(self) -> Level:
        """The confinement the worker set up and checked (waits for the worker's first message)."""
        if self._level is None:
            self._level = _lost_level("the sandbox worker did not start")
            with contextlib.suppress(wire.WireError, OSError, ValueError):
                frame = wire.read_frame(self._replies, max_bytes=1 << 16)
                message = messages.parse(frame[0]) if frame else None
                if isinstance(message, Level):
                    self._level = message
        return self._level

    @property
    def usable(self) -> bool:
        """Whether another :meth:`run` can be sent: the worker lives and no earlier run broke off."""
        return self._in_step and self._process.poll() is None

    def require_isolation(self) -> Level:
        """The level; raises :class:`IsolationUnavailable` when it is below the minimum and isolation is required."""
        if self.isolation and not self.level.isolated:
            raise IsolationUnavailable(self.level)
        return self.level

    def run(self, jobs: list[Job]) -> dict[str, ExerciseRun]:
        """Run every job (chains in parallel, each in a confined child); never raises for student code.

        Raises :class:`SandboxLost` when the worker itself failed before every job ended (the sandbox
        is then no longer :attr:`usable`).
        """
        self.require_isolation()
        runs = {job.exercise: ExerciseRun(job.exercise) for job in jobs}
        pending = {job.exercise: {call.case_id for call in job.calls} for job in jobs}
        if not jobs:
            return runs
        if not self._send(jobs):
            self._in_step = False
            raise SandboxLost(f"the sandbox worker stopped before the run ({self._ending()})")
        problem = self._collect(runs, pending, deadline=self._batch_deadline(len(jobs)))
        if problem is not None:
            raise SandboxLost(f"the sandbox worker failed during the run: {problem} ({self._ending()})")
        return runs

    def close(self) -> None:
        """Stop the worker and every child it started; remove the working folder."""
        for pid in (*self._children.values(), self._process.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self._process.wait()
        for stream in (self._requests, self._replies):
            if not stream.closed:
                with contextlib.suppress(OSError):  # unsent request bytes of a worker that died
                    stream.close()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _batch_deadline(self, count: int) -> float:
        rounds = -(-count // self.limits.parallel)
        return 10.0 + rounds * (self.limits.timeout + 2.0)

    def _send(self, jobs: list[Job]) -> bool:
        buffers: list[wire.Chunk] = []
        specs = tuple(JobSpec(job.exercise, job.function,
                              tuple(SnippetSpec(s.source, s.filename, s.line) for s in job.snippets),
                              tuple(self._case_spec(call, buffers) for call in job.calls))
                      for job in jobs)
        try:
            wire.write_frame(self._requests, messages.header(Request(specs, self.limits.as_message())), buffers)
        except (BrokenPipeError, ValueError):  # the worker died (or was closed): every job is reported as lost
            return False
        self._inputs_sent.update((call.case_id, (call.args, call.kwargs)) for job in jobs for call in job.calls)
        return True

    def _case_spec(self, call: Call, buffers: list[wire.Chunk]) -> CaseSpec:
        """A call as sent: its inputs encoded, or None when the worker holds these very objects already.

        The worker keeps each case's inputs for its life (see ``CaseInputs`` in the worker), so a batch sends
        the large public arrays once, not once per submission.  Inputs are recognised by identity: a Call
        with other argument objects under a known id sends them again.
        """
        sent = self._inputs_sent.get(call.case_id)
        if sent is not None and sent[0] is call.args and (sent[1] is call.kwargs or not (sent[1] or call.kwargs)):
            return CaseSpec(call.case_id, None, None, call.watch_inputs)
        return CaseSpec(call.case_id, wire.encode(call.args, buffers), wire.encode(call.kwargs, buffers),
                        call.watch_inputs)

    def _collect(self, runs: dict[str, ExerciseRun], pending: dict[str, set[str]], deadline: float) -> str | None:
        """Apply the worker's messages until every job has ended; otherwise, what went wrong."""
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            self.close()

        timer = threading.Timer(deadline, expire)
        timer.start()
        ended: set[str] = set()
        try:
            while ended != set(runs):
                frame = wire.read_frame(self._replies, max_bytes=(self.limits.result_mb + 1) << 20)
                if frame is None:
                    return f"no answer within {deadline:g} s" if expired.is_set() else "its output ended"
                message = messages.parse(frame[0])
                run = runs.get(str(getattr(message, "exercise", "")))
                if run is not None:
                    self._apply(message, frame[1], run, pending[run.exercise])
                    ended.update([run.exercise] if isinstance(message, Ended) else [])
        except (wire.WireError, OSError, ValueError) as error:
            return f"no answer within {deadline:g} s" if expired.is_set() else f"{type(error).__name__}: {error}"
        finally:
            timer.cancel()
            self._in_step = self._in_step and ended == set(runs)
        return None

    def _ending(self) -> str:
        code = self._process.poll()
        if code is None:
            return "still running"
        return f"killed by signal {-code}" if code < 0 else f"exit code {code}"

    def _apply(self, message: Started | Frame | Ended, buffers: list[wire.Chunk], run: ExerciseRun,
               pending: set[str]) -> None:
        if isinstance(message, Started):
            self._children[run.exercise] = int(message.pid)
        elif isinstance(message, Frame) and len(buffers) == 1:
            _apply_student_frame(run, pending, buffers[0])
        elif isinstance(message, Ended):
            self._children.pop(run.exercise, None)  # reaped: its pid may soon be another process's
            run.output = str(message.output)
            run.seconds = float(message.seconds)
            if pending and run.load_error is None and run.stopped is None:
                run.stopped = describe_ending(message, self.limits)


def _worker_options(hidden: tuple[Path, ...], isolation: bool) -> list[str]:
    """The worker's command-line options; the test switches in the environment can only lower isolation."""
    options = ["--protect", os.pathsep.join(str(path) for path in (*hidden, KIT_ROOT))]
    lowered = [piece for variable, piece in LOWERING_SWITCHES.items() if os.environ.get(variable) == "1"]
    options += ["--assume-no", ",".join(lowered)] if lowered else []
    return options + ([] if isolation else ["--no-isolation"])


def _lost_level(reason: str) -> Level:
    return Level(True, 0, False, "", (reason,))


def describe_ending(ending: Ended, limits: Limits) -> str:
    """Why a child stopped before answering every case, in words for a student."""
    if ending.timed_out:
        return f"your code was stopped after {limits.timeout:g} s (time limit): look for an endless loop"
    if ending.overflow == "bytes":
        return f"your code returned more than {limits.result_mb} MB of data"
    if ending.overflow == "frames":
        return "your code wrote to the grader's channel itself, so its process was stopped"
    number = ending.signal
    if number == signal.SIGXFSZ:
        return f"your code printed more than {limits.output_kb} KB of output"
    if number == signal.SIGXCPU:
        return "your code used too much CPU time (time limit): look for an endless loop"
    if number is not None:
        return f"your code's process crashed ({signal.Signals(number).name})" if number in signal.valid_signals() \
            else f"your code's process was killed by signal {number}"
    if ending.exit_code == EXIT_OUT_OF_MEMORY:
        return (f"your code ran out of memory (the grader's limit is {limits.memory_mb} MB): look for arrays far "
                "larger than the inputs or a list that grows without end")
    if ending.exit_code is None:  # the job was over while its child lived on: it said so too early
        return "your code's process gave no result for some cases"
    if ending.exit_code == EXIT_NOT_CONFINED:
        return "the grader could not confine your code's process, so it did not run it: tell your instructor"
    return (f"your code ended its own process (exit code {ending.exit_code}) before the tests finished: "
            "remove calls such as sys.exit() or os._exit()")


def _apply_student_frame(run: ExerciseRun, pending: set[str], data: wire.Chunk) -> None:
    try:
        frame = wire.read_frame(wire.MemoryStream(data), max_bytes=len(data))
        if frame is None:
            return
        message, buffers = frame
        kind = message.get("kind")
        if kind == "load_error":
            run.load_error = _student_error(message.get("error"))
        elif kind == "case" and message.get("id") in pending:
            case_id = message["id"]
            if "error" in message:
                run.errors[case_id] = _student_error(message["error"])
            else:
                run.values[case_id] = wire.decode(message.get("value"), buffers)
                if "args_after" in message:
                    run.args_after[case_id] = wire.decode(message["args_after"], buffers)
            pending.discard(case_id)
    except (wire.WireError, TypeError, ValueError, KeyError):
        run.stopped = "your code's process sent back something the grader could not read"


def _student_error(raw: Any) -> StudentError:
    raw = raw if isinstance(raw, dict) else {}
    where = raw.get("where") if isinstance(raw.get("where"), list) else []
    message = str(raw.get("message", ""))[:2000]
    if raw.get("errno") in REFUSED_ERRNOS:  # the kernel's confinement said no (see SECURITY.md)
        message = f"{SANDBOX_REFUSAL} ({message})"
    return StudentError(str(raw.get("type", "Error"))[:100], message, tuple(str(line)[:300] for line in where[:5]))
