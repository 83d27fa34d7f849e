"""The outcome of grading one submission: per case, per exercise, in total."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)  # slots: a batch of thousands keeps every grade in memory
class CaseResult:
    """One test case of one exercise: passed or not, and what the student should read."""

    label: str
    passed: bool
    weight: float = 1.0
    hidden: bool = True
    feedback: str = ""  # what is wrong
    hint: str | None = None  # what to look at
    misconception: str | None = None  # the known mistake the result matches exactly, if any

    @property
    def full_feedback(self) -> str:
        return self.feedback + (f"\nHint: {self.hint}" if self.hint else "")


@dataclass(slots=True)
class ExerciseResult:
    """One graded function: its cases, and why none could run if that happened."""

    number: int
    name: str
    points: float
    cases: list[CaseResult] = field(default_factory=list)
    problem: str | None = None  # a reason shared by every case (missing function, syntax error, ...)
    output: str = ""  # what the student's code printed while being graded
    seconds: float = 0.0

    @property
    def total_weight(self) -> float:
        return sum(case.weight for case in self.cases)

    def case_share(self, case: CaseResult) -> float:
        """The points one case is worth."""
        return self.points * case.weight / self.total_weight

    @property
    def score(self) -> float:
        passed_weight = sum(case.weight for case in self.cases if case.passed)
        return self.points * passed_weight / self.total_weight if self.cases else 0.0

    @property
    def passed(self) -> int:
        return sum(case.passed for case in self.cases)

    @property
    def status(self) -> str:
        if self.cases and self.passed == len(self.cases):
            return "passed"
        return "partial" if self.passed else "failed"


@dataclass(slots=True)
class GradeReport:
    """A whole submission's grade."""

    submission: str
    exercises: list[ExerciseResult]
    error: str | None = None  # the submission could not be read at all
    seconds: float = 0.0
    internal_errors: list[str] = field(default_factory=list)  # grader bugs met while checking, for instructors
    isolation: str = ""  # how student code was confined (see SECURITY.md), or why it was NOT ISOLATED

    @property
    def score(self) -> float:
        return round(sum(exercise.score for exercise in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return sum(exercise.points for exercise in self.exercises)
