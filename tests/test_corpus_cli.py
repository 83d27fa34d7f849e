"""The corpus of hostile, broken and oddly-structured submissions, graded through the real CLI.

Every variant of ``tests/corpus`` is built, graded once with
``python -m autograder grade SUB.ipynb --results results.json`` (several at a
time), and then checked: exit code 0, a results.json that follows Gradescope's
schema and replaced the stale one whole, nothing left behind (temporary files,
sandbox processes, files written by attacks), and the expected outcome and
feedback for every exercise.  Expected outcomes are "full points", "zero" or
"less than full points", never exact case counts.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from corpus import Outcome, catalogue, hostile_batches
from corpus.attacks import ATTACKS
from corpus.run import (
    STALE,
    Graded,
    cli,
    grade,
    outcome_problem,
    per_exercise,
    prepare,
    processes_under,
    schema_problems,
)

from autograder.notebook.assignment import load_assignment

ASSIGNMENT = load_assignment()
VARIANTS = catalogue(ASSIGNMENT)
PARALLEL_RUNS = 3
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # tab and newline are layout


def _variant_params() -> list:
    return [pytest.param(v, id=v.id) for v in VARIANTS]


def _exercise_params() -> list:
    return [pytest.param(v, name, id=f"{v.id}-{name}") for v in VARIANTS for name in v.expect]


@pytest.fixture(scope="session")
def graded(traversable_tmp) -> dict[str, Graded]:
    """Every variant graded once through the CLI, a few at a time."""
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        runs = pool.map(lambda variant: grade(variant, traversable_tmp / variant.id), VARIANTS)
        return {run.variant.id: run for run in runs}


# --------------------------------------------------------------------------- every run


@pytest.mark.parametrize("variant", _variant_params())
def test_run_completes_with_valid_results(variant, graded, assignment):
    run = graded[variant.id]
    assert run.returncode == 0, f"exit code {run.returncode}\n{run.stderr[-3000:]}"
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert not CONTROL.search(run.stdout + run.stderr), "raw control characters on the console"
    assert run.results_error is None, run.results_error
    assert "stale" not in run.results, "the stale results.json was not replaced"
    assert not schema_problems(run.results, assignment), schema_problems(run.results, assignment)
    assert set(per_exercise(run.results)) == {exercise.name for exercise in assignment.exercises}
    if variant.output:
        assert re.search(variant.output, run.results["output"]), run.results["output"]
    assert run.seconds < variant.max_seconds, f"grading took {run.seconds:.1f} s"
    assert run.results["execution_time"] < variant.max_seconds


@pytest.mark.parametrize("variant", [pytest.param(v, id=v.id) for v in VARIANTS])
def test_nothing_left_behind(variant, graded):
    """No sandbox process survives, no temporary file stays, no file written by an attack exists."""
    run = graded[variant.id]
    assert run.leftover_processes == []
    assert run.leftover_files == []


@pytest.mark.parametrize(("variant", "exercise"), _exercise_params())
def test_exercise_outcome(variant, exercise, graded):
    run = graded[variant.id]
    results = per_exercise(run.results if isinstance(run.results, dict) else {})
    assert exercise in results, f"no test entry names {exercise}"
    expect = variant.expect[exercise]
    score, points, feedback = results[exercise]
    problem = outcome_problem(expect, score, points, feedback)
    assert problem is None, f"{problem}; rule: {expect.rule or '-'}\nfeedback:\n{feedback[:2000]}"


# --------------------------------------------------------------------------- particular variants


def test_reference_scores_100_and_prints_the_table(graded, assignment):
    run = graded["reference"]
    assert run.results["score"] == pytest.approx(assignment.total_points)
    assert re.search(r"total\s+100\.00 / 100", run.stdout), run.stdout


def test_max_scores_add_up_exactly_to_the_assignment_total(graded, assignment):
    tests = graded["reference"].results["tests"]
    assert sum(test["max_score"] for test in tests) == pytest.approx(assignment.total_points, abs=1e-9)
    for exercise in assignment.exercises:
        mine = [test["max_score"] for test in tests if test["tags"][0] == exercise.name]
        assert sum(mine) == pytest.approx(exercise.points, abs=1e-9), exercise.name


def test_broken_notebooks_say_why_in_every_test(graded):
    """An unreadable submission: one failed test per exercise, each carrying the same precise reason."""
    for variant in VARIANTS:
        if not variant.id.startswith("broken-") or variant.output is None:
            continue
        tests = graded[variant.id].results["tests"]
        assert all(re.search(variant.output, test["output"]) for test in tests), variant.id
        assert all(test["status"] == "failed" and test["score"] == 0 for test in tests), variant.id


def test_attacks_cannot_write_results_json(graded):
    """The results.json after a run that tried to overwrite and delete it is the grader's own."""
    run = next(run for run in graded.values() if "write-results-json" in run.variant.tags)
    assert run.results["score"] < 100
    assert all(test["name"].startswith("Exercise ") for test in run.results["tests"])
    assert not run.workspace.outside.exists()


