"""Grading submissions: read each one, find each graded function, run the hidden tests.

This is the reusable core.  A :class:`Grader` holds what stays the same from
one submission to the next (the assignment, the reference results, the limits)
and grades any number of notebooks with :meth:`Grader.grade`; batch grading
keeps one per worker process.  :func:`grade_submission` grades a single
notebook (the CLI and the demo call it).  Both return a
:class:`~autograder.reports.model.GradeReport`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import time
from pathlib import Path

from autograder.checks.case import Case
from autograder.checks.imports import importable
from autograder.checks.plugin import GradingPlugin, ReferenceResults
from autograder.checks.session import HiddenTests, HiddenTestsError
from autograder.course import AssignmentFiles, default_files
from autograder.notebook.assignment import Assignment, load_assignment
from autograder.notebook.extract import ExtractionError, FunctionFinder
from autograder.notebook.submission import SubmissionError, read_submission
from autograder.notebook.version_check import file_problem, mismatch
from autograder.reports.model import ExerciseResult, GradeReport
from autograder.sandbox.known_runs import KnownRuns, freeze
from autograder.sandbox.runner import Call, ExerciseRun, Job, Limits, Sandbox, SandboxLost, Snippet

PYTEST_INI = Path(__file__).resolve().parent / "checks" / "pytest.ini"


class GraderError(RuntimeError):
    """The grader itself could not run (its own files are missing or broken)."""


DEFAULT_LIMITS = Limits()
SANDBOX_ATTEMPTS = 2  # a sandbox worker lost mid-run (the tool's fault) is replaced and the run repeated once


class Grader:
    """Grades notebooks one after another, keeping what does not depend on the submission.

    The assignment is read on first use (so that a single cold grade overlaps
    it with the sandbox's start-up), reference results are computed once per
    case, and one pytest session, collected once, runs the hidden tests of every
    submission (:class:`~autograder.checks.session.HiddenTests`).  Each
    submission's student code runs in its own sandbox children: see
    :meth:`_open_sandbox`; an exercise whose code this grader already ran, byte
    for byte, gets that run again (:mod:`~autograder.sandbox.known_runs`).
    """

    def __init__(self, assignment: Assignment | None = None, limits: Limits = DEFAULT_LIMITS,
                 tests_dir: Path | None = None, master: Path | None = None, isolation: bool = True,
                 files: AssignmentFiles | None = None, known_runs: KnownRuns | None = None) -> None:
        self._assignment = assignment
        self.limits = limits
        self.isolation = isolation  # False: the --no-isolation opt-out (resource limits only)
        self._sandbox: Sandbox | None = None
        self.files = files or default_files()  # the assignment's master, hidden tests and helper modules
        self.tests_dir = Path(tests_dir or self.files.hidden_tests)
        self.master = Path(master or self.files.master)
        self._references: ReferenceResults | None = None
        self._tests: tuple[HiddenTests, GradingPlugin] | None = None
        self._known_runs = KnownRuns() if known_runs is None else known_runs  # code already run is not run again

    @property
    def assignment(self) -> Assignment:
        if self._assignment is None:
            self._assignment = load_assignment(self.master)
        return self._assignment

    @functools.cached_property
    def version(self) -> str:
        """What the grades depend on besides the submission: hidden tests, master notebook, limits."""
        return grading_version(self.tests_dir, self.master, self.limits)

    def grade(self, path: Path) -> GradeReport:
        """Grade one notebook; student mistakes of any kind end up in the report, never as exceptions.

        Raises :class:`~autograder.sandbox.runner.IsolationUnavailable` when student code cannot be
        confined and isolation was not waived.
        """
        started = time.perf_counter()
        sandbox = self._open_sandbox()  # a new worker starts while the work below runs
        assignment = self.assignment
        try:
            cells = read_submission(Path(path))
            wrong_file = file_problem(path, assignment) or mismatch(cells, assignment)
        except SubmissionError as error:
            wrong_file = file_problem(path, assignment) or str(error)
        if wrong_file:
            return GradeReport(str(path), _unreadable(assignment, wrong_file), wrong_file,
                               time.perf_counter() - started, isolation=sandbox.require_isolation().describe())
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
            jobs = [Job(name, name, snippets[name], tuple(Call(c.id, c.args, c.kwargs, c.watch_inputs) for c in group))
                    for name, group in cases.items()]
            known = {job.exercise: run for job in jobs if (run := self._known_runs.get(job)) is not None}
            new = [job for job in jobs if job.exercise not in known]
            attempts_left = SANDBOX_ATTEMPTS
            while True:
                try:
                    # Student code runs here, and only here: in the sandbox's confined children.
                    runs = self._open_sandbox().run(new)
                    break
                except SandboxLost as error:
                    attempts_left -= 1
                    if not attempts_left:
                        raise GraderError(f"{error}, in {SANDBOX_ATTEMPTS} sandboxes in a row") from None
                    plugin.internal_errors.append(f"{error}; the run was repeated in a new sandbox")
            for job in new:
                freeze(runs[job.exercise])
                self._known_runs.keep(job, runs[job.exercise])
            return {**known, **runs}

        level = sandbox.require_isolation()
        with importable(self.tests_dir, self.files.utils_dir):  # hidden tests import their helpers by name
            tests, plugin = self._hidden_tests()
            try:
                plugin.start(run_cases, problems)
                tests.run()
            except BaseException:  # the session may be left mid-item: the next submission gets a new one
                self._close_tests()
                raise
        exercises = [_exercise_result(exercise, plugin, problems) for exercise in assignment.exercises]
        return GradeReport(str(path), exercises, None, time.perf_counter() - started, plugin.internal_errors,
                           level.describe())

    def _open_sandbox(self) -> Sandbox:
        """The long-lived sandbox: started on first use, replaced when a run left it unusable.

        Each submission's student code still runs in freshly forked, confined children.
        """
        if self._sandbox is None or not self._sandbox.usable:
            if self._sandbox is not None:
                self._sandbox.close()
            self._sandbox = Sandbox(self.limits, hidden=self.files.instructor_only, isolation=self.isolation)
        return self._sandbox

    def _hidden_tests(self) -> tuple[HiddenTests, GradingPlugin]:
        """The pytest session and its grading plugin: configured and collected on first use, then kept."""
        if self._tests is None:
            if self._references is None:
                self._references = ReferenceResults(self.assignment)
            plugin = GradingPlugin(self.assignment, self._references)
            try:
                self._tests = HiddenTests(self.tests_dir, PYTEST_INI, plugin), plugin
            except HiddenTestsError as error:
                raise GraderError(str(error)) from None
        return self._tests

    def _close_tests(self) -> None:
        self._known_runs.clear()  # a new session collects its cases anew
        if self._tests is not None:
            self._tests[0].close()
            self._tests = None

    def close(self) -> None:
        """End the pytest session and stop the sandbox worker."""
        self._close_tests()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def grade_submission(path: Path, *, assignment: Assignment | None = None, limits: Limits = DEFAULT_LIMITS,
                     tests_dir: Path | None = None, isolation: bool = True,
                     files: AssignmentFiles | None = None) -> GradeReport:
    """Grade one notebook with a fresh :class:`Grader` (``files``: the assignment, default the kit's own;
    ``isolation=False``: the --no-isolation opt-out)."""
    with Grader(assignment, limits, tests_dir, isolation=isolation, files=files) as grader:
        return grader.grade(path)


def grading_version(tests_dir: Path, master: Path, limits: Limits) -> str:
    """A digest of the hidden tests' files, the master notebook and the limits (but ``parallel``, which changes
    no grade): a change of any regrades."""
    digest = hashlib.sha256(repr(dataclasses.replace(limits.as_message(), parallel=0)).encode())
    files = sorted(p for p in Path(tests_dir).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in [*files, Path(master)]:
        digest.update(str(path.relative_to(tests_dir) if path in files else path.name).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _exercise_result(exercise, plugin: GradingPlugin, problems: dict[str, str]) -> ExerciseResult:
    run = plugin.runs.get(exercise.name)
    return ExerciseResult(exercise.number, exercise.name, exercise.points, plugin.results.get(exercise.name, []),
                          problems.get(exercise.name), run.output if run else "", run.seconds if run else 0.0)


def _unreadable(assignment: Assignment, reason: str) -> list[ExerciseResult]:
    return [ExerciseResult(e.number, e.name, e.points, [], reason) for e in assignment.exercises]
