"""The numbers of an instructor's class report, computed from the students' grade reports alone."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from autograder.notebook.assignment import Assignment
from autograder.reports.model import ExerciseResult, GradeReport
from autograder.reports.sanitize import printable

TOP = 10  # rows of the "most frequent" and "slowest" lists
BINS = 10  # bars of the score histogram
MESSAGE_LENGTH = 160
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
LIMITS = {  # what a student was told when their code hit one of the sandbox's limits
    "time": re.compile(r"\(time limit\)"),
    "memory": re.compile(r"ran out of memory"),
    "output": re.compile(r"printed (?:too much output|more than)"),
    "result size": re.compile(r"returned more than \d+ MB"),
}


@dataclass(frozen=True)
class ExerciseStats:
    number: int
    name: str
    points: float
    mean: float  # mean score over every submission (unreadable ones count 0)
    pass_rate: float  # share of submissions with every case passed
    misconceptions: tuple[tuple[str, int], ...]  # most frequent first; a student counts once per misconception


@dataclass(frozen=True)
class ClassSummary:
    """Everything the report shows; numbers are exact (rounding happens when they are written)."""

    submissions: int
    unreadable: tuple[str, ...]
    max_score: float
    totals: Mapping[str, float]  # student -> total score, sorted by student
    by_exercise: Mapping[str, Mapping[str, float]]  # student -> function name -> score
    mean: float
    median: float
    lowest: float
    highest: float
    histogram: tuple[tuple[float, float, int], ...]  # (from, to, submissions); the last bin includes its end
    exercises: tuple[ExerciseStats, ...]
    failures: tuple[tuple[str, str, int], ...]  # (exercise, message, submissions), most frequent first
    slowest: tuple[tuple[str, float], ...]  # (student, seconds), slowest first
    limits: tuple[tuple[str, str, str], ...]  # (student, exercise, limit) for every limit hit


def summarize(reports: Mapping[str, GradeReport], assignment: Assignment) -> ClassSummary:
    """The class's numbers from ``student -> report``."""
    students = sorted(reports)
    scores = {s: {e.name: e.score for e in reports[s].exercises} for s in students}
    totals = {s: reports[s].score for s in students}
    values = list(totals.values()) or [0.0]
    return ClassSummary(
        submissions=len(students),
        unreadable=tuple(s for s in students if reports[s].error),
        max_score=assignment.total_points,
        totals=totals,
        by_exercise=scores,
        mean=statistics.fmean(values),
        median=statistics.median(values),
        lowest=min(values),
        highest=max(values),
        histogram=_histogram(list(totals.values()), assignment.total_points),
        exercises=tuple(_exercise_stats(exercise, [_result(reports[s], exercise.name) for s in students])
                        for exercise in assignment.exercises),
        failures=_failures(reports),
        slowest=tuple(sorted(((s, reports[s].seconds) for s in students), key=lambda row: -row[1])[:TOP]),
        limits=tuple((s, e.name, limit) for s in students for e in reports[s].exercises for limit in _limits(e)),
    )


def _result(report: GradeReport, name: str) -> ExerciseResult | None:
    return next((e for e in report.exercises if e.name == name), None)


def _histogram(totals: list[float], max_score: float) -> tuple[tuple[float, float, int], ...]:
    width = max_score / BINS if max_score else 1.0
    counts = [0] * BINS
    for total in totals:
        counts[min(int(total / width + 1e-9), BINS - 1)] += 1
    return tuple((k * width, (k + 1) * width, counts[k]) for k in range(BINS))


def _exercise_stats(exercise, results: list[ExerciseResult | None]) -> ExerciseStats:
    present = [r for r in results if r is not None]
    count = max(len(results), 1)
    named = Counter(name for r in present for name in {c.misconception for c in r.cases if c.misconception})
    return ExerciseStats(exercise.number, exercise.name, exercise.points,
                         sum(r.score for r in present) / count,
                         sum(r.status == "passed" for r in present) / count,
                         _ranked(named))


def message_key(text: str) -> str:
    """A failure message with its numbers masked, so that the same mistake with other values counts once."""
    first = printable(text, 4 * MESSAGE_LENGTH).strip().splitlines()[0] if text.strip() else "(no message)"
    masked = NUMBER.sub("…", first)
    return masked if len(masked) <= MESSAGE_LENGTH else masked[:MESSAGE_LENGTH - 1] + "…"


def _failures(reports: Mapping[str, GradeReport]) -> tuple[tuple[str, str, int], ...]:
    counts: Counter[tuple[str, str]] = Counter()
    for report in reports.values():
        if report.error:
            counts[("(whole notebook)", message_key(report.error))] += 1
            continue
        for e in report.exercises:
            messages = {message_key(c.feedback) for c in e.cases if not c.passed}
            if e.problem and not e.cases:
                messages.add(message_key(e.problem))
            counts.update((e.name, message) for message in messages)
    return tuple((exercise, message, n) for (exercise, message), n in _ranked(counts)[:TOP])


def _ranked(counts: Counter) -> tuple:
    """``(key, count)`` pairs, most frequent first, ties in key order (the report must not depend on dict order)."""
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _limits(exercise: ExerciseResult) -> list[str]:
    texts = [exercise.problem or "", *(c.feedback for c in exercise.cases if not c.passed)]
    return [name for name, pattern in LIMITS.items() if any(pattern.search(text) for text in texts)]
