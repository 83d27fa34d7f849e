"""Telling a student plainly that the file handed in is not this assignment's current notebook.

Two checks, before any code is looked at: :func:`file_problem` (a folder, a
Python script, an archive, a file that is no notebook by its name) and
:func:`mismatch` (a notebook of another assignment, or of an older version of
this one).  Both return a message for the student, or None when all is well.
"""

from __future__ import annotations

import re
from pathlib import Path

from autograder.notebook.assignment import MARKER, Assignment
from autograder.notebook.submission import CodeCell

ARCHIVES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar")
SCRIPTS = (".py", ".ipy", ".txt")


def file_problem(path: Path, assignment: Assignment) -> str | None:
    """Why ``path`` (which exists) cannot be a notebook, judging by its kind and name alone."""
    expected = f"the Jupyter notebook {assignment.notebook_name or '(.ipynb)'}"
    path = Path(path)
    if path.is_dir():
        return f"the submission is a folder, not a notebook: submit {expected} itself"
    suffixes = "".join(path.suffixes[-2:]).lower()
    if suffixes.endswith(ARCHIVES):
        return f"an archive ({path.name}) was submitted: submit {expected} itself, not compressed"
    if suffixes.endswith(SCRIPTS):
        return (f"a {path.suffix} file was submitted, not a notebook: submit {expected} "
                "(in Jupyter: File > Save, then upload the .ipynb file)")
    return None


def mismatch(cells: list[CodeCell], assignment: Assignment) -> str | None:
    """Whether the notebook is another assignment's, or an older version of this one (None: it is this one).

    A notebook that has none of this assignment's graded functions but graded
    functions of its own is another assignment's; one that has some of them but
    lacks two or more (no marker, no definition) is an older version.  Anything
    else (one renamed or deleted exercise, every graded cell deleted) is left to
    each exercise's own message.
    """
    marked = {name for cell in cells for name in MARKER.findall(cell.source)}
    defined = {name for cell in cells for name in _defined_functions(cell.source)}
    expected = list(assignment.names)
    present = [name for name in expected if name in marked | defined]
    missing = [name for name in expected if name not in present]
    unknown = sorted(marked - set(expected))
    notebook = assignment.notebook_name or "the assignment's notebook"
    if not present and not unknown:
        return None
    if not present:
        found = f"it has the graded functions {', '.join(unknown)}, " if unknown else ""
        return (f"this notebook is not this assignment's: {found}none of {', '.join(expected)}. "
                f"Submit {notebook}.")
    if len(missing) >= 2:
        numbers = ", ".join(f"{expected.index(name) + 1} ({name})" for name in missing)
        extra = f"; it has graded functions the current version does not: {', '.join(unknown)}" if unknown else ""
        return (f"this notebook looks like an older version of the assignment: it has no exercise {numbers}"
                f"{extra}. Download the current {notebook}, copy your answers into it and submit that.")
    return None


def _defined_functions(source: str) -> list[str]:
    return re.findall(r"^[ \t]*def[ \t]+([A-Za-z_]\w*)[ \t]*\(", source, re.MULTILINE)  # no \s: linear
