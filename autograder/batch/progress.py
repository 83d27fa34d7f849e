"""Progress while a batch runs: a rich bar on a terminal, one plain line per submission otherwise."""

from __future__ import annotations

import time
from typing import Protocol, TextIO

from autograder.batch.records import Outcome


def printable(text: str, limit: int = 120) -> str:
    """Text from submissions (file names, reasons) without control characters, cut to ``limit``."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text[: limit + 1])
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def describe(outcome: Outcome) -> str:
    """One submission's result in a few words."""
    report = outcome.report
    if report is None:
        return f"FAILED (grader): {printable(outcome.failure or '', 200)}"
    if report.error:
        return f"unreadable: {printable(report.error)}"
    return f"{report.score:g} / {report.max_score:g} ({report.seconds:.2f} s)"


class Progress(Protocol):
    def advance(self, outcome: Outcome) -> None: ...

    def close(self) -> None: ...


class PlainLines:
    """``[  3/120] alice: 87.5 / 100 (0.62 s)``: one line per finished submission, flushed."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream, self.done = total, stream, 0

    def advance(self, outcome: Outcome) -> None:
        self.done += 1
        width = len(str(self.total))
        print(f"[{self.done:>{width}}/{self.total}] {printable(outcome.task.student, 60)}: {describe(outcome)}",
              file=self.stream, flush=True)

    def close(self) -> None:
        """Nothing to finish: every line is already out."""


class RichBar:
    """A live bar: count, rate, ETA and failures so far."""

    def __init__(self, total: int, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._started = time.monotonic()
        self._failures = 0
        self._bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[rate]:.1f}/s"), TextColumn("ETA"), TimeRemainingColumn(),
                             TextColumn("failures: {task.fields[failures]}"), console=Console(file=stream))
        self._task = self._bar.add_task("grading", total=total, rate=0.0, failures=0)
        self._bar.start()

    def advance(self, outcome: Outcome) -> None:
        self._failures += outcome.report is None
        done = self._bar.tasks[0].completed + 1
        rate = done / max(time.monotonic() - self._started, 1e-9)
        self._bar.update(self._task, completed=done, rate=rate, failures=self._failures)

    def close(self) -> None:
        self._bar.stop()


def progress_for(total: int, stream: TextIO) -> Progress:
    """A bar when ``stream`` is a terminal, plain lines when it is a file or a pipe."""
    return RichBar(total, stream) if stream.isatty() else PlainLines(total, stream)
