"""A whole batch, from PATH to grades: choose what to grade, grade it in parallel, record, report.

Order of work for each finished submission: the ledger line first (durable:
an interrupted batch keeps it), then the gradebook (one transaction), then
the progress line.  At the end: the CSV (written atomically from the current
grades, resumed ones included) and the summary table.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from autograder.batch.csv_table import write_csv
from autograder.batch.discover import Discovered, DiscoveryError, Submission, discover
from autograder.batch.gradebook import GradebookError, GradebookWriter, MasterCells, gradebook_url
from autograder.batch.ledger import Ledger
from autograder.batch.progress import printable, progress_for
from autograder.batch.records import Outcome, Task
from autograder.batch.settings import GraderSettings
from autograder.batch.summary import summary_text
from autograder.notebook.assignment import Assignment, load_assignment
from autograder.paths import ASSIGNMENT
from autograder.reports.class_report import write_class_report
from autograder.reports.feedback_page import feedback_path, write_feedback_page
from autograder.reports.model import GradeReport
from autograder.settings import DEFAULT_SETTINGS, FeedbackSettings

DEFAULT_GRADEBOOK = "gradebook.db"  # inside PATH (for a course root: nbgrader's own gradebook)


class UsageError(ValueError):
    """The command was given something it cannot work with (exit 2)."""


@dataclass(frozen=True)
class BatchOptions:
    """What ``grade-all`` was asked to do."""

    path: Path
    jobs: int = os.cpu_count() or 1
    csv: Path | None = None
    gradebook: str | None = None  # an SQLAlchemy URL or a file path; DEFAULT_GRADEBOOK means PATH's own
    scheduler: str | None = None
    force: bool = False
    students: tuple[str, ...] = ()  # empty: everyone
    settings: GraderSettings = field(default_factory=GraderSettings)
    assignment_name: str = ASSIGNMENT
    feedback: FeedbackSettings = DEFAULT_SETTINGS  # what students are told, on their pages and in the report


@dataclass
class BatchResult:
    """Every current grade of the batch's students (None: not graded), what failed, and counts."""

    grades: dict[str, GradeReport | None]
    failures: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # outputs that could not be written
    outputs: list[str] = field(default_factory=list)  # where the pages and the report were written
    graded_now: int = 0
    up_to_date: int = 0
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.failures or self.problems or self.interrupted else 0


def run_batch(options: BatchOptions, out: TextIO | None = None, err: TextIO | None = None) -> BatchResult:
    """Grade what is new or changed under ``options.path``; raise UsageError for a wrong PATH or student.

    The summary goes to ``out``, progress and problems to ``err`` (default: standard output and error).
    """
    out, err = out or sys.stdout, err or sys.stderr
    settings = options.settings
    master = settings.master_notebook
    assignment = settings.assignment or load_assignment(master)
    try:
        found = discover(options.path, options.assignment_name, master.name)
    except DiscoveryError as error:
        raise UsageError(str(error)) from None
    selected = _select(found, options.students)
    ledger = Ledger(found.state_dir / f"{options.assignment_name}.jsonl")
    version = settings.version
    hashes = {s.student: _sha256(s.path) for s in found.submissions}
    recorded = _current_grades(ledger, hashes, version)
    tasks = [Task(s.student, s.path, hashes[s.student]) for s in selected
             if options.force or recorded[s.student] is None]
    up_to_date = [s.student for s in selected if s.student not in {task.student for task in tasks}]
    result = BatchResult(recorded, up_to_date=len(up_to_date))
    writer = _gradebook(options, master)
    print(f"{len(tasks)} to grade, {len(up_to_date)} already graded and unchanged "
          f"({len(found.submissions)} submissions in {printable(str(options.path))})", file=err, flush=True)
    progress = progress_for(len(tasks), err)
    try:
        with contextlib.closing(_outcomes(options, tasks)) as outcomes:  # closing stops the workers
            for outcome in outcomes:
                ledger.record(outcome, version)
                _submission_done(options, outcome, result, writer)
                progress.advance(outcome)
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        progress.close()
    # The ledger file is the record, wherever an interruption fell: read it back (the copy in memory goes first).
    path = ledger.path
    del recorded, ledger
    result.grades = {}
    result.grades = _current_grades(Ledger(path), hashes, version)
    if writer is not None:
        for student in up_to_date:  # grades a previous run recorded but could not write (e.g. killed in between)
            _write_grade(writer, student, result.grades[student], result)
        writer.close()
    _batch_done(options, assignment, result)
    print(summary_text({s: r for s, r in result.grades.items() if r is not None}, result.failures, assignment,
                       result.graded_now, result.up_to_date), file=out, end="", flush=True)
    for line in result.outputs:
        print(printable(line, 500), file=out)
    for problem in result.problems:
        print(f"error: {printable(problem, 500)}", file=err)
    if result.interrupted:
        print("interrupted: finished grades are kept; run the same command again to grade the rest", file=err)
    return result


