"""Generate the student release of the assignment with nbgrader.

``generate_release`` builds a throwaway nbgrader course in a temporary
directory (the master notebook, every other file of ``source/<assignment>/``
and the helper modules of ``utils/<assignment>/``), runs nbgrader's ``generate_assignment``
on it and swaps the result into ``release/<assignment>/``.

Determinism: for a given master, nbgrader 0.9.6 writes the same bytes on every
run (checksums are hashes of cell contents; there are no timestamps or paths in
the notebook) with one exception: nbformat invents *random* cell ids for cells
of an nbformat >= 4.5 notebook that have none.  The staged copy of each
notebook therefore gets stable ids (``cell-<index>``) for such cells before
nbgrader sees it, so regeneration is byte-for-byte reproducible and
``diff_release`` needs to ignore nothing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autograder.course import default_files

log = logging.getLogger(__name__)

STUB_MESSAGE = "Replace this line with your code."
CODE_STUB = f'# YOUR CODE HERE\nraise NotImplementedError("{STUB_MESSAGE}")'
SKIPPED_NAMES = frozenset({"__pycache__", ".ipynb_checkpoints"})


class ReleaseError(RuntimeError):
    """nbgrader could not generate the release."""


def generate_release(
    source_dir: Path | None = None, utils_dir: Path | None = None, release_dir: Path | None = None
) -> Path:
    """Regenerate ``release_dir`` from the master in ``source_dir`` plus ``utils_dir/*.py``.

    The defaults are the kit's default assignment's folders; the assignment's
    name is ``source_dir``'s.  Returns ``release_dir``.  Raises ``ReleaseError``
    (with nbgrader's log) if nbgrader fails; ``release_dir`` is then left untouched.
    """
    source_dir, utils_dir, release_dir = _folders(source_dir, utils_dir, release_dir)
    with tempfile.TemporaryDirectory(prefix="optkit-release-") as tmp:
        course_root = Path(tmp)
        staged = course_root / "source" / source_dir.name
        stage_sources(source_dir, utils_dir, staged)
        generated = run_nbgrader(course_root, source_dir.name)
        _check_everything_released(staged, generated)
        replace_dir(generated, release_dir)
    return release_dir


def check_release(
    source_dir: Path | None = None, utils_dir: Path | None = None, release_dir: Path | None = None
) -> list[str]:
    """Regenerate into a temporary directory and describe how ``release_dir`` differs from it."""
    source_dir, utils_dir, release_dir = _folders(source_dir, utils_dir, release_dir)
    with tempfile.TemporaryDirectory(prefix="optkit-release-check-") as tmp:
        fresh = generate_release(source_dir, utils_dir, Path(tmp) / source_dir.name)
        return diff_release(fresh, release_dir)


def _folders(source_dir: Path | None, utils_dir: Path | None, release_dir: Path | None) -> tuple[Path, Path, Path]:
    default = default_files()
    return (Path(source_dir or default.source_dir), Path(utils_dir or default.utils_dir),
            Path(release_dir or default.release_dir))


def stage_sources(source_dir: Path, utils_dir: Path, staged: Path) -> None:
    """Lay out nbgrader's ``source/<assignment>/``: the master's folder plus the helper modules.

    ``utils/<assignment>/`` is the single source of truth for the helpers (it may
    be absent), so a file of the same name in ``source_dir`` is an error rather
    than silently shadowed.
    """
    if not source_dir.is_dir():
        raise ReleaseError(f"no source folder at {source_dir}")
    shutil.copytree(source_dir, staged, ignore=shutil.ignore_patterns(*SKIPPED_NAMES))
    for module in sorted(utils_dir.glob("*.py")):
        target = staged / module.name
        if target.exists():
            raise ReleaseError(f"{source_dir / module.name} shadows the helper {module}; delete one of them")
        shutil.copy2(module, target)
    for notebook in staged.rglob("*.ipynb"):
        _pin_cell_ids(notebook)


def _pin_cell_ids(notebook: Path) -> None:
    """Give cells without an id a stable one (nbformat >= 4.5 would invent random ids)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) < (4, 5):
        return
    missing = [(index, cell) for index, cell in enumerate(nb["cells"]) if not cell.get("id")]
    for index, cell in missing:
        cell["id"] = f"cell-{index}"
    if missing:
        notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def run_nbgrader(course_root: Path, assignment: str) -> Path:
    """Run nbgrader's ``generate_assignment`` in ``course_root``; return the generated folder."""
    from nbgrader.apps import NbGraderAPI  # slow import (about 3 s)
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.db_url = f"sqlite:///{course_root / 'gradebook.db'}"
    config.GenerateAssignment.force = True
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    with _interpreter_scripts_on_path():
        result: dict[str, Any] = NbGraderAPI(config=config).generate_assignment(assignment)
    log.debug("nbgrader generate_assignment log:\n%s", result.get("log", ""))
    if not result.get("success"):
        details = result.get("log") or result.get("error") or "(no log)"
        raise ReleaseError(f"nbgrader generate_assignment failed for {assignment!r}:\n{details}")
    return course_root / "release" / assignment


@contextmanager
def _interpreter_scripts_on_path() -> Iterator[None]:
    """Put the running interpreter's scripts folder first on PATH, then restore PATH.

    A new gradebook makes nbgrader run ``alembic`` as a subprocess; in a virtual
    environment that is not activated, ``alembic`` is not on PATH otherwise.
    """
    old_path = os.environ.get("PATH")
    scripts = str(Path(sys.executable).parent)  # not resolved: a venv's python is a symlink
    os.environ["PATH"] = os.pathsep.join(filter(None, [scripts, old_path]))
    try:
        yield
    finally:
        if old_path is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = old_path


def _check_everything_released(staged: Path, generated: Path) -> None:
    """nbgrader skips some files quietly (``CourseDirectory.ignore``, ``max_file_size``): refuse that."""
    missing = sorted(_relative_files(staged) - _relative_files(generated))
    if missing:
        raise ReleaseError(f"nbgrader left these files out of the release: {', '.join(missing)}")


def replace_dir(new_content: Path, target: Path) -> None:
    """Replace ``target`` by a copy of ``new_content``: build it alongside, then swap by renames."""
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.new-{os.getpid()}")
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        shutil.copytree(new_content, building)
        if target.exists():
            target.rename(retired)
        try:
            building.rename(target)
        except OSError:
            if retired.exists():
                retired.rename(target)
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)


def diff_release(fresh_dir: Path, committed_dir: Path) -> list[str]:
    """Describe how ``committed_dir`` differs from a fresh release in ``fresh_dir`` (empty: identical).

    Notebooks are compared as parsed JSON (formatting aside, every field counts:
    generation is deterministic); other files byte for byte.
    """
    if not committed_dir.is_dir():
        return [f"{committed_dir} does not exist"]
    fresh_files, committed_files = _relative_files(fresh_dir), _relative_files(committed_dir)
    problems = [f"{name}: missing from {committed_dir}" for name in sorted(fresh_files - committed_files)]
    problems += [f"{name}: not in a fresh release" for name in sorted(committed_files - fresh_files)]
    for name in sorted(fresh_files & committed_files):
        fresh, committed = fresh_dir / name, committed_dir / name
        if name.endswith(".ipynb"):
            problems += [f"{name}: {problem}" for problem in _diff_notebooks(fresh, committed)]
        elif fresh.read_bytes() != committed.read_bytes():
            problems.append(f"{name}: contents differ")
    return problems


def _diff_notebooks(fresh: Path, committed: Path) -> list[str]:
    """Top-level fields and cells (by position) where two notebooks' JSON differs.

    If the number of cells differs, only the first differing position is named.
    """
    try:
        new, old = (json.loads(path.read_text(encoding="utf-8")) for path in (fresh, committed))
    except ValueError as error:
        return [f"not valid JSON ({error})"]
    top_level = sorted((new.keys() | old.keys()) - {"cells"})
    problems = [f"field {key!r} differs" for key in top_level if new.get(key) != old.get(key)]
    new_cells, old_cells = new.get("cells", []), old.get("cells", [])
    if len(new_cells) != len(old_cells):
        pairs = enumerate(zip(new_cells, old_cells, strict=False))
        first = next((i for i, (a, b) in pairs if a != b), min(len(new_cells), len(old_cells)))
        return [
            *problems,
            f"{len(old_cells)} cells, a fresh release has {len(new_cells)}; first difference at cell {first}",
        ]
    for index, (new_cell, old_cell) in enumerate(zip(new_cells, old_cells, strict=True)):
        keys = new_cell.keys() | old_cell.keys()
        fields = sorted(key for key in keys if new_cell.get(key) != old_cell.get(key))
        if fields:
            problems.append(f"cell {index} ({_cell_label(new_cell)}) differs in {', '.join(fields)}")
    return problems


def _cell_label(cell: dict[str, Any]) -> str:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"grade_id {grade_id}" if grade_id else f"{cell.get('cell_type')} cell"


def _relative_files(folder: Path) -> set[str]:
    """POSIX paths of the files under ``folder``, leaving out caches and checkpoints."""
    if not folder.is_dir():
        return set()
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not SKIPPED_NAMES & set(path.relative_to(folder).parts)
    }
