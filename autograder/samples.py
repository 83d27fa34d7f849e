"""Sample submissions built from the student release: the demo's inputs and the test corpus's base.

A sample is the release notebook with some graded cells replaced, exactly as a
student would fill them in.  ``solution_source`` is the master's graded cell
with the nbgrader solution markers removed: what a student who solved the
exercise perfectly would submit.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.course import default_files
from autograder.notebook.assignment import SOLUTION_DELIMITERS, Assignment, Exercise, graded_function_name


def solution_source(exercise: Exercise) -> str:
    """The master's graded cell as a student's finished answer (markers removed)."""
    lines = exercise.reference_source.splitlines()
    return "\n".join(line for line in lines if line.strip() not in SOLUTION_DELIMITERS)


def build_submission(replacements: dict[str, str], release: Path | None = None) -> nbformat.NotebookNode:
    """The release notebook (default: the default assignment's) with the graded cell of each named exercise
    replaced by the given source."""
    release = release or default_files().release_notebook
    notebook = nbformat.read(release, as_version=4)
    remaining = dict(replacements)
    for cell in notebook.cells:
        name = graded_function_name(cell.source) if cell.cell_type == "code" else None
        if name in remaining:
            cell.source = remaining.pop(name)
    if remaining:
        raise KeyError(f"no graded cell for {sorted(remaining)} in {release}")
    return notebook


def complete_solutions(assignment: Assignment) -> dict[str, str]:
    """Every exercise answered with the reference solution."""
    return {exercise.name: solution_source(exercise) for exercise in assignment.exercises}


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path
