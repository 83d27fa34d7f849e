"""What a long-lived Grader keeps from one submission to the next, and that nothing else carries over.

A Grader keeps one sandbox worker (which holds every case's inputs after the
first submission) and one pytest session (collected once).  These tests grade
through the real sandbox and the real pytest session: a hostile submission
between two gradings of the same notebook changes nothing in its report, and
student code cannot change the inputs the worker keeps for later children.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import ClassVar

import nbformat
import numpy as np
import pytest

from autograder.demo import hostile_cell, typical_mistakes
from autograder.grade import Grader
from autograder.notebook.assignment import load_assignment
from autograder.samples import build_submission, complete_solutions
from autograder.sandbox.known_runs import KnownRuns, freeze
from autograder.sandbox.runner import Call, Job, Limits, Sandbox, Snippet

# Changes its own inputs, tries to write the buffers the worker keeps for later children, says how many it found.
TAMPERING = textwrap.dedent('''
    import gc
    def probe(x):
        x[...] = -1
        views = [item for thing in gc.get_objects() if type(thing) is list
                 for item in thing if type(item) is memoryview and item.nbytes == x.nbytes]
        for view in views:
            try:
                view[:8] = bytes(8)
            except (TypeError, ValueError):
                pass
        return len(views)
''')
READ_BACK = "def probe(x):\n    return x.copy()\n"
HOSTILE_RANDOM_MINI_BATCHES = textwrap.dedent('''
    # GRADED FUNCTION: random_mini_batches
    import numpy as np

    def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
        X[...] = 0
        Y[...] = 0
        return []
''')


def _without_timings(report) -> dict:
    data = dataclasses.asdict(report)
    data.pop("seconds")
    for exercise in data["exercises"]:
        exercise.pop("seconds")
    return data


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> dict[str, Path]:
    assignment = load_assignment()
    complete = complete_solutions(assignment)
    answers = {"complete": complete, "mistakes": typical_mistakes(assignment),
               "hostile": {**complete, "update_lr": hostile_cell(assignment.exercise("update_lr")),
                           "random_mini_batches": HOSTILE_RANDOM_MINI_BATCHES}}
    folder = tmp_path_factory.mktemp("reuse")
    paths = {}
    for name, answer in answers.items():
        paths[name] = folder / f"{name}.ipynb"
        paths[name].write_text(nbformat.writes(build_submission(answer)))
    return paths


def test_a_submission_graded_again_after_others_gets_the_same_report(submissions):
    with Grader(known_runs=KnownRuns(total_bytes=0)) as grader:  # every exercise runs again in a new child
        first = [_without_timings(grader.grade(submissions[name])) for name in ("complete", "mistakes")]
        hostile = grader.grade(submissions["hostile"])
        again = [_without_timings(grader.grade(submissions[name])) for name in ("complete", "mistakes")]
    assert again == first
    assert first[0]["exercises"][1]["cases"] and all(case["passed"] for e in first[0]["exercises"]
                                                    for case in e["cases"])
    assert not all(case["passed"] for e in first[1]["exercises"] for case in e["cases"])
    by_name = {exercise.name: exercise for exercise in hostile.exercises}
    assert not any(case.passed for case in by_name["random_mini_batches"].cases)
    assert all(case.passed for case in by_name["update_parameters_with_gd"].cases)


def test_the_plugins_direct_arguments_are_used_and_match_pytests_own(submissions, monkeypatch):
    """Every hidden test gets its case and the plugin's fixtures directly; without that path (a pytest lacking
    its private direct-parametrisation fixture) pytest's own fixture requests give the same reports."""
    import autograder.checks.plugin as plugin

    with Grader() as grader:
        fast = [_without_timings(grader.grade(submissions[name])) for name in ("complete", "mistakes")]
        arguments = grader._hidden_tests()[1]._arguments
    assert arguments and all({"case", "student", "reference"} <= set(given) for given in arguments.values())
    monkeypatch.setattr(plugin, "DIRECT_PARAMETER", None)
    with Grader() as grader:
        slow = [_without_timings(grader.grade(submissions[name])) for name in ("complete", "mistakes")]
        assert not any("case" in given for given in grader._hidden_tests()[1]._arguments.values())
    assert slow == fast


