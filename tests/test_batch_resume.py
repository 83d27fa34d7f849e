"""Resuming a batch through the real CLI: kill -9 keeps finished grades; only new or changed work is redone."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from batch_class import autograder, ledger_lines, mixed_notebooks, read_csv, write_folder

from autograder.paths import HIDDEN_TESTS_DIR

TIMEOUT = "1"


@pytest.fixture(scope="module")
def course(tmp_path_factory, assignment):
    """Eight submissions and a private copy of the hidden tests (so that the test can change them)."""
    root = tmp_path_factory.mktemp("resume")
    notebooks = mixed_notebooks(assignment)
    students = {f"s{n}_{name}": data for n, (name, data) in enumerate(notebooks.items())}
    students.update({f"s{n}_copy": notebooks["ada_complete"] for n in range(5, 8)})
    write_folder(root / "subs", students)
    shutil.copytree(HIDDEN_TESTS_DIR, root / "hidden", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def grade_all(course, *extra: str) -> subprocess.CompletedProcess:
    return autograder("grade-all", str(course / "subs"), "--jobs", "1", "--csv", str(course / "grades.csv"),
                      "--timeout", TIMEOUT, "--hidden-tests", str(course / "hidden"), *extra)


def graded_in_last_run(course, before: int) -> list[str]:
    return [line["student"] for line in ledger_lines(course / "subs")[before:]]


def test_1_kill_9_keeps_finished_grades_and_the_rerun_grades_only_the_rest(course):
    process = subprocess.Popen([sys.executable, "-m", "autograder", "grade-all", str(course / "subs"), "--jobs", "1",
                                "--timeout", TIMEOUT, "--hidden-tests", str(course / "hidden")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while len(ledger_lines(course / "subs")) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = [line["student"] for line in ledger_lines(course / "subs")]
    assert 2 <= len(finished) < 8, "the batch must be killed mid-run"
    rerun = grade_all(course)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{8 - len(finished)} to grade, {len(finished)} already graded and unchanged" in rerun.stderr
    counts = Counter(line["student"] for line in ledger_lines(course / "subs"))
    assert set(counts) == {p.stem for p in (course / "subs").glob("*.ipynb")}
    assert all(count == 1 for count in counts.values()), counts  # nothing finished was graded twice
    assert len(read_csv(course / "grades.csv")) == 8


def test_2_a_changed_submission_alone_is_regraded(course, assignment):
    before = len(ledger_lines(course / "subs"))
    changed = course / "subs" / "s2_cleo_untouched.ipynb"
    changed.write_bytes((course / "subs" / "s0_ada_complete.ipynb").read_bytes())
    run = grade_all(course)
    assert run.returncode == 0, run.stderr
    assert graded_in_last_run(course, before) == ["s2_cleo_untouched"]
    assert float(read_csv(course / "grades.csv")["s2_cleo_untouched"]["total"]) == 100


def test_3_a_change_to_the_hidden_tests_regrades_everything(course):
    before = len(ledger_lines(course / "subs"))
    test_file = course / "hidden" / "test_update_lr.py"
    test_file.write_text(test_file.read_text() + "\n# a fix to a hidden test\n")
    run = grade_all(course)
    assert run.returncode == 0, run.stderr
    assert sorted(graded_in_last_run(course, before)) == sorted(p.stem for p in (course / "subs").glob("*.ipynb"))


def test_4_force_regrades_everything_and_student_only_those(course):
    before = len(ledger_lines(course / "subs"))
    assert grade_all(course).returncode == 0
    assert graded_in_last_run(course, before) == []
    assert grade_all(course, "--student", "s1_ben_partly_wrong", "s6_copy").returncode == 0
    assert graded_in_last_run(course, before) == []  # up to date: --student alone does not regrade
    assert grade_all(course, "--student", "s1_ben_partly_wrong", "s6_copy", "--force").returncode == 0
    assert sorted(graded_in_last_run(course, before)) == ["s1_ben_partly_wrong", "s6_copy"]
    before = len(ledger_lines(course / "subs"))
    assert grade_all(course, "--force").returncode == 0
    assert len(graded_in_last_run(course, before)) == 8
    assert len(read_csv(course / "grades.csv")) == 8


def test_5_a_torn_last_ledger_line_is_ignored(course):
    ledger = course / "subs" / ".optkit" / "optimization_methods.jsonl"
    lines = ledger.read_text().splitlines(keepends=True)
    torn = lines[-1].split('"student": "')[1].split('"')[0]
    others = [line for line in lines if f'"student": "{torn}"' not in line]
    ledger.write_text("".join(others) + lines[-1][: len(lines[-1]) // 2])  # its only line, cut by kill -9
    run = grade_all(course)
    assert run.returncode == 0, run.stderr
    assert "1 to grade, 7 already graded and unchanged" in run.stderr
    assert ledger_lines(course / "subs")[-1]["student"] == torn


def test_6_ctrl_c_keeps_finished_grades_and_says_how_to_go_on(tmp_path, assignment):
    notebooks = mixed_notebooks(assignment)
    write_folder(tmp_path / "subs", {f"s{n}": notebooks["ada_complete"] + b" " * n for n in range(6)})
    process = subprocess.Popen([sys.executable, "-m", "autograder", "grade-all", str(tmp_path / "subs"),
                                "--jobs", "1", "--csv", str(tmp_path / "g.csv")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not ledger_lines(tmp_path / "subs") and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert "interrupted: finished grades are kept" in stderr
    finished = {line["student"] for line in ledger_lines(tmp_path / "subs")}
    assert 1 <= len(finished) < 6
    rows = read_csv(tmp_path / "g.csv")  # the CSV holds what was finished, the rest is empty
    assert {s for s, row in rows.items() if row["total"]} == finished
    assert "graded" in stdout


def test_7_a_large_class_ledger_keeps_each_recurring_text_once(tmp_path):
    """Tens of thousands of grades stay in memory during a batch: what recurs from one report to the next (case
    labels, common feedback) is one object, so a student costs a few kilobytes; the file is read line by line."""
    import json
    import tracemalloc

    from autograder.batch.ledger import Ledger
    from autograder.batch.records import report_to_data
    from autograder.reports.model import CaseResult, ExerciseResult, GradeReport

    def report(student: int) -> GradeReport:
        cases = [CaseResult(f"case {n} of exercise {e}: a label as long as the kit's own labels are", n % 3 != 0,
                            feedback="" if n % 3 else f"mini_batches[{n}] has shape (12288, 63), but it should "
                            "have shape (12288, 64)", hint="the last mini-batch takes the remaining columns")
                 for e in range(8) for n in range(8)]
        exercises = [ExerciseResult(e, f"exercise_{e}", 10.0, cases[8 * e:8 * e + 8]) for e in range(8)]
        return GradeReport(f"s{student}.ipynb", exercises, seconds=0.25)

    students = 2000
    line = {"sha256": "0" * 64, "version": "v", "failure": None, "report": report_to_data(report(0))}
    path = tmp_path / "ledger.jsonl"
    path.write_text("".join(json.dumps({**line, "student": f"s{n}"}) + "\n" for n in range(students)))
    tracemalloc.start()
    ledger = Ledger(path)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    first, last = (ledger.entries[s].report.exercises[3].cases[0] for s in ("s0", f"s{students - 1}"))
    assert first == last and first.label is last.label and first.feedback is last.feedback
    assert len(ledger.entries) == students
    assert held / students < 12 * 1024  # 29.5 KiB each when every report had texts of its own
    assert peak < held + path.stat().st_size // 10  # never the whole file in memory at once
