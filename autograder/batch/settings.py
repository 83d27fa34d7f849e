"""What every batch worker needs to build the same Grader: plain, picklable settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import AssignmentFiles, default_files
from autograder.grade import DEFAULT_LIMITS, Grader, grading_version
from autograder.notebook.assignment import Assignment
from autograder.sandbox.runner import Limits


@dataclass(frozen=True)
class GraderSettings:
    """The limits, hidden tests and master every worker grades with.

    ``files`` None means the kit's own assignment, found where each worker has
    it installed; ``None`` paths mean that assignment's; ``assignment`` None
    means the one the master defines.
    """

    limits: Limits = DEFAULT_LIMITS
    tests_dir: Path | None = None
    master: Path | None = None
    assignment: Assignment | None = field(default=None, compare=False)
    isolation: bool = True  # False: the --no-isolation opt-out
    files: AssignmentFiles | None = None  # the assignment (--assignment / --course)

    @property
    def assignment_files(self) -> AssignmentFiles:
        return self.files or default_files()

    @property
    def master_notebook(self) -> Path:
        return self.master or self.assignment_files.master

    def grader(self) -> Grader:
        return Grader(self.assignment, self.limits, self.tests_dir, self.master, self.isolation,
                      files=self.assignment_files)

    @property
    def version(self) -> str:
        version = grading_version(self.tests_dir or self.assignment_files.hidden_tests, self.master_notebook,
                                  self.limits)
        return version if self.isolation else version + "-not-isolated"  # an isolated run regrades these
