"""What a corpus variant is: how to build the submission, and what grading it must give."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


class Outcome(enum.Enum):
    FULL = "full points"
    ZERO = "zero"
    LESS = "less than full points"


@dataclass(frozen=True)
class Expect:
    """One exercise's expected outcome, a regex its feedback must match, and why (for honest-rule cases)."""

    outcome: Outcome
    message: str | None = None
    rule: str = ""


FULL = Expect(Outcome.FULL)


@dataclass(frozen=True)
class Workspace:
    """Where one graded run happens: the submission, results.json, and a file attacks try to create."""

    root: Path

    @property
    def submission(self) -> Path:
        return self.root / "submission" / "notebook.ipynb"

    @property
    def results(self) -> Path:
        return self.root / "results" / "results.json"

    @property
    def outside(self) -> Path:
        """A path outside the sandbox's scratch space that hostile code tries to write."""
        return self.root / "pwned.txt"

    @property
    def tmp(self) -> Path:
        """TMPDIR of the grading run: the sandbox's scratch space and its processes live under it."""
        return self.root / "tmp"


@dataclass(frozen=True)
class Variant:
    """One submission of the corpus and what grading it through the CLI must give."""

    id: str
    description: str
    build: Callable[[Workspace], bytes | None]  # the file's bytes; None: no file at all
    expect: Mapping[str, Expect]  # every exercise, by function name
    options: tuple[str, ...] = ()
    output: str | None = None  # regex the top-level "output" of results.json must match
    max_seconds: float = 30.0
    tags: frozenset[str] = field(default_factory=frozenset)
