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
import wrong_implementations
from wrong_implementations import WRONG

from autograder.checks import expect
from autograder.checks.case import Case
from autograder.checks.imports import importable
from autograder.grade import grade_submission
from autograder.notebook.assignment import load_assignment
from autograder.paths import HIDDEN_TESTS_DIR, MASTER_NOTEBOOK, UTILS_DIR
from autograder.reports.model import ExerciseResult, GradeReport

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

# For these wrong implementations, the feedback must name the misconception (a fragment of its description
# in the exercise's hidden test module).
NAMED_MISTAKE = {
    "gd_sign_flipped": "climbs the gradient",
    "gd_forgets_b": "biases b are left as they were",
    "gd_only_first_layers": "the last layer is not updated",
    "rmb_no_shuffle": "the examples are not shuffled",
    "rmb_different_permutations": "two different permutations",
    "rmb_drops_last_batch": "the last, smaller mini-batch is missing",
    "rmb_slices_rows": "cut from the rows (features) of X",
    "rmb_flat_labels": "the label mini-batches are 1-D",
    "velocity_one_dimensional": "1-D arrays",
    "velocity_parameter_keys": "the keys are the parameters'",
    "velocity_ones": "starts at ones",
    "velocity_integer_zeros": "the zeros are integers",
    "velocity_first_layer_only": "the last layer has no velocity",
    "momentum_beta_swapped": "beta and 1 - beta are swapped",
    "momentum_v_not_stored": "not stored in v",
    "momentum_steps_with_gradient": "stepped with the gradient dW",
    "momentum_steps_with_old_velocity": "the velocity from before this update",
    "adam_init_one_dimensional": "1-D arrays",
    "adam_init_parameter_keys": "the keys are the parameters'",
    "adam_init_ones": "v and s start at ones",
    "adam_no_bias_correction": "the bias correction is missing",
    "adam_epsilon_inside_sqrt": "epsilon is inside the square root",
    "adam_beta1_for_s": "averaged with beta1 instead of beta2",
    "adam_t_plus_one": "uses t + 1 instead of t",
    "adam_not_squared": "instead of their squares",
    "adam_uncorrected_step": "stepped with the uncorrected v and s",
    "schedule_no_floor": "the floor is missing",
    "schedule_update_lr_formula": "time_interval is ignored",
    "schedule_integer_division": "divided with // (floor division)",
    "schedule_ceil": "rounded up (ceil)",
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


def _names_used(code: types.CodeType):
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _names_used(constant)


def _helpers(function, found: dict[str, str]) -> dict[str, str]:
    """Sources of the module-level functions of wrong_implementations that ``function`` needs, transitively."""
    for name in _names_used(function.__code__):
        helper = getattr(wrong_implementations, name, None)
        if isinstance(helper, types.FunctionType) and name not in found:
            found[name] = inspect.getsource(helper)
            _helpers(helper, found)
    return found


def wrong_cell(exercise: str, wrong) -> str:
    """A graded cell defining ``exercise`` as the wrong implementation, with the helpers it calls."""
    source = re.sub(rf"^def {wrong.__name__}\(", f"def {exercise}(", inspect.getsource(wrong), count=1, flags=re.M)
    helpers = _helpers(wrong, {})
    helpers.pop(wrong.__name__, None)
    return MARKER.format(exercise) + "\n\n".join([*helpers.values(), source])


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
    assert list(WRONG) == EXERCISES, "tests/wrong_implementations.py must cover every exercise, in order"


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


CORRECT_VARIANTS = (
    {
        "update_parameters_with_gd": """
def update_parameters_with_gd(parameters, grads, learning_rate):
    for key in parameters:
        parameters[key] -= learning_rate * grads["d" + key]
    return parameters
""",
        "random_mini_batches": """
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    permutation = np.random.permutation(m)
    X, Y = X[:, permutation], Y[:, permutation]
    return [(X[:, k:k + mini_batch_size], Y[:, k:k + mini_batch_size]) for k in range(0, m, mini_batch_size)]
""",
        "initialize_velocity": """
def initialize_velocity(parameters):
    return {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
""",
        "update_parameters_with_momentum": """
def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    for key in grads:
        v[key] *= beta
        v[key] += (1 - beta) * grads[key]
        parameters[key[1:]] -= learning_rate * v[key]
    return parameters, v
""",
        "initialize_adam": """
def initialize_adam(parameters):
    v = {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
    s = {key: value.copy() for key, value in v.items()}
    return v, s
""",
        "update_parameters_with_adam": """
def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    v_corrected, s_corrected = {}, {}
    for key, grad in grads.items():
        v[key] *= beta1
        v[key] += (1 - beta1) * grad
        s[key] *= beta2
        s[key] += (1 - beta2) * grad ** 2
        v_corrected[key] = v[key] / (1 - beta1 ** t)
        s_corrected[key] = s[key] / (1 - beta2 ** t)
        parameters[key[1:]] -= learning_rate * v_corrected[key] / (s_corrected[key] ** 0.5 + epsilon)
    return parameters, v, s, v_corrected, s_corrected
""",
        "update_lr": """
def update_lr(learning_rate0, epoch_num, decay_rate):
    return learning_rate0 * (1 + decay_rate * epoch_num) ** -1.0
""",
        "schedule_lr_decay": """
def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return learning_rate0 / (1 + decay_rate * (epoch_num // time_interval))
""",
    },
    {
        "update_parameters_with_gd": """
def update_parameters_with_gd(parameters, grads, learning_rate):
    return {key: value - learning_rate * grads["d" + key] for key, value in parameters.items()}
""",
        "random_mini_batches": """
def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    order = list(np.random.permutation(m))
    shuffled_X = np.take(X, order, axis=1)
    shuffled_Y = np.take(Y, order, axis=1).reshape((1, m))
    mini_batches = []
    start = 0
    while start < m:
        stop = min(start + mini_batch_size, m)
        mini_batches.append((shuffled_X[:, start:stop], shuffled_Y[:, start:stop]))
        start = stop
    return mini_batches
""",
        "initialize_velocity": """
def initialize_velocity(parameters):
    v = {}
    for l in range(len(parameters) // 2):
        rows, columns = parameters["W%d" % (l + 1)].shape
        v["dW%d" % (l + 1)] = np.zeros((rows, columns), dtype=float)
        v["db%d" % (l + 1)] = np.zeros((rows, 1))
    return v
""",
        "update_parameters_with_momentum": """
def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    new_parameters, new_v = {}, {}
    for l in range(1, len(parameters) // 2 + 1):
        for name in ("W", "b"):
            key = f"d{name}{l}"
            new_v[key] = np.add(np.multiply(beta, v[key]), np.multiply(1 - beta, grads[key]))
            new_parameters[f"{name}{l}"] = parameters[f"{name}{l}"] - learning_rate * new_v[key]
    return new_parameters, new_v
""",
        "initialize_adam": """
def initialize_adam(parameters):
    v, s = {}, {}
    for l in range(1, len(parameters) // 2 + 1):
        for name in ("W", "b"):
            shape = parameters[name + str(l)].shape
            v["d" + name + str(l)] = np.zeros(shape)
            s["d" + name + str(l)] = np.zeros(shape)
    return v, s
""",
        "update_parameters_with_adam": """
def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    L = len(parameters) // 2
    new_v = {k: beta1 * v[k] + (1 - beta1) * grads[k] for k in grads}
    new_s = {k: beta2 * s[k] + (1 - beta2) * np.power(grads[k], 2) for k in grads}
    v_corrected = {k: new_v[k] / (1 - math.pow(beta1, t)) for k in grads}
    s_corrected = {k: new_s[k] / (1 - math.pow(beta2, t)) for k in grads}
    new_parameters = {}
    for l in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(l)
            step = v_corrected[key] / (np.sqrt(s_corrected[key]) + epsilon)
            new_parameters[name + str(l)] = parameters[name + str(l)] - learning_rate * step
    return new_parameters, new_v, new_s, v_corrected, s_corrected
""",
        "update_lr": """
def update_lr(learning_rate0, epoch_num, decay_rate):
    denominator = 1.0 + decay_rate * epoch_num
    return learning_rate0 / denominator
""",
        "schedule_lr_decay": """
def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    return learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))
""",
    },
)


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
    cells = {name: wrong_cell(name, WRONG[name][index]) for name in HALVES[half] if index < len(WRONG[name])}
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
