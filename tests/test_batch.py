"""``grade-all`` on a folder through the real CLI: same grades as ``grade``, CSV, progress, summary, exit codes."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys

import pytest
from batch_class import TIMEOUT, autograder, ledger_lines, mixed_notebooks, read_csv, write_folder

from autograder.paths import HIDDEN_TESTS_DIR


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, assignment):
    return mixed_notebooks(assignment)


@pytest.fixture(scope="module")
def graded_folder(tmp_path_factory, mixed):
    """The mixed class graded once by grade-all with two workers."""
    folder = tmp_path_factory.mktemp("class")
    paths = write_folder(folder / "subs", mixed)
    run = autograder("grade-all", str(folder / "subs"), "--jobs", "2", "--csv", str(folder / "grades.csv"),
                     "--timeout", TIMEOUT)
    return folder, paths, run


def test_every_submission_gets_the_grade_the_single_command_gives(graded_folder, assignment):
    folder, paths, run = graded_folder
    assert run.returncode == 0, run.stderr
    rows = read_csv(folder / "grades.csv")
    assert sorted(rows) == sorted(paths)
    for student, path in paths.items():
        results = folder / f"{student}.json"
        single = autograder("grade", str(path), "--results", str(results), "--timeout", TIMEOUT, "--quiet")
        assert single.returncode == 0, single.stderr
        assert float(rows[student]["total"]) == pytest.approx(json.loads(results.read_text())["score"], abs=1e-3), \
            student
    assert float(rows["ada_complete"]["total"]) == 100
    assert 0 < float(rows["ben_partly_wrong"]["total"]) < 100
    assert float(rows["eve_endless_loop"]["update_parameters_with_gd"]) == 0
    assert float(rows["eve_endless_loop"]["total"]) == 90  # the loop costs its own exercise only


def test_one_child_per_submission_gives_the_same_grades(graded_folder, tmp_path):
    """--child-per-submission: each submission's exercises in one chain (the endless loop costs its own exercise,
    the rest of the chain goes on in a new child); every grade as with a child per exercise."""
    folder, paths, _ = graded_folder
    subs = write_folder(tmp_path / "subs", {student: path.read_bytes() for student, path in paths.items()})
    run = autograder("grade-all", str(tmp_path / "subs"), "--jobs", "2", "--csv", str(tmp_path / "grades.csv"),
                     "--timeout", TIMEOUT, "--child-per-submission")
    assert run.returncode == 0, run.stderr
    assert sorted(subs) == sorted(paths)
    assert read_csv(tmp_path / "grades.csv") == read_csv(folder / "grades.csv")


def test_csv_has_one_column_per_exercise_rows_sorted(graded_folder, assignment):
    folder, _, _ = graded_folder
    lines = (folder / "grades.csv").read_text().splitlines()
    assert lines[0].split(",") == ["student", *(e.name for e in assignment.exercises), "total"]
    students = [line.split(",")[0] for line in lines[1:]]
    assert students == sorted(students)
    assert not list(folder.glob(".grades.csv.*"))  # the atomic write left no temporary file
    row = read_csv(folder / "grades.csv")["ben_partly_wrong"]
    assert float(row["update_lr"]) < 10 and float(row["initialize_velocity"]) == 0
    assert float(row["update_parameters_with_adam"]) == 25


def test_plain_progress_lines_and_summary_table(graded_folder):
    _, paths, run = graded_folder
    progress = [line for line in run.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == len(paths)
    assert any("dan_broken_json: unreadable: the submission is not valid notebook JSON" in line for line in progress)
    assert "\x1b" not in run.stderr + run.stdout  # no terminal codes when not on a terminal
    for part in ("graded                 5", "unreadable           1", "grader failures        0",
                 "mean score", "median score", "full points", "slowest submissions", "eve_endless_loop"):
        assert part in run.stdout


def test_a_second_run_grades_nothing_and_keeps_the_csv(graded_folder, tmp_path):
    folder, paths, _ = graded_folder
    again = autograder("grade-all", str(folder / "subs"), "--csv", str(tmp_path / "again.csv"),
                       "--timeout", TIMEOUT)
    assert again.returncode == 0, again.stderr
    assert "0 to grade, 5 already graded and unchanged" in again.stderr
    assert (tmp_path / "again.csv").read_text() == (folder / "grades.csv").read_text()
    assert len(ledger_lines(folder / "subs")) == len(paths)


def test_progress_bar_on_a_terminal(tmp_path, mixed):
    write_folder(tmp_path / "subs", {"ada": mixed["ada_complete"], "dan": mixed["dan_broken_json"]})
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "autograder", "grade-all", str(tmp_path / "subs"),
                                "--jobs", "1"], stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    stdout, _ = process.communicate(timeout=300)
    os.close(leader)
    assert process.returncode == 0
    text = screen.decode(errors="replace")
    assert "2/2" in text and "failures: 0" in text and "/s" in text
    assert "graded                 2" in stdout


def test_file_names_reach_the_terminal_without_control_characters(tmp_path, mixed):
    evil = "\x1b[2J\x1b[32mfull marks\x07\r"
    write_folder(tmp_path / "subs", {evil: mixed["dan_broken_json"], "ada": mixed["dan_broken_json"]})
    run = autograder("grade-all", str(tmp_path / "subs"), "--csv", str(tmp_path / "g.csv"))
    assert run.returncode == 0, run.stderr
    assert not any(ch in run.stdout + run.stderr for ch in "\x1b\x07\r")
    assert "?[2J?[32mfull marks??" in run.stdout
    assert evil in read_csv(tmp_path / "g.csv")  # the CSV keeps the id as it is, quoted as CSV requires


def test_a_folder_where_the_ledger_cannot_be_written_is_a_tool_failure(tmp_path, mixed):
    write_folder(tmp_path / "subs", {"ada": mixed["dan_broken_json"]})
    (tmp_path / "subs" / ".optkit").write_text("a file where the ledger's folder should be")
    run = autograder("grade-all", str(tmp_path / "subs"))
    assert run.returncode == 1
    assert run.stderr.splitlines()[-1].startswith("error: ")


@pytest.mark.parametrize("arguments, message", [
    (["{missing}"], "is not a folder"),
    (["{empty}"], "no submissions found"),
    (["{subs}", "--student", "nobody"], "no submission for student(s) nobody"),
    (["{subs}", "--jobs", "0"], "--jobs must be at least 1"),
    (["{subs}", "--jobs", "two"], "invalid int value"),
])
def test_wrong_usage_exits_2(tmp_path, mixed, arguments, message):
    write_folder(tmp_path / "subs", {"ada": mixed["ada_complete"]})
    (tmp_path / "empty").mkdir()
    places = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "subs": tmp_path / "subs"}
    run = autograder("grade-all", *(a.format(**places) for a in arguments))
    assert run.returncode == 2
    assert message in run.stderr
    assert not (tmp_path / "subs" / ".optkit").exists()


CRASH_PROBE = '''
import os
import signal

import pytest

from autograder.checks.case import Case


@pytest.mark.parametrize("case", [Case("update_lr", "crash probe", (1.0, 1, 1.0))], ids=str)
def test_crash_probe(case, student):
    if student(case) == 424242:  # a grader bug that kills the grading process on this submission only
        os.kill(os.getpid(), signal.SIGKILL)
'''


def test_a_grading_process_that_dies_costs_only_its_submission(tmp_path, mixed):
    tests = tmp_path / "hidden"
    shutil.copytree(HIDDEN_TESTS_DIR, tests, ignore=shutil.ignore_patterns("__pycache__"))
    (tests / "test_zz_crash_probe.py").write_text(CRASH_PROBE)
    crasher = mixed["ada_complete"].replace(b"return learning_rate", b"return 424242 or learning_rate", 1)
    assert crasher != mixed["ada_complete"]
    write_folder(tmp_path / "subs", {"ada": mixed["ada_complete"], "bad": crasher, "cleo": mixed["cleo_untouched"]})
    run = autograder("grade-all", str(tmp_path / "subs"), "--jobs", "2", "--csv", str(tmp_path / "g.csv"),
                     "--hidden-tests", str(tests))
    assert run.returncode == 1, run.stderr
    assert "bad: FAILED (grader): the grading process died or hung twice (killed by signal 9)" in run.stderr
    rows = read_csv(tmp_path / "g.csv")
    assert float(rows["ada"]["total"]) == 100 and float(rows["cleo"]["total"]) == 0
    assert rows["bad"]["total"] == ""
    assert {line["student"] for line in ledger_lines(tmp_path / "subs") if line["report"]} == {"ada", "cleo"}


def test_the_batch_writes_each_students_feedback_page_and_the_class_report(graded_folder, assignment):
    folder, paths, run = graded_folder
    subs = folder / "subs"
    for student in paths:
        page = subs / "feedback" / student / "optimization_methods" / "feedback.html"
        assert page.is_file(), student
    rows = read_csv(folder / "grades.csv")
    report = subs / "reports" / "optimization_methods"
    html = (report / "index.html").read_text()
    for student, row in rows.items():
        assert student in html and f"{float(row['total']):.2f}" in html, student
    assert {p.name for p in report.glob("*.png")} >= {"scores.png", "exercises.png"}
    assert f"class report: {report / 'index.html'}" in run.stdout
    complete = (subs / "feedback" / "ada_complete" / "optimization_methods" / "feedback.html").read_text()
    assert "100" in complete and "http://" not in complete and "https://" not in complete
