"""The table printed at the end of a batch: counts, mean and median, pass rates, the slowest submissions."""

from __future__ import annotations

import statistics
from collections.abc import Mapping

from autograder.batch.progress import printable
from autograder.notebook.assignment import Assignment
from autograder.reports.model import GradeReport

SLOWEST = 5


def summary_text(grades: Mapping[str, GradeReport], failures: Mapping[str, str], assignment: Assignment,
                 graded_now: int, up_to_date: int) -> str:
    """A plain-text summary of every current grade of the batch and of what could not be graded.

    Unreadable notebooks count as zero everywhere, as in the class report and the CSV.
    """
    readable = [r for r in grades.values() if not r.error]
    scores = [r.score for r in grades.values()]
    total = assignment.total_points
    lines = [f"graded            {len(grades):>6}   ({graded_now} now, {up_to_date} already up to date)",
             f"  unreadable      {len(grades) - len(readable):>6}",
             f"grader failures   {len(failures):>6}"]
    if scores:
        lines += [f"mean score        {statistics.fmean(scores):>6.2f} / {total:g}",
                  f"median score      {statistics.median(scores):>6.2f} / {total:g}"]
    width = max(len(e.name) for e in assignment.exercises)
    lines += ["", f"{'#':>2}  {'exercise':<{width}}  full points  some points"]
    for exercise in assignment.exercises:
        results = [e for r in grades.values() for e in r.exercises if e.name == exercise.name]  # as the report
        full = sum(e.status == "passed" for e in results)
        some = sum(e.status != "failed" for e in results)
        lines.append(f"{exercise.number:>2}  {exercise.name:<{width}}  {_share(full, len(results)):>11}  "
                     f"{_share(some, len(results)):>11}")
    slowest = sorted(grades.items(), key=lambda item: item[1].seconds, reverse=True)[:SLOWEST]
    if slowest:
        lines += ["", "slowest submissions"]
        lines += [f"  {r.seconds:>7.2f} s  {printable(student, 60)}" for student, r in slowest]
    if failures:
        lines += ["", "not graded (grader failures: rerun to retry)"]
        lines += [f"  {printable(student, 60)}: {printable(why, 200)}" for student, why in sorted(failures.items())]
    return "\n".join(lines) + "\n"


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.0f}%" if total else "-"
