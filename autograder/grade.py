"""Grading one submission: read it, find each graded function, run the hidden tests.

This is the reusable core: the CLI, the demo and batch grading all call
:func:`grade_submission` and get a :class:`~autograder.reports.model.GradeReport`.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.checks.case import Case
from autograder.checks.imports import importable
from autograder.checks.plugin import GradingPlugin
from autograder.course import AssignmentFiles, default_files
from autograder.notebook.assignment import Assignment, load_assignment
from autograder.notebook.extract import ExtractionError, FunctionFinder
from autograder.notebook.submission import SubmissionError, read_submission
from autograder.notebook.version_check import file_problem, mismatch
from autograder.reports.model import ExerciseResult, GradeReport
from autograder.sandbox.runner import Call, ExerciseRun, Job, Limits, Sandbox, Snippet

PYTEST_INI = Path(__file__).resolve().parent / "checks" / "pytest.ini"
AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


class GraderError(RuntimeError):
    """The grader itself could not run (its own files are missing or broken)."""


DEFAULT_LIMITS = Limits()


def grade_submission(path: Path, *, assignment: Assignment | None = None, limits: Limits = DEFAULT_LIMITS,
                     tests_dir: Path | None = None, files: AssignmentFiles | None = None) -> GradeReport:
    """Grade one notebook against ``files`` (default: the kit's default assignment); student mistakes of
    any kind end up in the report, never as exceptions."""
    started = time.perf_counter()
    files = files or default_files()
    sandbox = Sandbox(limits, hidden=files.instructor_only)  # its start-up overlaps with the work below
    try:
        assignment = assignment or load_assignment(files.master)
        try:
            cells = read_submission(Path(path))
            wrong_file = file_problem(path, assignment) or mismatch(cells, assignment)
        except SubmissionError as error:
            wrong_file = file_problem(path, assignment) or str(error)
        if wrong_file:
            return GradeReport(str(path), _unreadable(assignment, wrong_file), wrong_file,
                               time.perf_counter() - started)
        finder = FunctionFinder(cells, assignment.preamble_names)
        preamble = Snippet(assignment.preamble, "<preamble>")
        snippets: dict[str, tuple[Snippet, ...]] = {}
        problems: dict[str, str] = {}
        for exercise in assignment.exercises:
            try:
                snippets[exercise.name] = (preamble, *finder.locate(exercise.name))
            except ExtractionError as error:
                problems[exercise.name] = str(error)

        def run_cases(cases: dict[str, list[Case]]) -> dict[str, ExerciseRun]:
            return sandbox.run([Job(name, name, snippets[name],
                                    tuple(Call(case.id, case.args, case.kwargs, case.watch_inputs) for case in group))
                                for name, group in cases.items()])

        plugin = GradingPlugin(assignment, run_cases, problems)
        with importable(tests_dir or files.hidden_tests, files.utils_dir):
            _run_pytest(tests_dir or files.hidden_tests, plugin)
        exercises = [_exercise_result(exercise, plugin, problems) for exercise in assignment.exercises]
        return GradeReport(str(path), exercises, None, time.perf_counter() - started, plugin.internal_errors)
    finally:
        sandbox.close()


def _run_pytest(tests_dir: Path, plugin: GradingPlugin) -> None:
    args = [str(tests_dir), "-c", str(PYTEST_INI), "--rootdir", str(tests_dir), "--confcutdir", str(tests_dir),
            "-p", "no:terminal"]  # confcutdir: no conftest.py of the folders above the hidden tests
    with contextlib.redirect_stdout(io.StringIO()) as log, _no_plugin_autoload():
        code = pytest.main(args, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise GraderError(f"the hidden tests could not run (pytest exit code {int(code)}):\n{log.getvalue()[-3000:]}")


@contextlib.contextmanager
def _no_plugin_autoload() -> Iterator[None]:
    """Keep installed pytest plugins (xdist, ...) out of grading: they cost start-up time and add nothing."""
    previous = os.environ.get(AUTOLOAD)
    os.environ[AUTOLOAD] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[AUTOLOAD]
        else:
            os.environ[AUTOLOAD] = previous


def _exercise_result(exercise, plugin: GradingPlugin, problems: dict[str, str]) -> ExerciseResult:
    run = plugin.runs.get(exercise.name)
    return ExerciseResult(exercise.number, exercise.name, exercise.points, plugin.results.get(exercise.name, []),
                          problems.get(exercise.name), run.output if run else "", run.seconds if run else 0.0)


def _unreadable(assignment: Assignment, reason: str) -> list[ExerciseResult]:
    return [ExerciseResult(e.number, e.name, e.points, [], reason) for e in assignment.exercises]
