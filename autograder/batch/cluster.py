"""Grading on a Dask distributed cluster: one task per submission, the notebook sent as bytes.

Workers need the kit installed (the same hidden tests and master: each task
returns the grading version it used, and a mismatch is the tool's failure),
not a shared filesystem.  Each task grades in a private temporary folder and
returns plain data.  Dask workers keep their processes between tasks, so a
worker builds its Grader on first use and keeps it (keyed by the settings),
never at import.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autograder.batch.records import Outcome, Task, report_from_data, report_to_data
from autograder.batch.settings import GraderSettings
from autograder.grade import Grader

_GRADING = threading.Lock()  # pytest runs one session at a time in a process; threads of a worker take turns


class ClusterError(RuntimeError):
    """The Dask scheduler could not be reached."""


def grade_notebook(data: bytes, file_name: str, settings: GraderSettings) -> dict[str, Any]:
    """The Dask task: grade a notebook given as bytes; return the report as plain data and the version used."""
    with _GRADING, tempfile.TemporaryDirectory(prefix="optkit-batch-") as folder:
        grader = _WORKER_GRADER.for_settings(settings)
        path = Path(folder) / Path(file_name).name
        path.write_bytes(data)
        report = grader.grade(path)
    return {"version": grader.version, "report": report_to_data(report)}


class _ProcessGrader:
    """The one Grader of a Dask worker process (created on first use); a task with other settings closes it and
    gets a new one, so no sandbox worker is left behind by an earlier batch."""

    def __init__(self) -> None:
        self._settings: GraderSettings | None = None
        self._grader: Grader | None = None

    def for_settings(self, settings: GraderSettings) -> Grader:
        if self._grader is None or self._settings != settings:
            if self._grader is not None:
                self._grader.close()
            self._grader, self._settings = settings.grader(), settings
        return self._grader


_WORKER_GRADER = _ProcessGrader()  # holds nothing until a task runs; used under _GRADING only


class ClusterPool:
    """Submits every task to the scheduler at ``address`` and yields outcomes as they complete."""

    def __init__(self, settings: GraderSettings, address: str) -> None:
        self.settings = settings
        self.address = address

    def grade(self, tasks: list[Task]) -> Iterator[Outcome]:
        from distributed import Client, as_completed

        try:
            client = Client(self.address, timeout="10s")
        except (OSError, TimeoutError) as error:
            raise ClusterError(f"the Dask scheduler at {self.address} could not be reached: {error}") from error
        try:
            futures = {}
            for task in tasks:
                data = _read(task.path)
                if data is None:  # nothing to send: the report says the file could not be opened
                    with self.settings.grader() as grader:
                        yield Outcome(task, grader.grade(task.path))
                    continue
                futures[client.submit(grade_notebook, data, task.path.name, self.settings,
                                      key=f"grade-{task.student}-{task.sha256[:16]}", pure=False)] = task
            for future in as_completed(futures):
                yield self._outcome(futures[future], future)
        finally:
            client.close()

    def _outcome(self, task: Task, future) -> Outcome:
        if future.status != "finished":
            error = future.exception()
            return Outcome(task, None, f"the Dask task failed: {type(error).__name__}: {error}")
        result = future.result()
        if result["version"] != self.settings.version:
            return Outcome(task, None, "the Dask worker grades with other hidden tests or another master notebook "
                                       f"(version {result['version']}, expected {self.settings.version})")
        report = report_from_data(result["report"])
        report.submission = str(task.path)
        return Outcome(task, report)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
