"""The per-exercise score table printed after grading, and the feedback under it (cleaned and capped)."""

from __future__ import annotations

import textwrap

from autograder.reports.model import GradeReport
from autograder.reports.sanitize import REPORT_CHARS, capped, clean

MARKS = {"passed": "ok", "partial": "part", "failed": "FAIL"}


def summary_table(report: GradeReport) -> str:
    """A fixed-width table: one row per exercise, then the total."""
    width = max([len(e.name) for e in report.exercises] + [8])
    lines = [f"{'#':>2}  {'exercise':<{width}}  {'cases':>5}  {'score':>13}  status",
             f"{'-' * 2}  {'-' * width}  {'-' * 5}  {'-' * 13}  ------"]
    for e in report.exercises:
        cases = f"{e.passed}/{len(e.cases)}" if e.cases else "-"
        lines.append(f"{e.number:>2}  {e.name:<{width}}  {cases:>5}  {_points(e.score, e.points):>13}  "
                     f"{MARKS[e.status]}")
    lines.append(f"{'':>2}  {'total':<{width}}  {'':>5}  {_points(report.score, report.max_score):>13}")
    return clean("\n".join(lines + table_footer(report)) + "\n")


def table_footer(report: GradeReport) -> list[str]:
    """The lines under a score table: the isolation level, and why nothing could be graded."""
    return ([f"isolation: {report.isolation}"] if report.isolation else []) + (
        [f"\nThe submission could not be graded: {report.error}"] if report.error else [])


def feedback_text(report: GradeReport) -> str:
    """What went wrong, exercise by exercise, case by case."""
    blocks = []
    for e in report.exercises:
        if report.error:
            break
        failed = [case for case in e.cases if not case.passed]
        if e.problem and not e.cases:
            blocks.append(f"Exercise {e.number} ({e.name}): {e.problem}")
        elif failed:
            lines = [f"Exercise {e.number} ({e.name}): {len(failed)} of {len(e.cases)} cases failed"]
            messages = {case.feedback for case in failed}
            if len(failed) > 1 and len(messages) == 1:
                lines.append(textwrap.indent(messages.pop(), "    "))
                failed = []
            shown_hints: list[str] = []
            for case in failed:
                kind = "hidden" if case.hidden else "public"
                lines.append(f"  - {case.label} [{kind}]")
                lines.append(textwrap.indent(case.feedback, "      "))
                if case.hint and case.hint not in shown_hints:
                    shown_hints.append(case.hint)
                    lines.append(textwrap.indent(f"Hint: {case.hint}", "      "))
            blocks.append("\n".join(lines))
    return clean(capped("\n\n".join(blocks), REPORT_CHARS) + ("\n" if blocks else ""))


def _points(score: float, points: float) -> str:
    return f"{score:6.2f} / {points:g}"
