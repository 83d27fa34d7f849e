"""Reading a submitted notebook, whatever state it is in.

A submission may be anything: a valid notebook of any 4.x (or older) format,
an empty file, truncated JSON, a renamed PDF, a notebook whose cells lost
their metadata or ids.  :func:`read_submission` turns all of these into either
the list of code cells or a :class:`SubmissionError` with a reason a student
can act on; it never raises anything else.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_BYTES = 50 << 20


class SubmissionError(Exception):
    """The submission could not be read as a notebook; the message says why."""


@dataclass(frozen=True)
class CodeCell:
    """A code cell of the submission: its position among all cells and its source."""

    index: int
    source: str

    @property
    def label(self) -> str:
        return f"cell {self.index + 1}"


def read_submission(path: Path) -> list[CodeCell]:
    """The code cells of a submitted notebook, or SubmissionError saying what is wrong."""
    try:
        data = Path(path).read_bytes()[: MAX_BYTES + 1]
    except OSError as error:
        raise SubmissionError(f"the submission could not be opened ({error.strerror or error})") from None
    if len(data) > MAX_BYTES:
        raise SubmissionError(f"the submission is larger than {MAX_BYTES >> 20} MB: is it really a notebook?")
    if not data.strip():
        raise SubmissionError("the submission is empty (0 bytes of notebook): upload the saved .ipynb file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionError("the submission is not a text file, so not a Jupyter notebook (.ipynb)") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionError(
            f"the submission is not valid notebook JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); was the file truncated or edited by hand?") from None
    except RecursionError:
        raise SubmissionError("the submission's JSON is nested too deeply to be a notebook") from None
    except ValueError as error:  # e.g. a number with more digits than Python converts
        raise SubmissionError(f"the submission's JSON could not be read ({error})") from None
    return _code_cells(raw)


def _code_cells(raw: object) -> list[CodeCell]:
    if not isinstance(raw, dict) or not ("cells" in raw or "worksheets" in raw):
        raise SubmissionError("the submission is JSON but not a Jupyter notebook (it has no cells)")
    if "cells" in raw and "nbformat" not in raw:  # hand-made or damaged: read it as the current format
        raw = {**raw, "nbformat": 4, "nbformat_minor": raw.get("nbformat_minor", 5)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.convert(nbformat.from_dict(raw), 4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds on malformed input
        raise SubmissionError(f"the notebook's structure is damaged ({type(error).__name__}: {error})") from None
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise SubmissionError("the notebook's 'cells' entry is not a list of cells")
    code = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        if isinstance(source, str):
            code.append(CodeCell(index, source))
    if not code:
        raise SubmissionError("the notebook has no code cells, so none of your functions could be found")
    return code