def _select(found: Discovered, students: tuple[str, ...]) -> list[Submission]:
    if not students:
        return list(found.submissions)
    known = {s.student for s in found.submissions}
    unknown = sorted(set(students) - known)
    if unknown:
        raise UsageError(f"no submission for student(s) {', '.join(printable(s, 60) for s in unknown)}")
    return [s for s in found.submissions if s.student in students]


def _outcomes(options: BatchOptions, tasks: list[Task]) -> Generator[Outcome, None, None]:
    if not tasks:
        return
    if options.scheduler:
        from autograder.batch.cluster import ClusterPool

        yield from ClusterPool(options.settings, options.scheduler).grade(tasks)
    else:
        from autograder.batch.local import LocalPool

        yield from LocalPool(options.settings, options.jobs).grade(tasks)


def _submission_done(options: BatchOptions, outcome: Outcome, result: BatchResult,
                     writer: GradebookWriter | None) -> None:
    """Per-submission outputs, after the ledger has the grade: the gradebook (and any per-student page)."""
    student = outcome.task.student
    if outcome.report is None:
        result.failures[student] = outcome.failure or "unknown failure"
        return
    result.graded_now += 1
    if writer is not None:
        _write_grade(writer, student, outcome.report, result)
    _write_page(options, student, outcome.report, result)


def _batch_done(options: BatchOptions, assignment: Assignment, result: BatchResult) -> None:
    """End-of-batch outputs from every current grade: the CSV, missing feedback pages, the class report."""
    if options.csv is not None:
        try:
            write_csv(options.csv, result.grades, assignment)
        except OSError as error:
            result.problems.append(f"the CSV file could not be written: {error}")
    graded = {student: report for student, report in result.grades.items() if report is not None}
    for student, report in graded.items():  # e.g. a run killed between the ledger line and the page
        with contextlib.suppress(ValueError):  # an id that is no folder name: _write_page said so already
            if not feedback_path(options.path, student, options.assignment_name).exists():
                _write_page(options, student, report, result)
    if graded:
        try:
            index = write_class_report(graded, assignment, options.path, options.feedback)
        except OSError as error:
            result.problems.append(f"the class report could not be written: {error}")
        else:
            result.outputs.append(f"class report: {index}")
        result.outputs.append(f"feedback pages: {options.path / 'feedback'}/<student>/{options.assignment_name}/")


def _write_page(options: BatchOptions, student: str, report: GradeReport, result: BatchResult) -> None:
    """The student's feedback page, in nbgrader's layout: PATH/feedback/<student>/<assignment>/feedback.html."""
    try:
        write_feedback_page(report, student, options.assignment_name, options.path, options.feedback)
    except ValueError:  # the grade stands; only the page has no place to go
        result.outputs.append(f"warning: no feedback page for {printable(student, 60)}: not usable as a folder name")
    except OSError as error:
        result.problems.append(f"the feedback page of {printable(student, 60)} could not be written: {error}")


def _write_grade(writer: GradebookWriter, student: str, report: GradeReport | None, result: BatchResult) -> None:
    if report is None:
        return
    try:
        writer.write(student, report)
    except GradebookError as error:
        result.problems.append(str(error))


def _current_grades(ledger: Ledger, hashes: dict[str, str], version: str) -> dict[str, GradeReport | None]:
    """Each student's recorded grade if it was made for their submission as it is now, with these tests."""
    entries = {student: ledger.entries.get(student) for student in hashes}
    return {student: entry.report if entry and entry.is_current(hashes[student], version) else None
            for student, entry in entries.items()}


def _gradebook(options: BatchOptions, master: Path) -> GradebookWriter | None:
    if options.gradebook is None:
        return None
    url = gradebook_url(str(options.path / DEFAULT_GRADEBOOK) if options.gradebook == DEFAULT_GRADEBOOK
                        else options.gradebook)
    return GradebookWriter(url, options.assignment_name, MasterCells.of(master))


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"
