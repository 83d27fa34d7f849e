"""What every batch worker needs to build the same Grader: plain, picklable settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograder.grade import DEFAULT_LIMITS, Grader, grading_version
from autograder.notebook.assignment import Assignment
from autograder.paths import HIDDEN_TESTS_DIR, MASTER_NOTEBOOK
from autograder.sandbox.runner import Limits


@dataclass(frozen=True)
class GraderSettings:
    """The limits, hidden tests and master every worker grades with.

    ``None`` paths mean the kit's own, found where each worker has it
    installed; ``assignment`` None means the one the master defines.
    """

    limits: Limits = DEFAULT_LIMITS
    tests_dir: Path | None = None
    master: Path | None = None
    assignment: Assignment | None = field(default=None, compare=False)
    isolation: bool = True  # False: the --no-isolation opt-out

    def grader(self) -> Grader:
        return Grader(self.assignment, self.limits, self.tests_dir or HIDDEN_TESTS_DIR, self.master or MASTER_NOTEBOOK,
                      self.isolation)

    @property
    def version(self) -> str:
        version = grading_version(self.tests_dir or HIDDEN_TESTS_DIR, self.master or MASTER_NOTEBOOK, self.limits)
        return version if self.isolation else version + "-not-isolated"  # an isolated run regrades these
