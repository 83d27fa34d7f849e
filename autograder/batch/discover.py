"""Finding the submissions to grade: an nbgrader course root or a folder of notebooks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STATE_FOLDER = ".optkit"  # where grade-all keeps its ledger, inside PATH


class DiscoveryError(ValueError):
    """PATH holds nothing grade-all can grade (a usage error)."""


@dataclass(frozen=True)
class Submission:
    """One student's notebook (the path may not exist: a student folder without the notebook)."""

    student: str
    path: Path


@dataclass(frozen=True)
class Discovered:
    """What PATH holds: its submissions, sorted by student, and the course root if it is one."""

    submissions: tuple[Submission, ...]
    course_root: Path | None
    state_dir: Path


def discover(path: Path, assignment_name: str, notebook_name: str) -> Discovered:
    """The submissions under ``path``.

    A course root (it has ``submitted/``) holds
    ``submitted/<student>/<assignment_name>/<notebook>``; any other folder holds
    ``<student>.ipynb`` files.
    """
    path = Path(path)
    if not path.is_dir():
        raise DiscoveryError(f"{path} is not a folder")
    if (path / "submitted").is_dir():
        found = _course_submissions(path / "submitted", assignment_name, notebook_name)
        root: Path | None = path
    else:
        found = [Submission(p.stem, p) for p in path.glob("*.ipynb") if p.is_file() and not p.name.startswith(".")]
        root = None
    if not found:
        where = f"submitted/*/{assignment_name}/" if root else "*.ipynb"
        raise DiscoveryError(f"no submissions found in {path} ({where})")
    return Discovered(tuple(sorted(found, key=lambda s: s.student)), root, path / STATE_FOLDER)


def _course_submissions(submitted: Path, assignment_name: str, notebook_name: str) -> list[Submission]:
    found = []
    for folder in submitted.iterdir():
        handed_in = folder / assignment_name
        if folder.name.startswith(".") or not handed_in.is_dir():
            continue
        notebooks = sorted(p for p in handed_in.glob("*.ipynb") if p.is_file())
        expected = handed_in / notebook_name
        # A renamed notebook still counts when it is the only one; otherwise the expected name is graded.
        path = notebooks[0] if len(notebooks) == 1 and not expected.exists() else expected
        found.append(Submission(folder.name, path))
    return found