def test_attacked_exercises_only_cost_themselves(graded, assignment):
    """Across the hostile notebooks, every exercise without an attack keeps full points."""
    for variant in VARIANTS:
        if not variant.id.startswith("hostile-"):
            continue
        scores = per_exercise(graded[variant.id].results)
        expected_loss = sum(scores[name][1] for name, expect in variant.expect.items()
                            if expect.outcome is Outcome.ZERO)
        assert graded[variant.id].results["score"] == pytest.approx(assignment.total_points - expected_loss, abs=1e-2)


def test_every_attack_is_in_exactly_one_hostile_notebook():
    placed = [attack.name for batch in hostile_batches(ASSIGNMENT) for attack in batch.values()]
    assert sorted(placed) == sorted(attack.name for attack in ATTACKS)
    assert len(set(placed)) == len(placed)


def test_hostile_runs_stay_fast(graded):
    """Time limits of 1 s per exercise: a hostile notebook never takes much longer than its slowest exercise."""
    for variant in VARIANTS:
        if variant.id.startswith("hostile-"):
            assert graded[variant.id].seconds < 20, variant.id


# --------------------------------------------------------------------------- the command line itself


@pytest.mark.parametrize("args", [
    pytest.param([], id="no-command"),
    pytest.param(["grade"], id="grade-without-submission"),
    pytest.param(["grade", "x.ipynb", "--timeout", "soon"], id="bad-timeout"),
    pytest.param(["grade", "x.ipynb", "--no-such-option"], id="unknown-option"),
    pytest.param(["regrade", "x.ipynb"], id="unknown-command"),
])
def test_usage_errors_exit_2(args, tmp_path):
    process = cli(*args, cwd=tmp_path, timeout=30)
    assert process.returncode == 2, process.stderr
    assert "usage:" in process.stderr
    assert list(tmp_path.iterdir()) == []


def test_results_written_into_a_new_folder_atomically(traversable_tmp, assignment):
    """--results in folders that do not exist yet: created, and only results.json is left there."""
    workspace = prepare(traversable_tmp / "new-folder")
    workspace.submission.write_bytes(b"")
    target = workspace.root / "a" / "b" / "results.json"
    process = cli("grade", str(workspace.submission), "--results", str(target), "--quiet", cwd=workspace.root,
                  timeout=60)
    assert process.returncode == 0, process.stderr
    assert [p.name for p in target.parent.iterdir()] == ["results.json"]
    results = json.loads(target.read_text())
    assert not schema_problems(results, assignment)
    assert results["score"] == 0
    assert processes_under(workspace.root, wait=3.0) == []


def test_stale_results_fixture_is_larger_than_any_real_results():
    """The stale file each run starts from is bigger than a real one, so a partial overwrite would show."""
    assert len(json.dumps(STALE)) > 100_000
