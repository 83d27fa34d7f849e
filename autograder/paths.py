"""The default assignment's files, under the names the kit has always used.

Kept for the code and tests that grade the default assignment; anything that
takes ``--assignment`` / ``--course`` uses :func:`autograder.course.resolve`.
The names are computed on first use (no files are read at import).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.course import DEFAULT_ASSIGNMENT, default_files

ASSIGNMENT = DEFAULT_ASSIGNMENT

if TYPE_CHECKING:  # what the module-level __getattr__ below provides
    REPO_ROOT: Path
    SOURCE_DIR: Path
    RELEASE_DIR: Path
    UTILS_DIR: Path
    HIDDEN_TESTS_DIR: Path
    MASTER_NOTEBOOK: Path
    NOTEBOOK_NAME: str
    RELEASE_NOTEBOOK: Path
    INSTRUCTOR_ONLY: tuple[Path, ...]


def _values() -> dict[str, Any]:
    files = default_files()
    return {
        "REPO_ROOT": files.course,
        "SOURCE_DIR": files.source_dir,
        "RELEASE_DIR": files.release_dir,
        "UTILS_DIR": files.utils_dir,
        "HIDDEN_TESTS_DIR": files.hidden_tests,
        "MASTER_NOTEBOOK": files.master,
        "NOTEBOOK_NAME": files.master.name,
        "RELEASE_NOTEBOOK": files.release_notebook,
        "INSTRUCTOR_ONLY": files.instructor_only,
    }


def __getattr__(name: str) -> Path | str | tuple[Path, ...]:
    values = _values()
    if name not in values:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return values[name]
