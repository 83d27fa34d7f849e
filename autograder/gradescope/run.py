"""What ``run_autograder`` runs: grade the one notebook of ``submission/`` into ``results/results.json``.

``python -m autograder.gradescope.run [--root DIR]`` (default: $OPTKIT_GRADESCOPE_ROOT,
else /autograder).  A result is always written: a missing or second notebook
is a message with a score of 0, and a grader failure is reported as such.
``submission_metadata.json``, when present, names the student and the
submission time; late work is graded as usual and flagged in the output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder.course import AssignmentFiles
from autograder.grade import _unreadable, grade_submission
from autograder.gradescope import CONFIG_NAME, COURSE_DIR, DEFAULT_ROOT, ROOT_ENV, SETTINGS_NAME
from autograder.notebook.assignment import Assignment, load_assignment
from autograder.notebook.version_check import file_problem
from autograder.reports.gradescope import grader_failure_json, results_json, write_json_atomically
from autograder.reports.model import GradeReport
from autograder.sandbox.runner import Limits
from autograder.settings import DEFAULT_SETTINGS, load_settings

IGNORED_PARTS = frozenset({".ipynb_checkpoints", "__MACOSX"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope.run", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_ENV, DEFAULT_ROOT)),
                        help="the folder laid out as Gradescope's /autograder (default %(default)s)")
    root = parser.parse_args(argv).root
    results = root / "results" / "results.json"
    try:
        data = grade_root(root)
    except Exception as error:  # noqa: BLE001 - the grader failed: a result must still be written
        write_json_atomically(results, grader_failure_json(f"{type(error).__name__}: {error}"))
        print(f"optkit: the grader failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    write_json_atomically(results, data)
    return 0


def grade_root(root: Path) -> dict[str, Any]:
    """Grade the submission under ``root`` (laid out as /autograder) and return results.json's content."""
    config = json.loads((root / "source" / CONFIG_NAME).read_text(encoding="utf-8"))
    files = AssignmentFiles(config["assignment"], root / "source" / COURSE_DIR).check()
    assignment = load_assignment(files.master)
    notebook, problem = find_notebook(root / "submission", assignment)
    if notebook is None:
        report = GradeReport(str(root / "submission"), _unreadable(assignment, problem), problem)
    else:
        limits = Limits(timeout=float(config.get("timeout", 5.0)), memory_mb=int(config.get("memory_mb", 256)))
        report = grade_submission(notebook, files=files, assignment=assignment, limits=limits)
    settings_file = root / "source" / SETTINGS_NAME
    data = results_json(report, load_settings(settings_file) if settings_file.is_file() else DEFAULT_SETTINGS)
    submission = describe_submission(root / "submission_metadata.json")
    submission["notebook"] = notebook.name if notebook else None
    if submission.get("header"):
        data["output"] = submission.pop("header") + "\n\n" + data["output"]
    data["extra_data"] = {**data.get("extra_data", {}), "submission": submission}
    return data


def find_notebook(folder: Path, assignment: Assignment) -> tuple[Path | None, str]:
    """The one notebook of ``folder`` whatever its name, or None and what the student should do instead."""
    expected = assignment.notebook_name or "the assignment's notebook"
    found = sorted(path for path in folder.rglob("*")
                   if path.is_file() and not IGNORED_PARTS & set(path.relative_to(folder).parts))
    notebooks = [path for path in found if path.suffix.lower() == ".ipynb"]
    if len(notebooks) == 1:
        return notebooks[0], ""
    names = ", ".join(path.relative_to(folder).as_posix() for path in (notebooks or found)[:10])
    if notebooks:
        return None, f"{len(notebooks)} notebooks were submitted ({names}): submit only one, {expected}"
    if len(found) == 1:
        return None, file_problem(found[0], assignment) or f"{names} is not a notebook: submit {expected}"
    return None, f"no notebook (.ipynb file) was submitted (found: {names or 'nothing'}): submit {expected}"


def describe_submission(path: Path) -> dict[str, Any]:
    """Student, submission time and lateness from Gradescope's submission_metadata.json ({} if absent)."""
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    students = ", ".join(str(user.get("name") or user.get("email") or user.get("id"))
                         for user in metadata.get("users") or [] if isinstance(user, dict))
    info: dict[str, Any] = {"students": students, "submitted_at": metadata.get("created_at"), "late": False}
    submitted = _time(metadata.get("created_at"))
    due = _time((metadata.get("assignment") or {}).get("due_date"))
    header = f"Submission of {students or 'an unnamed student'}" + (f" at {submitted.isoformat()}" if submitted else "")
    if submitted and due and submitted > due:
        late_by = submitted - due
        info.update(late=True, late_by_seconds=int(late_by.total_seconds()))
        hours, minutes = divmod(int(late_by.total_seconds()) // 60, 60)
        header += f"\nLATE: submitted {hours} h {minutes:02d} min after the due date (graded as usual)"
    info["header"] = header
    return info


def _time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


if __name__ == "__main__":
    sys.exit(main())
