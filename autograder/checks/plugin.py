"""The pytest plugin that grades: it runs the student's code for every collected case, then judges.

Hidden test modules parametrise their tests over :class:`~autograder.checks.case.Case`
objects and use two fixtures: ``student(case)`` -- the student's result for
that case, computed in the sandbox -- and ``reference(case)`` -- the reference
solution's result, computed here.  Before a submission's tests run, the plugin
sends every collected case to the sandbox in one batch (exercises run in
parallel, each in its own confined process); tests then only compare plain
data.  Each test's outcome becomes a :class:`~autograder.reports.model.CaseResult`.
One plugin and one collection serve many submissions (see :mod:`.session`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import _pytest.python
import numpy as np
import pytest

from autograder.checks.case import Case
from autograder.checks.expect import CheckFailure
from autograder.notebook.assignment import Assignment
from autograder.reports.model import CaseResult
from autograder.reports.sanitize import CASE_CHARS, capped, clean
from autograder.sandbox.runner import ExerciseRun, StudentError

# pytest's own fixture for direct parametrisation (private: a pytest without it hands tests their case itself)
DIRECT_PARAMETER = getattr(_pytest.python, "get_direct_param_fixture_func", None)

RunCases = Callable[[dict[str, list[Case]]], dict[str, ExerciseRun]]
NOT_IMPLEMENTED = 'not implemented yet: replace the "raise NotImplementedError" line(s) with your code'
DIAGNOSIS = "your result is exactly what this mistake gives: "  # how expect's hints name a misconception


class StudentFailure(AssertionError):
    """The student's code gave no result for a case (error, time-out, missing function, ...)."""


class ReferenceResults:
    """The reference solutions' results, computed once per case and shared by every submission graded.

    Cases are keyed by id (exercise and label), which the hidden tests keep
    unique and deterministic; tests only read these values.
    """

    def __init__(self, assignment: Assignment) -> None:
        self.assignment = assignment
        self._results: dict[str, Any] = {}

    def result(self, case: Case) -> Any:
        if case.id not in self._results:
            args, kwargs = case.fresh_args()
            result = self.assignment.reference_functions()[case.exercise](*args, **kwargs)
            self._results[case.id] = _laid_out(result)
        return self._results[case.id]


def _laid_out(value: Any) -> Any:
    """``value`` with each array C-contiguous: a reference is compared with every submission, and comparing a
    strided view (a mini-batch slice) costs a copy each time."""
    if type(value) is np.ndarray:
        return value if value.flags.c_contiguous else value.copy(order="C")
    if type(value) in (list, tuple):
        return type(value)(_laid_out(item) for item in value)
    if type(value) is dict:
        return {key: _laid_out(item) for key, item in value.items()}
    return value


