"""The student release: up to date, free of solutions, and runnable by a student.

Real nbgrader generates a fresh release once per module (into a tmp dir, never
over the committed one); a real kernel runs it once.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from autograder.notebook.assignment import PREAMBLE, graded_function_name, load_assignment
from autograder.paths import ASSIGNMENT, MASTER_NOTEBOOK, NOTEBOOK_NAME, RELEASE_DIR, SOURCE_DIR, UTILS_DIR
from autograder.release import (
    SKIPPED_NAMES,
    STUB_MESSAGE,
    ReleaseError,
    diff_release,
    generate_release,
    stage_sources,
)

EXERCISES = [exercise.name for exercise in load_assignment().exercises]
HELPERS = ["opt_utils_v1a.py", "testCases.py", "public_tests.py"]
MARKERS = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"]
STALE_FILE = "stale.txt"
REGENERATE = "The committed release is stale: run `python -m autograder release` and commit release/."


class FreshRelease(NamedTuple):
    folder: Path
    path_given: str  # PATH during generation: no `alembic` on it
    path_after: str


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> FreshRelease:
    """Generate the release once, into a tmp dir over a stale release, with no ``alembic`` on PATH.

    (As from a virtualenv that is not activated: generate_release must find alembic itself.)
    """
    target = tmp_path_factory.mktemp("fresh") / ASSIGNMENT
    target.mkdir()
    (target / STALE_FILE).write_text("left over from an old release")
    entries = os.environ.get("PATH", "").split(os.pathsep)
    path = os.pathsep.join(entry for entry in entries if not (Path(entry) / "alembic").exists())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", path)
        folder = generate_release(release_dir=target)
        return FreshRelease(folder, path, os.environ["PATH"])


@pytest.fixture(scope="module", params=["fresh", "committed"])
def release(request, fresh) -> Path:
    """Each check on the release runs on a fresh generation and on the committed release/."""
    if request.param == "fresh":
        return fresh.folder
    if not RELEASE_DIR.is_dir():
        pytest.fail(f"{RELEASE_DIR} does not exist: run `python -m autograder release` and commit release/.")
    return RELEASE_DIR


@pytest.fixture(scope="module")
def executed(fresh, tmp_path_factory) -> list[Any]:
    """The release notebook's cells after a real kernel ran them all (errors allowed) in a copy of it."""
    folder = shutil.copytree(fresh.folder, tmp_path_factory.mktemp("run") / ASSIGNMENT)
    nb = nbformat.read(folder / NOTEBOOK_NAME, as_version=4)
    resources = {"metadata": {"path": str(folder)}}  # the kernel's cwd
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True, resources=resources).execute()
    return nb.cells


# --------------------------------------------------------------------------- generation


def test_committed_release_matches_fresh_generation(fresh):
    differences = diff_release(fresh.folder, RELEASE_DIR)
    assert not differences, REGENERATE + "\n  " + "\n  ".join(differences)


def test_generation_finds_alembic_itself_and_restores_path(fresh):
    assert (fresh.folder / NOTEBOOK_NAME).is_file()
    assert fresh.path_after == fresh.path_given


def test_generation_replaces_the_old_release_and_cleans_up(fresh):
    assert (fresh.folder / NOTEBOOK_NAME).is_file()
    assert not (fresh.folder / STALE_FILE).exists()
    assert [path.name for path in fresh.folder.parent.iterdir()] == [ASSIGNMENT]  # no build leftovers


def test_failed_generation_raises_with_nbgrader_log_and_keeps_release(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    cell = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")  # not a solution cell
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), source / NOTEBOOK_NAME)
    target = tmp_path / ASSIGNMENT
    target.mkdir()
    (target / "kept.txt").write_text("the previous release")
    with pytest.raises(ReleaseError, match=r"(?s)generate_assignment failed.*\[ERROR\]"):
        generate_release(source_dir=source, release_dir=target)
    assert [path.name for path in target.iterdir()] == ["kept.txt"]


