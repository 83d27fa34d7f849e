"""Gradescope's results.json: one test entry per case, cleaned, capped, written atomically (mode 0644)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.reports.atomic import write_text_atomically
from autograder.reports.console import summary_table, table_footer
from autograder.reports.disclosure import case_name, case_text
from autograder.reports.model import ExerciseResult, GradeReport
from autograder.reports.sanitize import CASE_CHARS, REPORT_CHARS, capped, clean, clean_tree
from autograder.settings import DEFAULT_SETTINGS, FeedbackSettings


def results_json(report: GradeReport, settings: FeedbackSettings = DEFAULT_SETTINGS) -> dict[str, Any]:
    """The report in Gradescope's autograder results format, telling students what ``settings`` allow."""
    tests = _within_budget([test for exercise in report.exercises for test in _exercise_tests(exercise, settings)])
    return {
        "score": round(sum(test["score"] for test in tests), 4),  # what the student sees add up
        "execution_time": round(report.seconds, 3),
        "output": _summary(report, settings),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"isolation": report.isolation},
    }


def _summary(report: GradeReport, settings: FeedbackSettings) -> str:
    """The table at the top of the results; while hidden cases are not shown, only the public ones count in it."""
    if settings.hidden_cases == "visible":
        return summary_table(report)
    width = max([len(e.name) for e in report.exercises] + [8])
    lines = [f"{'#':>2}  {'exercise':<{width}}  public cases passed"]
    for e in report.exercises:
        public = [case for case in e.cases if not case.hidden]
        lines.append(f"{e.number:>2}  {e.name:<{width}}  "
                     + (f"{sum(c.passed for c in public)}/{len(public)}" if public else (e.problem and "-") or "-"))
    when = {"hidden": "are not shown", "after_due_date": "are shown after the due date",
            "after_published": "are shown when grades are published"}[settings.hidden_cases]
    lines.append(f"Hidden cases {when}: this table counts the public cases only.")
    return clean("\n".join(lines + table_footer(report)) + "\n")


def grader_failure_json(message: str) -> dict[str, Any]:
    """What Gradescope shows when the grader itself failed (no score is given)."""
    return {"execution_time": 0, "output": f"The autograder itself failed, so no score was given: {message}\n"
            "Please tell your instructor.", "output_format": "text", "visibility": "visible", "tests": []}


def _exercise_tests(exercise: ExerciseResult, settings: FeedbackSettings) -> list[dict[str, Any]]:
    title = f"Exercise {exercise.number} - {exercise.name}"
    printed = f"\n\nYour code printed:\n{capped(exercise.output, CASE_CHARS)}" if exercise.output else ""
    if not exercise.cases:
        return [_test(title, f"{exercise.number}", 0.0, exercise.points, False,
                      (exercise.problem or "no test could run") + printed, exercise.name)]
    tests = []
    for k, (case, share) in enumerate(zip(exercise.cases, _rounded_shares(exercise), strict=True), start=1):
        output = case_text(case, settings) if not case.passed else "passed"
        test = _test(f"{title}: {case_name(case, k, settings)}", f"{exercise.number}.{k}",
                     share if case.passed else 0.0, share, case.passed, output + (printed if k == 1 else ""),
                     exercise.name, "hidden case" if case.hidden else "public case")
        tests.append({**test, "visibility": settings.hidden_cases if case.hidden else "visible"})
    return tests


def _within_budget(tests: list[dict[str, Any]], least: int = 200) -> list[dict[str, Any]]:
    """The tests with their outputs cut so that together they stay near REPORT_CHARS (each keeps ``least``)."""
    remaining = REPORT_CHARS
    for test in tests:
        test["output"] = capped(test["output"], max(remaining, least))
        remaining -= len(test["output"])
    return tests


def _rounded_shares(exercise: ExerciseResult) -> list[float]:
    """Each case's points to 4 decimals, the last taking the remainder so that they add up to the exercise's."""
    shares = [round(exercise.case_share(case), 4) for case in exercise.cases[:-1]]
    return [*shares, round(exercise.points - sum(shares), 4)]


def _test(name: str, number: str, score: float, max_score: float, passed: bool, output: str,
          *tags: str) -> dict[str, Any]:
    return {"name": name, "number": number, "score": score, "max_score": max_score,
            "status": "passed" if passed else "failed", "output": output, "output_format": "text",
            "tags": list(tags), "visibility": "visible"}


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON so that readers see the old file or the whole new one, never a part.

    Every string is cleaned first (no control characters, no lone surrogates): the file is strict UTF-8 JSON."""
    write_text_atomically(path, json.dumps(clean_tree(data), indent=2, allow_nan=False, ensure_ascii=False) + "\n")
