"""The grader's side of the sandbox: start the worker early, send a batch, collect outcomes.

Everything that comes back is untrusted plain data (see :mod:`.wire`); a
worker that dies, hangs or talks nonsense costs the exercises still running,
never the grader.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
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

from autograder.sandbox import wire

WORKER = Path(__file__).resolve().parent / "worker.py"
PASSED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SINGLE_THREADED = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


@dataclass(frozen=True)
class Limits:
    """What one exercise's student code may use."""

    timeout: float = 5.0  # wall-clock seconds for all of an exercise's cases
    memory_mb: int = 256  # address space on top of the interpreter and numpy
    output_kb: int = 256  # what the student's code may print
    result_mb: int = 64  # what it may send back
    parallel: int = max(1, min(4, os.cpu_count() or 1))

    def as_message(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "memory_bytes": self.memory_mb << 20,
                "output_bytes": self.output_kb << 10, "output_shown": 2000,
                "result_bytes": self.result_mb << 20, "parallel": self.parallel}


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


class Sandbox:
    """A started worker process, ready to run one batch of jobs.

    Start it as early as possible: the worker's interpreter and numpy import
    overlap with the grader's own start-up.
    """

    def __init__(self, limits: Limits = Limits(), python: str = sys.executable,
                 hidden: tuple[Path, ...] = ()) -> None:
        self.limits = limits
        self.hidden = hidden  # folders student code must not see (emptied for it where the kernel allows)
        self._scratch = Path(tempfile.mkdtemp(prefix="optkit-sandbox-"))
        os.chmod(self._scratch, 0o711)
        environment = {k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ}
        environment.update(SINGLE_THREADED, HOME=str(self._scratch), PYTHONHASHSEED="0")
        self._process = subprocess.Popen(
            [python, "-I", str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, cwd=self._scratch, env=environment, start_new_session=True)
        self._children: set[int] = set()
        for stream in (self._process.stdin, self._process.stdout):
            with contextlib.suppress(OSError):
                fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)

    def run(self, jobs: list[Job]) -> dict[str, ExerciseRun]:
        """Run every job (in parallel, each in its own confined child); never raises for student code."""
        runs = {job.exercise: ExerciseRun(job.exercise) for job in jobs}
        pending = {job.exercise: {call.case_id for call in job.calls} for job in jobs}
        try:
            self._send(jobs)
            self._collect(runs, pending, deadline=self._batch_deadline(len(jobs)))
        finally:
            self.close()
        for name, missing in pending.items():
            run = runs[name]
            if missing and run.load_error is None and run.stopped is None:
                run.stopped = "the grader lost contact with your code's process before it finished"
        return runs

    def close(self) -> None:
        """Stop the worker and every child it started; remove the scratch space."""
        for pid in (*self._children, self._process.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream and not stream.closed:
                with contextlib.suppress(OSError):  # unsent request bytes of a worker that died
                    stream.close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _batch_deadline(self, count: int) -> float:
        rounds = -(-count // self.limits.parallel)
        return 10.0 + rounds * (self.limits.timeout + 2.0)

    def _send(self, jobs: list[Job]) -> None:
        buffers: list[bytes] = []
        encoded = []
        for job in jobs:
            scratch = self._scratch / job.exercise
            scratch.mkdir()
            encoded.append({
                "exercise": job.exercise, "function": job.function, "scratch": str(scratch),
                "snippets": [{"source": s.source, "filename": s.filename, "line": s.line} for s in job.snippets],
                "cases": [{"id": call.case_id, "args": wire.encode(call.args, buffers),
                           "kwargs": wire.encode(call.kwargs, buffers), "watch_inputs": call.watch_inputs}
                          for call in job.calls],
            })
        try:
            request = {"jobs": encoded, "limits": self.limits.as_message(), "hidden": [str(p) for p in self.hidden]}
            wire.write_frame(self._process.stdin, request, buffers)
            self._process.stdin.close()
        except BrokenPipeError:
            pass  # the worker died at start-up: every job is reported as lost

    def _collect(self, runs: dict[str, ExerciseRun], pending: dict[str, set[str]], deadline: float) -> None:
        timer = threading.Timer(deadline, self.close)
        timer.start()
        try:
            while True:
                frame = wire.read_frame(self._process.stdout, max_bytes=(self.limits.result_mb + 1) << 20)
                if frame is None:
                    return
                self._apply(frame, runs, pending)
        except (wire.WireError, OSError, ValueError):
            return
        finally:
            timer.cancel()

    def _apply(self, frame: tuple[dict, list[bytes]], runs: dict[str, ExerciseRun],
               pending: dict[str, set[str]]) -> None:
        message, buffers = frame
        run = runs.get(message.get("exercise"))
        if run is None:
            return
        event = message.get("event")
        if event == "started":
            self._children.add(int(message["pid"]))
        elif event == "frame" and len(buffers) == 1:
            _apply_student_frame(run, pending[run.exercise], buffers[0])
        elif event == "ended":
            run.output = str(message.get("output", ""))
            run.seconds = float(message.get("seconds", 0.0))
            if pending[run.exercise] and run.load_error is None and run.stopped is None:
                run.stopped = describe_ending(message, self.limits)


def describe_ending(ending: dict, limits: Limits) -> str:
    """Why a child stopped before answering every case, in words for a student."""
    if ending.get("timed_out"):
        return f"your code was stopped after {limits.timeout:g} s (time limit): look for an endless loop"
    if ending.get("overflow") == "bytes":
        return f"your code returned more than {limits.result_mb} MB of data"
    if ending.get("overflow") == "frames":
        return "your code wrote to the grader's channel itself, so its process was stopped"
    number = ending.get("signal")
    if number == signal.SIGXFSZ:
        return f"your code printed more than {limits.output_kb} KB of output"
    if number == signal.SIGXCPU:
        return "your code used too much CPU time (time limit): look for an endless loop"
    if number is not None:
        return f"your code's process crashed ({signal.Signals(number).name})" if number in signal.valid_signals() \
            else f"your code's process was killed by signal {number}"
    return (f"your code ended its own process (exit code {ending.get('exit_code')}) before the tests finished: "
            "remove calls such as sys.exit() or os._exit()")


def _apply_student_frame(run: ExerciseRun, pending: set[str], data: bytes) -> None:
    try:
        frame = wire.read_frame(io.BytesIO(data), max_bytes=len(data))
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
    return StudentError(str(raw.get("type", "Error"))[:100], str(raw.get("message", ""))[:2000],
                        tuple(str(line)[:300] for line in where[:5]))