def test_diff_release_names_each_difference(fresh, tmp_path):
    committed = shutil.copytree(fresh.folder, tmp_path / ASSIGNMENT)
    (committed / "opt_utils_v1a.py").write_text("# edited by hand\n")
    (committed / "testCases.py").unlink()
    (committed / "notes.txt").write_text("not generated")
    nb = nbformat.read(committed / NOTEBOOK_NAME, as_version=4)
    nb.cells[0].source += "\nedited"
    nbformat.write(nb, committed / NOTEBOOK_NAME)
    (committed / "__pycache__").mkdir()  # left by running the release: ignored
    (committed / "__pycache__" / "x.pyc").write_bytes(b"")

    assert diff_release(fresh.folder, fresh.folder) == []
    assert diff_release(fresh.folder, committed) == [
        f"testCases.py: missing from {committed}",
        "notes.txt: not in a fresh release",
        f"{NOTEBOOK_NAME}: cell 0 ({nb.cells[0].cell_type} cell) differs in source",
        "opt_utils_v1a.py: contents differ",
    ]


def test_staging_gives_cells_without_id_stable_ids(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("1")])
    raw = json.loads(nbformat.writes(nb))
    for cell in raw["cells"]:
        del cell["id"]
    (source / NOTEBOOK_NAME).write_text(json.dumps(raw))
    ids = []
    for run in ("first", "second"):
        stage_sources(source, UTILS_DIR, tmp_path / run)
        ids.append([cell.id for cell in nbformat.read(tmp_path / run / NOTEBOOK_NAME, as_version=4).cells])
    assert ids[0] == ids[1] == ["cell-0", "cell-1"]


def test_staging_refuses_a_helper_shadowed_by_the_source(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "opt_utils_v1a.py").write_text("# a stale copy\n")
    with pytest.raises(ReleaseError, match="shadows the helper"):
        stage_sources(source, UTILS_DIR, tmp_path / "staged")


# --------------------------------------------------------------------------- contents


def test_no_solution_line_leaks(release):
    lines = _solution_lines()
    assert lines, "found no solution regions in the master notebook"
    for name, text in _texts(release):
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{release.name}/{name} contains solution lines: {leaked}"


@pytest.mark.parametrize("marker", MARKERS)
def test_no_nbgrader_marker_remains(release, marker):
    for name, text in _texts(release):
        assert marker not in text, f"{release.name}/{name} still contains {marker!r}"


def test_outputs_and_execution_counts_cleared(release):
    for index, cell in enumerate(_release_cells(release)):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} has outputs"
            assert cell.execution_count is None, f"cell {index} has an execution count"


@pytest.mark.parametrize("helper", HELPERS)
def test_helper_module_shipped(release, helper):
    assert (UTILS_DIR / helper).is_file(), f"{helper} is missing from {UTILS_DIR}"
    shipped = release / helper
    assert shipped.is_file(), f"{helper} missing from the release"
    assert shipped.read_bytes() == (UTILS_DIR / helper).read_bytes(), f"{helper} differs from utils/{helper}"


def test_source_files_shipped(release):
    files = [path for path in SOURCE_DIR.rglob("*") if path.is_file() and path.suffix != ".ipynb"]
    files = [path for path in files if not SKIPPED_NAMES & set(path.parts)]
    assert files, "the source folder has no images: the master notebook shows seven figures"
    for path in files:
        name = path.relative_to(SOURCE_DIR)
        assert (release / name).is_file(), f"{name} missing from the release"
        assert (release / name).read_bytes() == path.read_bytes(), f"{name} differs from the source"


@pytest.mark.parametrize("name", EXERCISES)
def test_stub_raises_not_implemented(release, name):
    cells = _graded_cells(release)
    assert name in cells, f"no graded cell for {name} in the release"
    namespace: dict[str, Any] = {}
    exec(compile(PREAMBLE + cells[name], f"<release {name}>", "exec"), namespace)
    function = namespace[name]
    with pytest.raises(NotImplementedError, match=re.escape(STUB_MESSAGE)):
        function(*_placeholder_arguments(function))


# --------------------------------------------------------------------------- in a real kernel


def test_cells_before_first_public_test_run_cleanly(executed):
    first_test = min(_public_test_positions(executed).values())
    for index, cell in enumerate(executed[:first_test]):
        assert _error(cell) is None, f"cell {index} failed before any exercise: {_error(cell)}"


