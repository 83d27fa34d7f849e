"""Runs a grader has already made: the same code on the same cases is not run a second time.

In a class many exercises reach the grader byte for byte alike: the ones
students left as released, and short exercises whose solution the template all
but dictates.  A :class:`KnownRuns` (one per :class:`~autograder.grade.Grader`,
so per sandbox worker) remembers the run of an exercise's code, keyed by every
snippet's text and first line (line numbers appear in the feedback) and the cases
called, and hands it out again instead of forking a child.  The cells' labels
are not part of the key (they hold execution counts, which differ from one
student to the next): a run handed to code in other cells has its error
locations relabelled.  The run it hands
out is the one a new child would make: each child of a worker starts from the
same state (the worker's seeds, modules and limits), so code that does not
read the clock or its process id gives the same values, errors and output.

A run is kept the second time its code comes (the first time only the key is
noted): in a class whose code differs from student to student nothing but keys
is held, and code that recurs is run twice, then never again.  Only runs that
ended on their own are kept: not one stopped by a limit (time,
memory, output, crash, recursion depth), whose ending may depend on the machine's
load.  Small runs only (at most ``entry_bytes`` of memory) and at most
``total_bytes`` in all, the least recently used forgotten first.  The arrays of
every run are read-only (:func:`freeze`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections import OrderedDict
from typing import Any

import numpy as np

from autograder.sandbox.runner import ExerciseRun, Job, StudentError

ENTRY_BYTES = 256 << 10
TOTAL_BYTES = 4 << 20
SEEN_KEYS = 20_000  # keys of code met once (about 100 bytes each)
LOAD_DEPENDENT_ERRORS = frozenset({"MemoryError", "RecursionError"})  # limits met, not the code's own answer


class KnownRuns:
    """Exercise runs by the code and cases that made them."""

    def __init__(self, entry_bytes: int = ENTRY_BYTES, total_bytes: int = TOTAL_BYTES) -> None:
        self.entry_bytes = entry_bytes
        self.total_bytes = total_bytes
        self._runs: OrderedDict[str, tuple[ExerciseRun, int, tuple[str, ...]]] = OrderedDict()
        self._bytes = 0
        self._seen: OrderedDict[str, None] = OrderedDict()  # code run once, not kept (yet)

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, job: Job) -> ExerciseRun | None:
        """The run this job's code already made, if kept."""
        key = _key(job)
        kept = self._runs.get(key)
        if kept is None:
            return None
        self._runs.move_to_end(key)
        run, _, labels = kept
        return _relabelled(run, dict(zip(labels, _labels(job), strict=True)))

    def keep(self, job: Job, run: ExerciseRun) -> None:
        """Remember ``run`` of ``job`` if its code came before, the run ended on its own and is small enough."""
        key = _key(job)
        if key not in self._seen:
            self._seen[key] = None
            if len(self._seen) > SEEN_KEYS:
                self._seen.popitem(last=False)
            return
        errors = [*run.errors.values(), *([run.load_error] if run.load_error else [])]
        if run.stopped is not None or any(error.type in LOAD_DEPENDENT_ERRORS for error in errors):
            return
        size = _payload_bytes([run, run.values, run.args_after, run.output, *run.errors.values(), run.load_error])
        if size > self.entry_bytes:
            return
        if key in self._runs:
            self._bytes -= self._runs.pop(key)[1]
        self._runs[key] = (run, size, _labels(job))
        self._bytes += size
        while self._bytes > self.total_bytes:
            self._bytes -= self._runs.popitem(last=False)[1][1]

    def clear(self) -> None:
        self._runs.clear()
        self._seen.clear()
        self._bytes = 0


def _labels(job: Job) -> tuple[str, ...]:
    return tuple(snippet.filename for snippet in job.snippets)


def _relabelled(run: ExerciseRun, labels: dict[str, str]) -> ExerciseRun:
    """The run with each error location naming the new cells (a location starts with its cell's label)."""
    moved = {old[1:-1]: new[1:-1] for old, new in labels.items() if old != new}  # "<cell In [3]>" -> "cell In [3]"
    if not moved:
        return run

    def located(error: StudentError) -> StudentError:
        where = tuple(next((moved[old] + line[len(old):] for old in moved if line.startswith(old + ", line ")), line)
                      for line in error.where)
        return dataclasses.replace(error, where=where)

    return dataclasses.replace(run, errors={case: located(error) for case, error in run.errors.items()},
                               load_error=run.load_error and located(run.load_error))


def _key(job: Job) -> str:
    code = [[snippet.source, snippet.line] for snippet in job.snippets]
    calls = [[call.case_id, call.watch_inputs] for call in job.calls]
    return hashlib.sha256(json.dumps([job.exercise, job.function, code, calls]).encode()).hexdigest()


def _payload_bytes(value: Any) -> int:
    """What ``value`` holds in memory, each object counted once (a result may share parts, or hold itself)."""
    return sum(sys.getsizeof(item) + (item.nbytes if isinstance(item, np.ndarray) and item.base is not None else 0)
               for item in _parts(value))


def _parts(value: Any) -> list[Any]:
    """``value`` and everything it holds, each object once."""
    seen: set[int] = set()
    parts, stack = [], [value]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        parts.append(item)
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return parts


def freeze(run: ExerciseRun) -> None:
    """Make every array of a run read-only: a kept run is shared by the submissions it is handed to (every
    run is frozen, kept or not, so that the checks see the same kind of values either way)."""
    for item in _parts([run.values, run.args_after]):
        if isinstance(item, np.ndarray):
            item.flags.writeable = False
