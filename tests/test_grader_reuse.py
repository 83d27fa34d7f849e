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

import nbformat
import numpy as np
import pytest

from autograder.demo import HOSTILE_UPDATE_LR, typical_mistakes
from autograder.grade import Grader
from autograder.notebook.assignment import load_assignment
from autograder.samples import build_submission, complete_solutions
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
               "hostile": {**complete, "update_lr": HOSTILE_UPDATE_LR,
                           "random_mini_batches": HOSTILE_RANDOM_MINI_BATCHES}}
    folder = tmp_path_factory.mktemp("reuse")
    paths = {}
    for name, answer in answers.items():
        paths[name] = folder / f"{name}.ipynb"
        paths[name].write_text(nbformat.writes(build_submission(answer)))
    return paths


def test_a_submission_graded_again_after_others_gets_the_same_report(submissions):
    with Grader() as grader:
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
