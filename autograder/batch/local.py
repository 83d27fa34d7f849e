"""Grading on this machine: one long-lived worker process per job slot, each holding one Grader.

Requests and replies are JSON messages over a pipe.  A worker that dies
(out of memory, a grader bug) or stops answering costs only the submission it
was grading: that submission is tried once more in a fresh worker, then
recorded as the tool's failure.  Student code never runs in these workers: it
runs in each submission's own sandbox children.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import itertools
import json
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from autograder.batch.records import Outcome, Task, report_from_data, report_to_data
from autograder.batch.settings import GraderSettings
from autograder.checks.session import temporary_environment
from autograder.sandbox.runner import SINGLE_THREADED

ATTEMPTS = 2  # a submission whose worker died is tried once more in a fresh worker


def serve(connection: Connection, settings: GraderSettings) -> None:
    """A worker's life: grade each requested path until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle; finished work is kept
    grader = settings.grader()
    try:
        for graded in itertools.count():
            try:
                request = json.loads(connection.recv_bytes())
            except EOFError:
                return
            reply: dict[str, Any]
            try:
                reply = {"report": report_to_data(grader.grade(Path(request["path"])))}
            except Exception as error:  # noqa: BLE001 - the grader failed on this submission: say why
                reply = {"failure": f"{type(error).__name__}: {error}"}
            connection.send_bytes(json.dumps(reply).encode())
            _release_memory(first=graded == 0)
    finally:
        grader.close()


def _release_memory(first: bool) -> None:
    """Free each submission's garbage (test reports and results, cycles holding arrays) before the next one,
    and give the C library's free memory back to the system.

    After the first submission, what imports, the pytest session and caches created is frozen, so that
    each collection walks only the last submission's objects (under 1 ms).  The trim matters for memory:
    a 14.5 MB result raises glibc's threshold for mapping large blocks, so the next ones come from the heap,
    whose freed pages would otherwise stay with the worker (14 MB more at its peak, 40 MB more PSS with its
    sandbox, on the benchmark's class).
    """
    gc.collect()
    if first:
        gc.freeze()
    trim = getattr(_c_library(), "malloc_trim", None)  # glibc's; other C libraries give memory back their way
    if trim is not None:
        trim(0)


@functools.cache
def _c_library() -> ctypes.CDLL:
    return ctypes.CDLL(None)


@dataclass
class _Slot:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    task: Task | None = None
    started: float = 0.0


class LocalPool:
    """``jobs`` worker processes grading tasks in parallel; outcomes come back as each finishes."""

    def __init__(self, settings: GraderSettings, jobs: int) -> None:
        self.settings = settings
        self.jobs = jobs
        self._context = multiprocessing.get_context("spawn")  # a clean interpreter: no state from this process
        # Longer than the sandbox's own deadline for a whole submission: only a stuck worker reaches it.
        self.stuck_after = 60.0 + 8 * (settings.limits.timeout + 2.0)

    def grade(self, tasks: list[Task]) -> Iterator[Outcome]:
        queue, tries = deque(tasks), dict.fromkeys((t.student for t in tasks), 0)
        slots = [self._start() for _ in range(min(self.jobs, len(tasks)))]
        try:
            while queue or any(slot.task for slot in slots):
                for slot in slots:
                    self._assign(slot, queue, tries)
                busy = [slot for slot in slots if slot.task]
                wait([s.connection for s in busy] + [s.process.sentinel for s in busy], timeout=1.0)
                for index, slot in enumerate(slots):
                    if slot.task is None:
                        continue
                    outcome = self._reply(slot)
                    if outcome is not None:
                        slot.task = None
                        self._assign(slot, queue, tries)  # the worker grades on while the caller records this one
                        yield outcome
                    elif not slot.process.is_alive() or time.monotonic() - slot.started > self.stuck_after:
                        task, slot.task = slot.task, None
                        self._stop(slot, kill=True)
                        slots[index] = self._start()
                        if tries[task.student] < ATTEMPTS:
                            queue.appendleft(task)
                        else:
                            yield Outcome(task, None, f"the grading process died or hung twice ({_ending(slot)})")
        finally:
            for slot in slots:
                self._stop(slot)

    @staticmethod
    def _assign(slot: _Slot, queue: deque[Task], tries: dict[str, int]) -> None:
        """Send an idle worker the next task, if any."""
        if slot.task is None and queue:
            slot.task, slot.started = queue.popleft(), time.monotonic()
            tries[slot.task.student] += 1
            slot.connection.send_bytes(json.dumps({"path": str(slot.task.path)}).encode())

    def _reply(self, slot: _Slot) -> Outcome | None:
        if slot.task is None:
            return None
        try:
            if not slot.connection.poll():
                return None
            reply = json.loads(slot.connection.recv_bytes())
        except (EOFError, OSError, ValueError):
            return None
        if "report" in reply:
            return Outcome(slot.task, report_from_data(reply["report"]))
        return Outcome(slot.task, None, str(reply.get("failure")))

    def _start(self) -> _Slot:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=serve, args=(theirs, self.settings), daemon=True)
        with temporary_environment(SINGLE_THREADED):  # a spawned worker reads it at start; each worker is one thread
            process.start()
        theirs.close()
        return _Slot(process, ours)

    @staticmethod
    def _stop(slot: _Slot, kill: bool = False) -> None:
        """End a worker: an idle one leaves when its pipe closes; a busy or stuck one is killed."""
        slot.connection.close()
        slot.process.join(timeout=0 if kill or slot.task else 5)
        if slot.process.is_alive():
            slot.process.kill()
            slot.process.join()


def _ending(slot: _Slot) -> str:
    code = slot.process.exitcode
    if code is None:
        return "no answer"
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"
