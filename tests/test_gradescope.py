"""The Gradescope package of the default assignment, replayed with Gradescope's file layout.

``python -m autograder gradescope`` builds the zip; the replay unpacks it into a
temporary root laid out as /autograder, runs its setup.sh (root-only grading
data) and, per submission, its run_autograder, then reads results.json.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from gradescope_replay import check_isolation_field, install, new_root, shown_text, submit

from autograder.course import default_files
from autograder.samples import build_submission, complete_solutions

HIDDEN_SECRET_LINE = "EXERCISE = \"update_lr\""


def _bytes(notebook: nbformat.NotebookNode) -> bytes:
    return nbformat.writes(notebook).encode()


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    built = subprocess.run([sys.executable, "-m", "autograder", "gradescope", "--out", str(out)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    return out


@pytest.fixture(scope="module")
def root(package) -> Path:
    root = new_root()
    install(package, root)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_package_holds_scripts_wheel_pins_and_grading_data(package, assignment):
    archive = zipfile.ZipFile(package)
    names = set(archive.namelist())
    files = default_files()
    for script in ("setup.sh", "run_autograder"):
        assert archive.getinfo(script).external_attr >> 16 & 0o777 == 0o755
    assert any(name.endswith("-py3-none-any.whl") for name in names)
    pins = archive.read("requirements.txt").decode().split()
    assert {pin.split("==")[0] for pin in pins} == {"numpy", "nbformat", "pytest"}
    assert all("==" in pin for pin in pins)
    assert f"course/source/{files.name}/{files.master.name}" in names
    assert {f"course/hidden_tests/{files.name}/test_{name}.py" for name in assignment.names} <= names
    assert not [name for name in names if "/images/" in name or name.startswith(("release/", "tests/"))]
    assert files.mutant_catalogue.is_file() and not [name for name in names if name.endswith("/mutants.py")]


def test_setup_makes_grading_data_root_only(root):
    course = root / "source" / "course"
    for path in [course, *course.rglob("*")]:
        assert path.stat().st_uid == 0
        assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path


def test_complete_submission_whatever_its_name_scores_full_points_and_late_is_flagged(root, assignment):
    metadata = {"created_at": "2026-03-02T10:30:00.000000+01:00", "users": [{"name": "Ada Student", "id": 7}],
                "assignment": {"due_date": "2026-03-01T23:00:00.000000+01:00", "title": "Optimization Methods"}}
    results = submit(root, {"my notebook (1).ipynb": _bytes(build_submission(complete_solutions(assignment)))},
                     metadata)
    assert results["score"] == pytest.approx(assignment.total_points)
    assert all(test["status"] == "passed" for test in results["tests"])
    assert "Ada Student" in results["output"] and "LATE: submitted 11 h 30 min after the due date" in results["output"]
    submission = results["extra_data"]["submission"]
    assert submission["late"] is True and submission["notebook"] == "my notebook (1).ipynb"
    check_isolation_field(results)


def test_on_time_submission_is_not_flagged(root, assignment):
    metadata = {"created_at": "2026-03-01T10:00:00+00:00", "users": [{"name": "Bo"}],
                "assignment": {"due_date": "2026-03-01T23:00:00+00:00"}}
    results = submit(root, {"Optimization_methods.ipynb": _bytes(build_submission({}))}, metadata)
    assert results["score"] == 0 and "LATE" not in results["output"]
    assert results["extra_data"]["submission"]["late"] is False


def test_wrong_submission_loses_points_with_feedback(root, assignment):
    answers = complete_solutions(assignment)
    answers["update_parameters_with_adam"] = answers["update_parameters_with_adam"].replace(
        " / (1 - beta1 ** t)", "").replace(" / (1 - beta2 ** t)", "")
    results = submit(root, {"Optimization_methods.ipynb": _bytes(build_submission(answers))})
    adam = assignment.exercise("update_parameters_with_adam")
    assert results["score"] == pytest.approx(assignment.total_points - adam.points)
    assert any("bias correction" in test["output"] for test in results["tests"])


def test_hostile_submission_reads_no_hidden_test_and_loses_only_its_exercises(root, assignment):
    secret = root / "source" / "course" / "hidden_tests" / default_files().name / "test_update_lr.py"
    assert HIDDEN_SECRET_LINE in secret.read_text()
    answers = complete_solutions(assignment)
    answers["update_lr"] = (
        "# GRADED FUNCTION: update_lr\n"
        "def update_lr(learning_rate0, epoch_num, decay_rate):\n"
        f"    text = open({str(secret)!r}).read()\n"
        "    print(text)\n"
        f"    open({str(root / 'results' / 'results.json')!r}, 'w').write('{{\"score\": 100}}')\n"
        "    return learning_rate0 / (1 + decay_rate * epoch_num)\n")
    answers["schedule_lr_decay"] = (
        "# GRADED FUNCTION: schedule_lr_decay\n"
        "def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):\n"
        "    while True:\n        pass\n")
    results = submit(root, {"Optimization_methods.ipynb": _bytes(build_submission(answers))})
    lost = assignment.exercise("update_lr").points + assignment.exercise("schedule_lr_decay").points
    assert results["score"] == pytest.approx(assignment.total_points - lost)
    assert HIDDEN_SECRET_LINE not in shown_text(results) and "PermissionError" in shown_text(results)
    check_isolation_field(results)


@pytest.mark.parametrize(("files", "expected"), [
    ({}, "no notebook (.ipynb file) was submitted"),
    ({"answers.py": b"def update_lr(): pass\n"}, "a .py file was submitted, not a notebook"),
    ({"work.zip": b"PK\x03\x04"}, "an archive (work.zip) was submitted"),
    ({"a.ipynb": b"{}", "sub/b.ipynb": b"{}"}, "2 notebooks were submitted (a.ipynb, sub/b.ipynb)"),
], ids=["nothing", "python-file", "archive", "two-notebooks"])
def test_no_single_notebook_is_a_clear_zero(root, assignment, files, expected):
    results = submit(root, files)
    assert results["score"] == 0
    assert expected in results["output"] and assignment.notebook_name in results["output"]
    assert len(results["tests"]) == len(assignment.exercises)


def test_broken_installation_still_writes_a_result(root, assignment):
    config = root / "source" / "optkit.json"
    saved = config.read_text()
    config.write_text('{"assignment": "no_such_assignment"}')
    try:
        results = submit(root, {"Optimization_methods.ipynb": _bytes(build_submission({}))})
    finally:
        config.write_text(saved)
    assert "The autograder itself failed" in results["output"] and "no_such_assignment" in results["output"]
    assert results["tests"] == []
