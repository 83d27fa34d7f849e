"""The class's grades as CSV: one row per student, one column per exercise, the total."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from autograder.notebook.assignment import Assignment
from autograder.reports.atomic import write_text_atomically
from autograder.reports.model import GradeReport


def write_csv(path: Path, grades: Mapping[str, GradeReport | None], assignment: Assignment) -> None:
    """Rows sorted by student; a student without a current grade gets empty cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: CRLF rows, so a CR or LF inside an id is quoted
    writer.writerow(["student", *(e.name for e in assignment.exercises), "total"])
    for student in sorted(grades):
        report = grades[student]
        if report is None:
            writer.writerow([student, *([""] * len(assignment.exercises)), ""])
            continue
        scores = {e.name: e.score for e in report.exercises}
        writer.writerow([student, *(_number(scores.get(e.name, 0.0)) for e in assignment.exercises),
                         _number(report.score)])
    write_text_atomically(Path(path), buffer.getvalue())


def _number(value: float) -> str:
    return f"{round(value, 4):g}"
