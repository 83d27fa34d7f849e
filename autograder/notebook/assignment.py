"""The assignment as the master notebook defines it: exercises, points, reference code.

The master notebook is the single source of truth.  Each graded exercise is a
code cell beginning with ``# GRADED FUNCTION: name`` (an nbgrader solution
cell); its points sit on the nbgrader grade cell whose ``grade_id`` is
``name + "_test"`` (the public test cell that follows it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import nbformat

from autograder.paths import MASTER_NOTEBOOK

_BLANK = r"[ \t\r\f\v]*"  # within one line: "\s*" spanning lines made the search quadratic in blank lines
MARKER = re.compile(rf"^{_BLANK}#{_BLANK}GRADED FUNCTION{_BLANK}:{_BLANK}([A-Za-z_]\w*){_BLANK}$", re.MULTILINE)
SOLUTION_DELIMITERS = ("### BEGIN SOLUTION", "### END SOLUTION")
TEST_CELL_SUFFIX = "_test"  # the grade_id of an exercise's public test cell is its name plus this

# What student code may use without importing it: the imports of the notebook's
# "Packages" section that graded functions rely on.
PREAMBLE = "import math\nimport numpy as np\nfrom copy import deepcopy\n"
PREAMBLE_NAMES = frozenset({"math", "np", "deepcopy"})


@dataclass(frozen=True)
class Exercise:
    """One graded function of the assignment."""

    number: int
    name: str
    points: float
    reference_source: str  # the master's graded cell, solution included


@dataclass(frozen=True)
class Assignment:
    """The graded exercises of the master notebook, in notebook order."""

    exercises: tuple[Exercise, ...]

    @property
    def total_points(self) -> float:
        return sum(exercise.points for exercise in self.exercises)

    def exercise(self, name: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.name == name:
                return exercise
        raise KeyError(name)

    def reference_functions(self) -> Mapping[str, Callable[..., Any]]:
        """Execute the reference solutions (trusted code) and return them by name."""
        return _reference_functions(self)


def graded_function_name(source: str) -> str | None:
    """The name after ``# GRADED FUNCTION:`` in a cell's source, if any."""
    match = MARKER.search(source)
    return match.group(1) if match else None


def load_assignment(path: Path = MASTER_NOTEBOOK) -> Assignment:
    """Read the exercises and their points from the master notebook's nbgrader metadata."""
    # Trusted input, validated by the test suite: skip nbformat's (slow) schema validation here.
    nb = nbformat.convert(nbformat.reader.reads(Path(path).read_text(encoding="utf-8")), 4)
    points: dict[str, float] = {}
    graded: list[tuple[str, str]] = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            points[meta["grade_id"]] = float(meta["points"])
        if cell.cell_type == "code" and meta.get("solution"):
            name = graded_function_name(cell.source)
            if name:
                graded.append((name, cell.source))
    exercises = []
    for number, (name, source) in enumerate(graded, start=1):
        grade_id = name + TEST_CELL_SUFFIX
        if grade_id not in points:
            raise ValueError(f"{path}: graded function {name!r} has no grade cell {grade_id!r}")
        exercises.append(Exercise(number, name, points[grade_id], source))
    return Assignment(tuple(exercises))


@cache
def _reference_functions(assignment: Assignment) -> Mapping[str, Callable[..., Any]]:
    namespace: dict[str, Any] = {}
    exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
    for exercise in assignment.exercises:
        exec(compile(exercise.reference_source, f"<reference {exercise.name}>", "exec"), namespace)
    return MappingProxyType({e.name: namespace[e.name] for e in assignment.exercises})
