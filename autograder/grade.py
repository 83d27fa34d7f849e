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
from autograder.checks.plugin import GradingPlugin
from autograder.notebook.assignment import PREAMBLE, Assignment, load_assignment
from autograder.notebook.extract import ExtractionError, FunctionFinder
from autograder.notebook.submission import SubmissionError, read_submission
from autograder.paths import HIDDEN_TESTS_DIR, INSTRUCTOR_ONLY
from autograder.reports.model import ExerciseResult, GradeReport
from autograder.sandbox.runner import Call, ExerciseRun, Job, Limits, Sandbox, Snippet

PREAMBLE_SNIPPET = Snippet(PREAMBLE, "<preamble>")
AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


class GraderError(RuntimeError):
    """The grader itself could not run (its own files are missing or broken)."""


DEFAULT_LIMITS = Limits()


def grade_submission(path: Path, *, assignment: Assignment | None = None, limits: Limits = DEFAULT_LIMITS,
                     tests_dir: Path = HIDDEN_TESTS_DIR, isolation: bool = True) -> GradeReport:
    """Grade one notebook; student mistakes of any kind end up in the report, never as exceptions.

    Raises :class:`~autograder.sandbox.runner.IsolationUnavailable` when student code cannot be confined
    and ``isolation`` (the default) requires it; ``isolation=False`` is the ``--no-isolation`` opt-out.
    """
    started = time.perf_counter()
    sandbox = Sandbox(limits, hidden=INSTRUCTOR_ONLY, isolation=isolation)  # starts while the work below runs
    try:
        assignment = assignment or load_assignment()
        try:
            cells = read_submission(Path(path))
        except SubmissionError as error:
            return GradeReport(str(path), _unreadable(assignment, str(error)), str(error),
                               time.perf_counter() - started, isolation=sandbox.require_isolation().describe())
        finder = FunctionFinder(cells)
        snippets: dict[str, tuple[Snippet, ...]] = {}
        problems: dict[str, str] = {}
        for exercise in assignment.exercises:
            try:
                snippets[exercise.name] = (PREAMBLE_SNIPPET, *finder.locate(exercise.name))
            except ExtractionError as error:
                problems[exercise.name] = str(error)

        def run_cases(cases: dict[str, list[Case]]) -> dict[str, ExerciseRun]:
            return sandbox.run([Job(name, name, snippets[name],
                                    tuple(Call(case.id, case.args, case.kwargs, case.watch_inputs) for case in group))
                                for name, group in cases.items()])

        level = sandbox.require_isolation()
        plugin = GradingPlugin(assignment, run_cases, problems)
        _run_pytest(tests_dir, plugin)
        exercises = [_exercise_result(exercise, plugin, problems) for exercise in assignment.exercises]
        return GradeReport(str(path), exercises, None, time.perf_counter() - started, plugin.internal_errors,
                           level.describe())
    finally:
        sandbox.close()


def _run_pytest(tests_dir: Path, plugin: GradingPlugin) -> None:
    args = [str(tests_dir), "-c", str(tests_dir / "pytest.ini"), "--rootdir", str(tests_dir),
            "-p", "no:terminal"]
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