@pytest.mark.parametrize("name", EXERCISES)
def test_public_test_reports_not_implemented(executed, name):
    cell = executed[_public_test_positions(executed)[name]]
    error = _error(cell)
    output = _output_text(cell)
    assert error is not None, f"the public test of {name} passed on the stub:\n{output}"
    assert error["ename"] == "AssertionError", f"the public test of {name} raised {error['ename']}:\n{output}"
    assert f"{name} is not implemented yet" in output, (
        f"the public test of {name} does not say the function is not implemented yet:\n{output}"
    )


def test_only_public_tests_and_stub_callers_fail(executed):
    """Cells that call a stub (demos after an exercise, model training) fail with the stub's own
    NotImplementedError; any other failure (NameError, ImportError, a missing file...) is a bug."""
    public_tests = set(_public_test_positions(executed).values())
    for index, cell in enumerate(executed):
        error = _error(cell)
        if index in public_tests or error is None:
            continue
        assert (error["ename"], error["evalue"]) == ("NotImplementedError", STUB_MESSAGE), (
            f"cell {index} failed: {error['ename']}: {error['evalue']}\n{cell.source[:300]}"
        )


# --------------------------------------------------------------------------- helpers


def _solution_lines() -> list[str]:
    """Every non-blank line between BEGIN and END SOLUTION in the master notebook."""
    lines, inside = [], False
    for cell in nbformat.read(MASTER_NOTEBOOK, as_version=4).cells:
        for line in cell.source.splitlines():
            if "BEGIN SOLUTION" in line:
                inside = True
            elif "END SOLUTION" in line:
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


def _texts(folder: Path) -> list[tuple[str, str]]:
    """(name, text) for every file of ``folder``: the cells of notebooks, the text of other files."""
    texts = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or SKIPPED_NAMES & set(path.parts):
            continue
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            texts += [(f"{name} cell {i}", "".join(cell["source"])) for i, cell in enumerate(cells)]
        else:
            texts.append((name, path.read_bytes().decode("utf-8", errors="replace")))
    return texts


def _release_cells(folder: Path) -> list[Any]:
    return nbformat.read(folder / NOTEBOOK_NAME, as_version=4).cells


def _graded_cells(folder: Path) -> dict[str, str]:
    """The source of each graded cell of the release, by function name."""
    cells = {}
    for cell in _release_cells(folder):
        name = graded_function_name(cell.source) if cell.cell_type == "code" else None
        if name:
            cells[name] = cell.source
    return cells


def _placeholder_arguments(function: Any) -> list[Any]:
    """Plausible arguments for a graded function, by parameter name (enough to reach the stub)."""
    rng = np.random.default_rng(0)
    parameters = {
        "W1": rng.normal(size=(2, 3)),
        "b1": rng.normal(size=(2, 1)),
        "W2": rng.normal(size=(3, 2)),
        "b2": rng.normal(size=(3, 1)),
    }
    gradients = {f"d{key}": rng.normal(size=value.shape) for key, value in parameters.items()}
    zeros = {key: np.zeros_like(value) for key, value in gradients.items()}
    known = {
        "parameters": parameters,
        "grads": gradients,
        "v": zeros,
        "s": dict(zeros),
        "X": rng.normal(size=(5, 7)),
        "Y": rng.normal(size=(1, 7)) < 0.5,
        "mini_batch_size": 2,
        "seed": 0,
        "learning_rate": 0.01,
        "learning_rate0": 0.5,
        "beta": 0.9,
        "t": 2,
        "epoch_num": 2,
        "decay_rate": 1,
    }
    arguments = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name in known:
            arguments.append(known[parameter.name])
        elif parameter.default is inspect.Parameter.empty:
            raise AssertionError(f"no placeholder for {parameter.name!r}: add one to _placeholder_arguments")
        else:
            break
    return arguments


def _public_test_positions(cells: list[Any]) -> dict[str, int]:
    """Index of each exercise's public test cell (nbgrader grade_id ``<name>_test``)."""
    names = {f"{name}_test": name for name in EXERCISES}
    positions = {}
    for index, cell in enumerate(cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in names:
            positions[names[grade_id]] = index
    assert sorted(positions) == sorted(EXERCISES), "a public test cell is missing from the release"
    return positions


def _error(cell: Any) -> dict[str, Any] | None:
    return next((output for output in cell.get("outputs", []) if output.output_type == "error"), None)


def _output_text(cell: Any) -> str:
    """Everything a cell printed, and its error message."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "".join(parts)
