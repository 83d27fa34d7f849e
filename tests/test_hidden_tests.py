"""Tests of the hidden tests (hidden_tests/optimization_methods): each one passes what is right and fails what is not.

Notebooks are built from the master notebook by replacing graded cells, then
graded for real with :func:`autograder.grade.grade_submission` (sandbox
included).  To stay fast, one notebook holds several replaced exercises: the
exercises are split in two halves, and notebook ``(half, k)`` holds the k-th
wrong implementation of every exercise of that half (the other half keeps the
reference, so it must keep full points).  Each notebook is graded once per
module and shared by the tests that look at it.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import types
from pathlib import Path

import nbformat
import numpy as np
import pytest
import testCases as public  # the helper module, on sys.path (conftest.py)

from autograder.checks import expect
from autograder.checks.case import Case
from autograder.checks.imports import importable
from autograder.grade import grade_submission
from autograder.mutants import load_catalogue, wrong_cell
from autograder.notebook.assignment import load_assignment
from autograder.paths import HIDDEN_TESTS_DIR, MASTER_NOTEBOOK, UTILS_DIR
from autograder.reports.model import ExerciseResult, GradeReport

CATALOGUE = load_catalogue()
WRONG, NAMED_MISTAKE, CORRECT_VARIANTS = CATALOGUE.WRONG, CATALOGUE.NAMED, CATALOGUE.CORRECT_VARIANTS
MARKER = "# GRADED FUNCTION: {}\n\n"
EXERCISES = list(load_assignment().names)  # from the master notebook
HALVES = (EXERCISES[0::2], EXERCISES[1::2])
DIAGNOSIS = "your result is exactly what this mistake gives: "
# A hidden case's feedback may name shapes, dtypes and keys, never an expected number.
REVEALS_VALUE = re.compile(r"expected\s+[-+]?[\d.\[(]")


# Mistakes that show in how the function treats its inputs and outputs (in-place changes, aliasing), not in
# the values it returns: the feedback must say what happened.
NAMED_SIDE_EFFECT = {
    "velocity_zeroes_parameters": "changed its input parameters",
    "adam_init_same_dict": "v and s are the same object",
    "adam_init_shared_arrays": "are the same array",
}

# How many of each exercise's cases reproduce the notebook's public tests.
PUBLIC_CASES = {
    "update_parameters_with_gd": 1,
    "random_mini_batches": 2,
    "initialize_velocity": 1,
    "update_parameters_with_momentum": 1,
    "initialize_adam": 1,
    "update_parameters_with_adam": 1,
    "update_lr": 1,
    "schedule_lr_decay": 5,
}


# ----------------------------------------------------------------------------
# Building and grading notebooks
# ----------------------------------------------------------------------------


def build(path: Path, cells: dict[str, str]) -> Path:
    """The master notebook with the graded cells of ``cells`` (exercise -> source) replaced."""
    notebook = nbformat.read(MASTER_NOTEBOOK, as_version=4)
    replaced = set()
    for cell in notebook.cells:
        match = re.match(r"\s*# GRADED FUNCTION: (\w+)", cell.source) if cell.cell_type == "code" else None
        if match and match.group(1) in cells:
            cell.source = cells[match.group(1)]
            replaced.add(match.group(1))
    assert replaced == set(cells), f"graded cells not found: {set(cells) - replaced}"
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def grade(tmp_path_factory):
    """grade(key, cells): the report of the master notebook with ``cells`` replaced, graded once per key."""
    reports: dict[str, GradeReport] = {}
    folder = tmp_path_factory.mktemp("submissions")

    def graded(key: str, cells: dict[str, str]) -> GradeReport:
        if key not in reports:
            report = grade_submission(build(folder / f"{key}.ipynb", cells))
            assert report.error is None
            assert report.internal_errors == []
            reports[key] = report
        return reports[key]

    return graded


def by_name(report: GradeReport) -> dict[str, ExerciseResult]:
    return {exercise.name: exercise for exercise in report.exercises}


def full(exercise: ExerciseResult) -> bool:
    return bool(exercise.cases) and exercise.passed == len(exercise.cases) and exercise.score == pytest.approx(
        exercise.points)


# ----------------------------------------------------------------------------
# The hidden test modules themselves
# ----------------------------------------------------------------------------


def _load(path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"hidden_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


with importable(HIDDEN_TESTS_DIR, UTILS_DIR):  # as grading does: the modules beside them, the helpers
    HIDDEN = {module.EXERCISE: module for module in map(_load, sorted(HIDDEN_TESTS_DIR.glob("test_*.py")))}


def test_every_exercise_has_a_hidden_test_module(assignment):
    assert sorted(HIDDEN) == sorted(exercise.name for exercise in assignment.exercises)
    assert list(WRONG) == EXERCISES, "the mutants catalogue must cover every exercise, in order"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_cases_are_well_formed(exercise):
    cases = HIDDEN[exercise].CASES
    assert all(isinstance(case, Case) and case.exercise == exercise for case in cases)
    assert len({case.label for case in cases}) == len(cases), "labels must be unique"
    assert sum(not case.hidden for case in cases) == PUBLIC_CASES[exercise]
    assert sum(case.hidden for case in cases) >= 4
    assert all(case.weight > 0 for case in cases)


def _misconceptions(exercise):
    return getattr(HIDDEN[exercise], "MISCONCEPTIONS", ())


@pytest.mark.parametrize("exercise", EXERCISES)
def test_misconceptions_run_on_every_case_and_differ_from_the_reference(exercise, reference):
    """The grader runs them on a failing case's inputs: they must never raise, and each must be a real mistake."""
    misconceptions = _misconceptions(exercise)
    assert len(misconceptions) >= 3
    for misconception in misconceptions:
        differs = False
        for case in HIDDEN[exercise].CASES:
            args, kwargs = case.fresh_args()
            want = reference[exercise](*args, **kwargs)
            args, kwargs = case.fresh_args()
            with np.errstate(all="ignore"):
                wrong = misconception.wrong(*args, **kwargs)
            differs = differs or expect.difference(wrong, want, "result", reveal=False) is not None
        assert differs, f"{misconception.description!r} gives the reference's result on every case"


