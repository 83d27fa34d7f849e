"""What a student may read about one case, under the instructor's :class:`~autograder.settings.FeedbackSettings`.

One policy for every student-facing output (feedback pages, Gradescope's
results.json): the console and the instructor's report show everything.
"""

from __future__ import annotations

from autograder.reports.model import CaseResult, ExerciseResult
from autograder.settings import FeedbackSettings

MISTAKE = "Your result is exactly what this mistake gives: "


def case_name(case: CaseResult, number: int, settings: FeedbackSettings) -> str:
    """The case's label, or ``hidden case N`` (N counts the exercise's cases from 1) when labels are withheld."""
    return case.label if not case.hidden or settings.hidden_labels else f"hidden case {number}"


def shown_cases(exercise: ExerciseResult, settings: FeedbackSettings) -> list[tuple[int, CaseResult]]:
    """The cases a student may see, numbered from 1 among all the exercise's cases."""
    return [(number, case) for number, case in enumerate(exercise.cases, start=1)
            if not case.hidden or settings.shows_hidden_cases]


def shown_hint(case: CaseResult, settings: FeedbackSettings) -> str | None:
    """The fallback hint, if hints are on (a named misconception replaces it)."""
    return case.hint if settings.hints and case.misconception is None else None


def case_text(case: CaseResult, settings: FeedbackSettings) -> str:
    """What is wrong with a failed case, the mistake it matches and, if allowed, the hint: as plain text."""
    lines = [case.feedback]
    if case.misconception:
        lines.append(MISTAKE + case.misconception)
    hint = shown_hint(case, settings)
    if hint:
        lines.append(f"Hint: {hint}")
    return "\n".join(lines)