def test_a_child_cannot_change_the_inputs_the_worker_keeps(tmp_path):
    inputs = (np.arange(1.0, 1001.0),)  # no zero bytes at the start: a write would show
    call = Call("x", inputs)  # the same argument objects every time: sent to the worker once, then kept there
    tamper = Job("tamper", "probe", (Snippet(TAMPERING, "<cell 1>"),), (call,))
    read = Job("read", "probe", (Snippet(READ_BACK, "<cell 1>"),), (call,))
    with Sandbox(Limits(timeout=5.0, parallel=1)) as sandbox:
        before = sandbox.run([read])["read"].values["x"]
        tampered = sandbox.run([tamper])["tamper"]
        after = sandbox.run([read])["read"].values["x"]
    assert tampered.values["x"] > 0  # it found the shared inputs' views, and could write none of them
    assert np.array_equal(before, inputs[0]) and np.array_equal(after, inputs[0])


class _KillsItsWorker(Sandbox):
    """The real sandbox, whose worker is killed from outside right after a run's request reached it."""

    killed = 0
    budget = 1  # how many workers to kill

    def _send(self, jobs):
        sent = super()._send(jobs)
        if _KillsItsWorker.killed < _KillsItsWorker.budget:
            _KillsItsWorker.killed += 1
            self._process.kill()
        return sent


@pytest.mark.parametrize("kills", [1, 2])
def test_a_worker_lost_mid_run_is_the_tools_fault_never_the_students(submissions, monkeypatch, kills):
    """Once: the run is repeated in a new sandbox and the grade is whole; twice: the grader fails, scoring nothing."""
    import autograder.grade as grade

    monkeypatch.setattr(grade, "Sandbox", _KillsItsWorker)
    monkeypatch.setattr(_KillsItsWorker, "killed", 0)
    monkeypatch.setattr(_KillsItsWorker, "budget", kills)
    with Grader() as grader:
        if kills == 1:
            report = grader.grade(submissions["complete"])
            assert report.score == report.max_score == 100
            assert len(report.internal_errors) == 1 and "repeated in a new sandbox" in report.internal_errors[0]
        else:
            with pytest.raises(grade.GraderError, match=r"sandbox worker failed during the run.*2 sandboxes in a row"):
                grader.grade(submissions["complete"])
            assert _without_timings(grader.grade(submissions["mistakes"]))  # the Grader itself recovers
    assert _KillsItsWorker.killed == kills


# --------------------------------------------------------------------------- known runs


class _RecordsRuns(Sandbox):
    """The real sandbox, recording which exercises each run was asked for."""

    asked: ClassVar[list[set[str]]] = []

    def run(self, jobs):
        _RecordsRuns.asked.append({job.exercise for job in jobs})
        return super().run(jobs)


@pytest.fixture
def recorded(monkeypatch) -> list[set[str]]:
    import autograder.grade as grade

    monkeypatch.setattr(grade, "Sandbox", _RecordsRuns)
    monkeypatch.setattr(_RecordsRuns, "asked", [])
    return _RecordsRuns.asked


def _variant(path: Path, folder: Path, name: str, change) -> Path:
    notebook = nbformat.read(path, as_version=4)
    change(notebook)
    target = folder / name
    nbformat.write(notebook, target)
    return target