# ----------------------------------------------------------------------------
# The reference passes; correct variants pass
# ----------------------------------------------------------------------------


def test_master_notebook_scores_full_points(grade):
    report = grade("master", {})
    assert report.score == pytest.approx(100.0)
    assert report.max_score == pytest.approx(100.0)
    for exercise in report.exercises:
        assert full(exercise), f"{exercise.name}: {[(c.label, c.feedback) for c in exercise.cases if not c.passed]}"




@pytest.mark.parametrize("variant", range(len(CORRECT_VARIANTS)))
def test_correct_but_different_implementations_score_full_points(grade, variant):
    cells = {name: MARKER.format(name) + source.lstrip() for name, source in CORRECT_VARIANTS[variant].items()}
    assert set(cells) == set(EXERCISES)
    report = grade(f"variant{variant}", cells)
    for exercise in report.exercises:
        assert full(exercise), f"{exercise.name}: {[(c.label, c.feedback) for c in exercise.cases if not c.passed]}"


# ----------------------------------------------------------------------------
# Wrong implementations lose points, with feedback naming the mistake
# ----------------------------------------------------------------------------


def _notebook_of(exercise: str, index: int) -> tuple[str, dict[str, str]]:
    """The key and replaced cells of the notebook holding WRONG[exercise][index]."""
    half = 0 if exercise in HALVES[0] else 1
    cells = {name: wrong_cell(name, WRONG[name][index], CATALOGUE) for name in HALVES[half] if index < len(WRONG[name])}
    return f"wrong-{half}-{index}", cells


WRONG_CASES = [
    pytest.param(exercise, index, id=wrong.__name__)
    for exercise, wrongs in WRONG.items() for index, wrong in enumerate(wrongs)
]


