"""``grade-all --gradebook`` with real nbgrader: the grades reach ``nbgrader export``; manual scores survive."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
import time

import pytest
from batch_class import autograder, ledger_lines, mixed_notebooks, read_csv, write_course
from nbgrader.api import Gradebook

ASSIGNMENT = "optimization_methods"
NOTEBOOK = "Optimization_methods"


@pytest.fixture(scope="module")
def course(tmp_path_factory, assignment):
    notebooks = mixed_notebooks(assignment)
    root = write_course(tmp_path_factory.mktemp("course") / "course",
                        {s: notebooks[s] for s in ("ada_complete", "ben_partly_wrong", "dan_broken_json")})
    run = autograder("grade-all", str(root), "--jobs", "2", "--gradebook", "--csv", str(root / "ours.csv"))
    assert run.returncode == 0, run.stderr
    return root


def nbgrader_export(root) -> dict[str, dict[str, str]]:
    run = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", "exported.csv"], cwd=root,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    with open(root / "exported.csv", newline="") as stream:
        return {row["student_id"]: row for row in csv.DictReader(stream)}


def test_nbgrader_export_shows_the_scores(course):
    exported = nbgrader_export(course)
    ours = read_csv(course / "ours.csv")
    assert sorted(exported) == sorted(ours)
    for student, row in ours.items():
        assert float(exported[student]["score"]) == pytest.approx(float(row["total"]), abs=1e-4), student
        assert float(exported[student]["max_score"]) == 100
        assert exported[student]["assignment"] == ASSIGNMENT


def test_each_exercise_is_the_auto_score_of_its_grade_cell(course, assignment):
    ours = read_csv(course / "ours.csv")["ben_partly_wrong"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for exercise in assignment.exercises:
            grade = gradebook.find_grade(f"{exercise.name}_test", NOTEBOOK, ASSIGNMENT, "ben_partly_wrong")
            assert grade.auto_score == pytest.approx(float(ours[exercise.name]), abs=1e-4)
            assert grade.max_score == exercise.points
            assert not grade.needs_manual_grade


def test_a_regrade_keeps_the_instructors_manual_score(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("update_lr_test", NOTEBOOK, ASSIGNMENT, "ada_complete")
        grade.manual_score = 3.0
        gradebook.db.commit()
    run = autograder("grade-all", str(course), "--gradebook", "--force")
    assert run.returncode == 0, run.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("update_lr_test", NOTEBOOK, ASSIGNMENT, "ada_complete")
        assert (grade.manual_score, grade.auto_score, grade.score) == (3.0, 10.0, 3.0)
    assert float(nbgrader_export(course)["ada_complete"]["score"]) == 93


def test_any_sqlalchemy_url_and_a_changed_submission(tmp_path, course, assignment):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    partly = course / "submitted" / "ben_partly_wrong" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    partly.write_bytes((course / "submitted" / "ada_complete" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_bytes())
    run = autograder("grade-all", str(course), "--gradebook", url)
    assert run.returncode == 0, run.stderr
    assert "1 to grade, 2 already graded and unchanged" in run.stderr
    with Gradebook(url) as gradebook:  # resumed grades are written too: every student is there
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
    assert scores == {"ada_complete": 100, "ben_partly_wrong": 100, "dan_broken_json": 0}


def test_a_gradebook_that_cannot_be_opened_is_a_tool_failure(tmp_path, course):
    run = autograder("grade-all", str(course), "--gradebook", str(tmp_path / "no" / "such" / "folder" / "g.db"))
    assert run.returncode == 1
    assert "the gradebook" in run.stderr and "could not be opened" in run.stderr


def test_a_locked_gradebook_loses_nothing(tmp_path, assignment):
    """Another program locks the SQLite gradebook mid-batch: grades stay in the ledger and reach it next run."""
    complete = mixed_notebooks(assignment)["ada_complete"]
    root = write_course(tmp_path / "course", {"ada": complete, "ben": complete + b" "})
    process = subprocess.Popen([sys.executable, "-m", "autograder", "grade-all", str(root), "--gradebook",
                                "--jobs", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not ledger_lines(root) and time.monotonic() < deadline:
        time.sleep(0.02)
    holder = sqlite3.connect(root / "gradebook.db", timeout=30)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        _, stderr = process.communicate(timeout=300)
    finally:
        holder.rollback()
        holder.close()
    assert process.returncode == 1
    assert "the gradebook could not record ben" in stderr and "locked" in stderr
    again = autograder("grade-all", str(root), "--gradebook")
    assert again.returncode == 0, again.stderr
    assert "0 to grade, 2 already graded and unchanged" in again.stderr
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
    assert scores == {"ada": 100, "ben": 100}
