"""Whole-notebook builders: the release with graded cells replaced, reshaped and saved in many ways.

Every function returns a new notebook (or the bytes of a file) and leaves its
input alone, so that variants can be derived from one another freely.
"""

from __future__ import annotations

import copy
import json
import uuid
import warnings

import nbformat

from autograder.notebook.assignment import Assignment, graded_function_name
from autograder.paths import RELEASE_NOTEBOOK
from autograder.samples import build_submission, complete_solutions

Notebook = nbformat.NotebookNode


def release() -> Notebook:
    """The student release exactly as students receive it."""
    return nbformat.read(RELEASE_NOTEBOOK, as_version=4)


def solved(assignment: Assignment, replacements: dict[str, str] | None = None) -> Notebook:
    """The release with every graded cell solved, then some of them replaced by ``replacements``."""
    return build_submission({**complete_solutions(assignment), **(replacements or {})})


def graded_index(notebook: Notebook, name: str) -> int:
    """Position (0-based, among all cells) of the cell marked ``# GRADED FUNCTION: name``."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and graded_function_name(cell.source) == name:
            return index
    raise KeyError(name)


def code_cell(source: str) -> Notebook:
    return nbformat.v4.new_code_cell(source)


def insert_after(notebook: Notebook, name: str, *sources: str, offset: int = 1) -> Notebook:
    """A copy with new code cells placed ``offset`` cells after the graded cell of ``name``."""
    result = copy.deepcopy(notebook)
    at = graded_index(result, name) + offset
    result.cells[at:at] = [code_cell(source) for source in sources]
    return result


def append_cells(notebook: Notebook, *sources: str) -> Notebook:
    result = copy.deepcopy(notebook)
    result.cells.extend(code_cell(source) for source in sources)
    return result


def replace_cell(notebook: Notebook, index: int, source: str) -> Notebook:
    result = copy.deepcopy(notebook)
    result.cells[index].source = source
    return result


def graded_cells_at_end(notebook: Notebook) -> Notebook:
    """Every graded cell moved to the end of the notebook, in their original order."""
    result = copy.deepcopy(notebook)
    graded = [c for c in result.cells if c.cell_type == "code" and graded_function_name(c.source)]
    result.cells = [c for c in result.cells if c not in graded] + graded
    return result


def reversed_cells(notebook: Notebook) -> Notebook:
    result = copy.deepcopy(notebook)
    result.cells = result.cells[::-1]
    return result


def without_metadata(notebook: Notebook) -> Notebook:
    """No notebook or cell metadata at all (no nbgrader, no kernelspec), outputs cleared."""
    result = copy.deepcopy(notebook)
    result.metadata = {}
    for cell in result.cells:
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return result


def with_new_ids(notebook: Notebook) -> Notebook:
    result = copy.deepcopy(notebook)
    for cell in result.cells:
        cell.id = uuid.uuid4().hex[:12]
    return result


def without_ids(notebook: Notebook) -> Notebook:
    result = copy.deepcopy(notebook)
    for cell in result.cells:
        cell.pop("id", None)
    return result


def with_line_sources(notebook: Notebook) -> Notebook:
    """Sources stored as lists of lines, as Jupyter writes them on disk."""
    result = copy.deepcopy(notebook)
    for cell in result.cells:
        cell.source = cell.source.splitlines(keepends=True)
    return result


def with_crlf(notebook: Notebook) -> Notebook:
    """Windows line endings inside every cell's source."""
    result = copy.deepcopy(notebook)
    for cell in result.cells:
        cell.source = cell.source.replace("\r\n", "\n").replace("\n", "\r\n")
    return result


def to_bytes(notebook: Notebook, *, minor: int = 5, ids: bool = True, crlf: bool = False) -> bytes:
    """The notebook as a 4.``minor`` .ipynb file (no validation: what a careless editor might save)."""
    data = copy.deepcopy(notebook)
    data.nbformat, data.nbformat_minor = 4, minor
    if not ids:
        data = without_ids(data)
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return (text.replace("\n", "\r\n") if crlf else text).encode("utf-8")


def to_v3_bytes(notebook: Notebook) -> bytes:
    """The notebook downgraded and written by nbformat as a v3 notebook (worksheets, ``input``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat validates as it writes: missing ids, old format
        return nbformat.writes(without_ids(notebook), version=3).encode("utf-8")
