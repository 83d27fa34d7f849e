"""Grades as plain data: what workers send back, what the ledger keeps, and one batch outcome."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.reports.model import CaseResult, ExerciseResult, GradeReport


@dataclass(frozen=True)
class Task:
    """One submission to grade, with the hash of the content the grade will stand for."""

    student: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class Outcome:
    """What grading a task gave: a report, or the tool's failure to produce one."""

    task: Task
    report: GradeReport | None
    failure: str | None = None

    @property
    def graded(self) -> bool:
        return self.report is not None


def report_to_data(report: GradeReport) -> dict[str, Any]:
    """A report as JSON-ready plain data (what ``dataclasses.asdict`` gives, built directly: its deep copies of
    every leaf cost more than a batch's bookkeeping of a submission should)."""
    exercises = [{**_fields(exercise), "cases": [_fields(case) for case in exercise.cases]}
                 for exercise in report.exercises]
    return {**_fields(report), "exercises": exercises, "internal_errors": list(report.internal_errors)}


def _fields(instance: Any) -> dict[str, Any]:
    return {field.name: getattr(instance, field.name) for field in dataclasses.fields(instance)}


def report_from_data(data: dict[str, Any], strings: dict[str, str] | None = None) -> GradeReport:
    """The inverse of :func:`report_to_data`.  With ``strings`` (kept by the caller for many reports), texts
    that recur from one report to the next (case labels, common feedback) are one object, not one per report."""
    one = (lambda text: text) if strings is None else (lambda text: strings.setdefault(text, text))
    exercises = [ExerciseResult(**{**e, "name": one(e["name"]), "cases": [
        CaseResult(**{**c, **{key: one(c[key]) for key in _CASE_TEXTS if isinstance(c.get(key), str)}})
        for c in e["cases"]]}) for e in data["exercises"]]
    return GradeReport(**{**data, "exercises": exercises})


_CASE_TEXTS = ("label", "feedback", "hint", "misconception")
