"""The assignment as the master notebook defines it: exercises, points, reference code.

The master notebook is the single source of truth.  Each graded exercise is a
code cell beginning with ``# GRADED FUNCTION: name`` (an nbgrader solution
cell); its points sit on the nbgrader grade cell whose ``grade_id`` is
``name + "_test"`` (the public test cell that follows it).  What student code
may use without importing it (the *preamble*) is what the master's import cell
imports from the modules the sandbox offers: the standard library and numpy.
The import cell is the first code cell that starts with an import statement.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from autograder.course import default_files

_BLANK = r"[ \t\r\f\v]*"  # within one line: "\s*" spanning lines made the search quadratic in blank lines
MARKER = re.compile(rf"^{_BLANK}#{_BLANK}GRADED FUNCTION{_BLANK}:{_BLANK}([A-Za-z_]\w*){_BLANK}$", re.MULTILINE)
SOLUTION_DELIMITERS = ("### BEGIN SOLUTION", "### END SOLUTION")
TEST_CELL_SUFFIX = "_test"  # the grade_id of an exercise's public test cell is its name plus this

# Modules the sandbox offers to student code: the master's imports of these make the preamble.
SANDBOX_MODULES = frozenset(sys.stdlib_module_names) | {"numpy"}
MAGIC = re.compile(r"^\s*[%!]")


@dataclass(frozen=True)
class Exercise:
    """One graded function of the assignment."""

    number: int
    name: str
    points: float
    reference_source: str  # the master's graded cell, solution included


@dataclass(frozen=True)
class Assignment:
    """The graded exercises of the master notebook, in notebook order, and its preamble."""

    exercises: tuple[Exercise, ...]
    preamble: str = ""  # import statements run before student code (from the master's import cell)
    preamble_names: frozenset[str] = frozenset()  # the names they bind
    notebook_name: str = ""  # the master's file name, which the release keeps

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(exercise.name for exercise in self.exercises)

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


def load_assignment(path: Path | None = None) -> Assignment:
    """Read the exercises, their points and the preamble from a master notebook (default: the kit's own)."""
    path = Path(path) if path is not None else default_files().master
    cells = _master_cells(path)
    points: dict[str, float] = {}
    graded: list[tuple[str, str]] = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            points[meta["grade_id"]] = float(meta["points"])
        if cell["cell_type"] == "code" and meta.get("solution"):
            name = graded_function_name(cell["source"])
            if name:
                graded.append((name, cell["source"]))
    exercises = []
    for number, (name, source) in enumerate(graded, start=1):
        grade_id = name + TEST_CELL_SUFFIX
        if grade_id not in points:
            raise ValueError(f"{path}: graded function {name!r} has no grade cell {grade_id!r}")
        exercises.append(Exercise(number, name, points[grade_id], source))
    preamble, names = _preamble(cells)
    return Assignment(tuple(exercises), preamble, names, path.name)


def _master_cells(path: Path) -> list[dict[str, Any]]:
    """The master's cells with each source as one string: a trusted v4 notebook, read as plain JSON
    (nbformat's import and schema validation would cost more than a whole grading of a submission)."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    if notebook.get("nbformat") != 4:
        raise ValueError(f"{path}: a master notebook must be in nbformat 4 (found {notebook.get('nbformat')!r})")
    return [{**cell, "source": "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]}
            for cell in notebook["cells"]]


def _preamble(cells: list[dict[str, Any]]) -> tuple[str, frozenset[str]]:
    """The import cell's imports of sandbox modules, as source, and the names they bind."""
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        lines = ("" if MAGIC.match(line) else line for line in cell["source"].splitlines())  # %matplotlib, !pip
        try:
            body = ast.parse("\n".join(lines)).body
        except SyntaxError:
            continue
        if body and isinstance(body[0], (ast.Import, ast.ImportFrom)):
            kept = [node for node in body if isinstance(node, (ast.Import, ast.ImportFrom))
                    and _imports_sandbox_modules_only(node)]
            names = {alias.asname or alias.name.split(".")[0] for node in kept for alias in node.names}
            return "".join(ast.unparse(node) + "\n" for node in kept), frozenset(names)
    return "", frozenset()


def _imports_sandbox_modules_only(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        modules = [] if node.level else [node.module or ""]
    else:
        modules = [alias.name for alias in node.names]
    return bool(modules) and all(module.split(".")[0] in SANDBOX_MODULES for module in modules)


@cache
def _reference_functions(assignment: Assignment) -> Mapping[str, Callable[..., Any]]:
    namespace: dict[str, Any] = {}
    exec(compile(assignment.preamble, "<preamble>", "exec"), namespace)
    for exercise in assignment.exercises:
        exec(compile(exercise.reference_source, f"<reference {exercise.name}>", "exec"), namespace)
    return MappingProxyType({e.name: namespace[e.name] for e in assignment.exercises})


def __getattr__(name: str) -> str | frozenset[str]:
    """``PREAMBLE`` and ``PREAMBLE_NAMES``: the default assignment's, for code written before assignments."""
    if name in ("PREAMBLE", "PREAMBLE_NAMES"):
        assignment = load_assignment()
        return assignment.preamble if name == "PREAMBLE" else assignment.preamble_names
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