class GradingPlugin:
    """Collects cases; per submission, runs them through ``run_cases`` and records each case's outcome.

    One plugin serves a whole grading session: :meth:`start` begins each submission with fresh state.
    """

    def __init__(self, assignment: Assignment, references: ReferenceResults | None = None) -> None:
        self.assignment = assignment
        self.references = references or ReferenceResults(assignment)
        self.cases: list[Case] = []  # every collected case, in test order
        self._arguments: dict[str, dict[str, Any]] = {}  # test id -> the arguments this plugin gives it directly
        self.start(lambda cases: {}, {})

    def start(self, run_cases: RunCases, problems: dict[str, str]) -> None:
        """A new submission: forget the last one's outcomes and run this one's code on every collected case.

        ``problems``: exercise -> why its code cannot run at all (its cases are not run).
        """
        self.problems = problems
        self.runs: dict[str, ExerciseRun] = {}
        self.results: dict[str, list[CaseResult]] = defaultdict(list)
        self.internal_errors: list[str] = []
        by_exercise: dict[str, list[Case]] = defaultdict(list)
        for case in self.cases:
            if case.exercise not in problems:
                by_exercise[case.exercise].append(case)
        self.runs = run_cases(dict(by_exercise)) if by_exercise else {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        cases = [_case_of(item) for item in items]
        untested = {e.name for e in self.assignment.exercises} - {case.exercise for case in cases}
        if untested:
            raise pytest.UsageError(f"no hidden tests for {sorted(untested)}")
        self.cases = cases
        self._arguments = {item.nodeid: self._direct_arguments(item, case)
                           for item, case in zip(items, cases, strict=True)}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Give a test its case and this plugin's fixture values directly, before pytest fills in the rest: the
        values are the ones the fixtures give, without pytest's per-test fixture requests (which cost more
        than judging most cases)."""
        funcargs = getattr(item, "funcargs", None)
        if funcargs is not None:
            funcargs.update(self._arguments.get(item.nodeid, {}))

    def _direct_arguments(self, item: pytest.Item, case: Case) -> dict[str, Any]:
        """The test's directly parametrised case and the fixtures of this plugin it asks for (not one that a
        conftest or test module redefines)."""
        values = {"student": self.result_of, "student_inputs": self.inputs_of, "reference": self.references.result}
        arguments: dict[str, Any] = {}
        info = getattr(item, "_fixtureinfo", None)  # pytest's (private): without it, pytest's own requests serve
        for name, definitions in (info.name2fixturedefs.items() if info is not None else ()):
            function = definitions[-1].func
            if name == "case" and DIRECT_PARAMETER is not None and function is DIRECT_PARAMETER:
                arguments[name] = case
            elif name in values and getattr(function, "__self__", None) is self:
                arguments[name] = values[name]
        return arguments

    @pytest.fixture
    def student(self) -> Callable[[Case], Any]:
        return self.result_of

    @pytest.fixture
    def student_inputs(self) -> Callable[[Case], tuple]:
        """The positional arguments as the student's function left them (cases with ``watch_inputs``)."""
        return self.inputs_of

    @pytest.fixture
    def reference(self) -> Callable[[Case], Any]:
        return self.references.result

    def inputs_of(self, case: Case) -> tuple:
        self.result_of(case)
        after = self.runs[case.exercise].args_after.get(case.id)
        if after is None:
            raise StudentFailure("your code's process sent back an incomplete result for this case")
        return after

    def result_of(self, case: Case) -> Any:
        """The student's value for ``case``, or StudentFailure saying why there is none."""
        if case.exercise in self.problems:
            raise StudentFailure(self.problems[case.exercise])
        run = self.runs[case.exercise]
        if run.load_error is not None:
            raise StudentFailure("your code failed before the function could be called: "
                                 + describe_error(run.load_error))
        if case.id in run.errors:
            raise StudentFailure(describe_error(run.errors[case.id]))
        if case.id not in run.values:
            raise StudentFailure(run.stopped or "your code gave no result for this case")
        return run.values[case.id]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
        """Record the case's outcome; the report carries our feedback instead of a formatted traceback
        (pytest's own formatting would cost more than the whole grading of a failed case)."""
        passed = call.excinfo is None
        feedback, hint = ("", None) if passed else self._feedback(item, call)
        feedback, hint = clean(capped(feedback, CASE_CHARS)), hint and clean(capped(hint, CASE_CHARS))
        if call.when == "call" or (call.when == "setup" and not passed):
            case = _case_of(item)
            misconception = hint[len(DIAGNOSIS):] if hint and hint.startswith(DIAGNOSIS) else None
            self.results[case.exercise].append(CaseResult(case.label, passed, case.weight, case.hidden, feedback, hint,
                                                          misconception))
        when = "setup" if call.when == "collect" else call.when  # items are never collected through here
        return pytest.TestReport(item.nodeid, item.location, {}, "passed" if passed else "failed",
                                 None if passed else feedback, when, duration=call.duration,
                                 start=call.start, stop=call.stop)

    def _feedback(self, item: pytest.Item, call: pytest.CallInfo) -> tuple[str, str | None]:
        error = call.excinfo.value if call.excinfo else None
        if isinstance(error, CheckFailure):
            return error.message, error.hint
        if isinstance(error, StudentFailure):
            return str(error), None
        kind = type(error).__name__
        self.internal_errors.append(capped(f"{item.nodeid}: {kind}: {error}", CASE_CHARS))
        return f"the grader could not check this result ({kind}); please tell your instructor", None


def describe_error(error: StudentError) -> str:
    """An exception from student code, as feedback."""
    if error.type == "NotImplementedError":
        return NOT_IMPLEMENTED
    if error.type == "OSError" and "[Errno 27]" in error.message:
        return "your code printed too much output (output limit): remove print statements in loops"
    if error.type == "UnsendableResult":
        return f"your function returned something the grader cannot receive ({error.message[:200]})"
    if error.type == "MemoryError":
        return ("your code ran out of memory (the grader's limit): look for arrays far larger than the inputs "
                "or a list that grows without end" + (f" ({error.message})" if error.message else ""))
    text = f"your code raised {error.type}: {error.message}".rstrip(": ")
    if error.where:
        text += "\n" + "\n".join(f"    at {line}" for line in error.where)
    return text


def _case_of(item: pytest.Item) -> Case:
    case = item.callspec.params.get("case") if hasattr(item, "callspec") else None
    if not isinstance(case, Case):
        raise pytest.UsageError(f"hidden test {item.nodeid} is not parametrised over a Case")
    return case
