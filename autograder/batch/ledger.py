"""The batch's memory: one JSON line per finished submission, appended and synced as soon as it is done.

A run killed at any moment keeps every line it finished; a line cut short by
the kill is ignored when the ledger is read back.  The latest line of a
student wins.  A grade is current when it was made for the same submission
content (SHA-256) and the same grading version (hidden tests, master, limits).

The file is read line by line, and texts that recur from one report to the
next (case labels, common feedback) are kept once: a class of tens of
thousands costs a few kilobytes of memory per student.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.batch.records import Outcome, report_from_data, report_to_data
from autograder.reports.model import GradeReport


@dataclass(frozen=True)
class Entry:
    """One ledger line: the grade (or the failure) of one student's submission content."""

    student: str
    sha256: str
    version: str
    report: GradeReport | None
    failure: str | None

    def is_current(self, sha256: str, version: str) -> bool:
        return self.report is not None and self.sha256 == sha256 and self.version == version


class Ledger:
    """An append-only JSON-lines file of :class:`Entry` records."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._torn = False  # the file ends inside a line: the next record starts a new line
        self._strings: dict[str, str] = {}  # texts shared by the reports kept
        self.entries: dict[str, Entry] = self._read()

    def record(self, outcome: Outcome, version: str) -> Entry:
        """Append the outcome durably (fsync) before anything else is done with it."""
        entry = Entry(outcome.task.student, outcome.task.sha256, version, outcome.report, outcome.failure)
        data = report_to_data(entry.report) if entry.report else None
        line = {"student": entry.student, "sha256": entry.sha256, "version": version, "failure": entry.failure,
                "report": data}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as stream:
            stream.write(("\n" if self._torn else "") + json.dumps(line) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        self._torn = False
        kept = report_from_data(data, self._strings) if data else None  # kept with its texts shared
        self.entries[entry.student] = dataclasses.replace(entry, report=kept)
        return entry

    def _read(self) -> dict[str, Entry]:
        entries: dict[str, Entry] = {}
        try:
            stream = open(self.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return entries
        last = b""
        with stream:
            for last in stream:
                entry = _entry(last, self._strings)
                if entry is not None:
                    entries[entry.student] = entry
        self._torn = bool(last) and not last.endswith(b"\n")
        return entries


def _entry(line: bytes, strings: dict[str, str]) -> Entry | None:
    """The entry a line holds, or None for a line cut short (a run killed while writing it) or garbled."""
    try:
        raw: dict[str, Any] = json.loads(line)
        report = report_from_data(raw["report"], strings) if raw.get("report") else None
        return Entry(str(raw["student"]), str(raw["sha256"]), str(raw["version"]), report, raw.get("failure"))
    except (ValueError, KeyError, TypeError):
        return None