@pytest.mark.parametrize(("exercise", "index"), WRONG_CASES)
def test_wrong_implementation_loses_points(grade, exercise, index):
    key, cells = _notebook_of(exercise, index)
    results = by_name(grade(key, cells))
    for name, result in results.items():
        if name not in cells:
            assert full(result), f"{name} (the reference) lost points in a notebook where {exercise} is wrong"
    result = results[exercise]
    assert result.problem is None
    assert result.score < result.points - 1e-9, f"{WRONG[exercise][index].__name__} got full points"
    failed = [case for case in result.cases if not case.passed]
    assert all(case.full_feedback for case in failed)
    assert not any("NameError" in case.full_feedback for case in failed), "the wrong implementation is incomplete"
    assert not any(REVEALS_VALUE.search(case.full_feedback) for case in failed if case.hidden), \
        [case.full_feedback for case in failed if case.hidden]
    name = WRONG[exercise][index].__name__
    if name in NAMED_MISTAKE:
        assert any(DIAGNOSIS in case.full_feedback and NAMED_MISTAKE[name] in case.full_feedback
                   for case in failed), [case.full_feedback for case in failed]
    if name in NAMED_SIDE_EFFECT:
        assert any(NAMED_SIDE_EFFECT[name] in case.full_feedback for case in failed), \
            [case.full_feedback for case in failed]


# ----------------------------------------------------------------------------
# A hard-coded answer passes the public cases only
# ----------------------------------------------------------------------------


def literal(value) -> str:
    """Python source that rebuilds ``value`` (arrays, dicts, tuples, lists, numbers) exactly."""
    if isinstance(value, np.ndarray):
        return f"np.array({value.tolist()!r}, dtype={value.dtype.str!r})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {literal(item)}" for key, item in value.items()) + "}"
    if isinstance(value, tuple):
        return "(" + "".join(f"{literal(item)}, " for item in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    return repr(float(value))


def hard_coded_cells(reference) -> dict[str, str]:
    """Each graded function returning the expected values of its (first) public case as literals."""
    def answer(exercise, args):
        return literal(reference[exercise](*args))

    signatures = {name: inspect.signature(function) for name, function in reference.items()}
    returns = {
        "update_parameters_with_gd": answer("update_parameters_with_gd", public.update_parameters_with_gd_test_case()),
        "random_mini_batches": answer("random_mini_batches", public.random_mini_batches_test_case()),
        "initialize_velocity": answer("initialize_velocity", (public.initialize_velocity_test_case(),)),
        "update_parameters_with_momentum": answer("update_parameters_with_momentum",
                                                  public.update_parameters_with_momentum_test_case()),
        "initialize_adam": answer("initialize_adam", (public.initialize_adam_test_case(),)),
        "update_parameters_with_adam": answer("update_parameters_with_adam",
                                              public.update_parameters_with_adam_test_case()),
        "update_lr": answer("update_lr", public.update_lr_test_case()),
        "schedule_lr_decay": "{" + ", ".join(f"{args!r}: {reference['schedule_lr_decay'](*args)!r}"
                                             for args in public.schedule_lr_decay_test_cases())
                             + "}[(learning_rate0, epoch_num, decay_rate, time_interval)]",
    }
    return {name: MARKER.format(name) + f"def {name}{signatures[name]}:\n    return {source}\n"
            for name, source in returns.items()}


def test_hard_coded_answers_pass_only_public_cases(grade, reference):
    report = grade("hard-coded", hard_coded_cells(reference))
    for exercise in report.exercises:
        assert exercise.score < exercise.points - 1e-9, exercise.name
        hidden = [case for case in exercise.cases if case.hidden]
        public_cases = [case for case in exercise.cases if not case.hidden]
        assert hidden and not any(case.passed for case in hidden), \
            (exercise.name, [case.label for case in hidden if case.passed])
        assert public_cases[0].passed, (exercise.name, public_cases[0].feedback)
        if exercise.name == "schedule_lr_decay":
            assert all(case.passed for case in public_cases)