def test_code_run_before_is_not_run_again_and_gets_the_same_report(submissions, recorded, tmp_path):
    """Code met once is run and noted, met twice is run and kept; then another student's notebook with the same
    code (a note of their own, other execution counts) runs only the exercise whose result is too large to keep,
    and its report is the one a new run gives."""

    def own_notes_and_counts(notebook):
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell("my own notes"))
        for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
            cell.execution_count = number + 40

    def update_lr_raises(notebook):
        for cell in notebook.cells:
            if "def update_lr(" in cell.source:
                cell.source = cell.source.replace("decay_rate):\n", "decay_rate):\n    1 / 0\n", 1)

    first = _variant(submissions["mistakes"], tmp_path, "first.ipynb", update_lr_raises)
    other = _variant(first, tmp_path, "other.ipynb", own_notes_and_counts)
    with Grader(known_runs=KnownRuns(total_bytes=0)) as grader:
        fresh = _without_timings(grader.grade(other))
    with Grader() as grader:
        grader.grade(first)
        grader.grade(first)
        reused = _without_timings(grader.grade(other))
    assert len(recorded[-3]) == len(recorded[-2]) == 8
    assert recorded[-1] == {"random_mini_batches"}  # its 14.5 MB result is not kept
    assert reused == fresh  # errors located in the other student's cells
    feedback = [case["feedback"] for exercise in reused["exercises"] for case in exercise["cases"]]
    assert any("ZeroDivisionError" in text and "at cell In [" in text for text in feedback)  # not the first one's cell


def test_code_that_changed_or_a_run_a_limit_stopped_runs_again(submissions, recorded, tmp_path):
    def endless_update_lr(notebook):
        for cell in notebook.cells:
            if "def update_lr(" in cell.source:
                cell.source = cell.source.replace("def update_lr(", "def update_lr(*a, **k):\n    while True:\n"
                                                  "        pass\n\n\ndef _unused(")
    def edited_update_lr(notebook):
        for cell in notebook.cells:
            if "def update_lr(" in cell.source:
                cell.source = cell.source.replace("decay_rate):\n", "decay_rate):\n    # checked twice\n", 1)

    endless = _variant(submissions["complete"], tmp_path, "endless.ipynb", endless_update_lr)
    edited = _variant(submissions["complete"], tmp_path, "edited.ipynb", edited_update_lr)
    limits = dataclasses.replace(Limits(), timeout=1.0)
    with Grader(limits=limits) as grader:
        for path in (endless, endless, endless, *[submissions["complete"]] * 3, edited):
            grader.grade(path)
    assert recorded[2] == {"random_mini_batches", "update_lr"}  # stopped by its time limit: never kept
    assert recorded[3] == {"random_mini_batches", "update_lr"}  # its other exercises are the endless one's
    assert recorded[5] == {"random_mini_batches"}
    assert recorded[6] == {"random_mini_batches", "update_lr"}  # a comment changes the code


def _job(number: int) -> Job:
    return Job("e", "f", (Snippet(f"def f():\n    return {number}\n", "<cell In [1]>"),), (Call("c"),))


def test_known_runs_keep_small_runs_that_ended_on_their_own_within_a_budget():
    from autograder.sandbox.runner import ExerciseRun, StudentError

    known = KnownRuns(entry_bytes=1500, total_bytes=4000)
    cyclic: list = [np.zeros(10)]
    cyclic.append(cyclic)  # a result may hold itself
    runs = {number: ExerciseRun("e", values={"c": np.zeros(100)}) for number in range(4)}  # 800 bytes each
    runs[4] = ExerciseRun("e", values={"c": np.zeros(200)})  # 1600 bytes: too large to keep
    runs[5] = ExerciseRun("e", values={"c": 1}, stopped="your code ran out of time")
    runs[6] = ExerciseRun("e", errors={"c": StudentError("MemoryError", "")})
    runs[7] = ExerciseRun("e", values={"c": cyclic})
    for number, run in runs.items():
        known.keep(_job(number), run)  # noted
        assert known.get(_job(number)) is None
        known.keep(_job(number), run)  # kept, if it may be
    assert [known.get(_job(number)) is not None for number in range(8)] == [
        False, False, True, True, False, False, False, True]  # the two oldest made room for the later ones
    assert known.get(_job(7)).values["c"] is cyclic
    freeze(runs[7])
    assert not cyclic[0].flags.writeable
