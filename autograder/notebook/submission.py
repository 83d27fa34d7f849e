"""Reading a submitted notebook, whatever state it is in.

A submission may be anything: a valid notebook of any 4.x (or older) format,
an empty file, truncated JSON, a renamed PDF, a notebook whose cells lost
their metadata or ids, a symbolic link, a folder, a named pipe.
:func:`read_submission` turns all of these into either the list of code cells
or a :class:`SubmissionError` with a reason a student can act on; it never
raises anything else.  The file is opened without following symbolic links and
read only if it is a regular file of at most MAX_BYTES, and a 4.x notebook is
read as plain JSON (nbformat only converts older formats).
"""

from __future__ import annotations

import errno
import json
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.sandbox.wire import json_values_bound

MAX_BYTES = 50 << 20
BYTES_PER_VALUE = 8  # a notebook has ~1 JSON value per 30 bytes; parsing tiny values costs ~20x the file
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO must not block the open


class SubmissionError(Exception):
    """The submission could not be read as a notebook; the message says why."""


@dataclass(frozen=True)
class CodeCell:
    """A code cell of the submission: its position among all cells, its source and its prompt number."""

    index: int
    source: str
    execution_count: int | None = None

    def label(self, defining: str) -> str:
        """The cell as the student sees it in Jupyter: ``cell In [12]``, or ``cell defining `name` ``."""
        if self.execution_count is not None:
            return f"cell In [{self.execution_count}]"
        return f"cell defining `{defining[:60]}`"  # a name is an identifier, but of any length


def read_submission(path: Path) -> list[CodeCell]:
    """The code cells of a submitted notebook, or SubmissionError saying what is wrong."""
    path = Path(path)
    data = _read_regular_file(path)
    if len(data) > MAX_BYTES:
        raise SubmissionError(f"the submission is larger than {MAX_BYTES >> 20} MB: is it really a notebook?")
    if not data.strip():
        raise SubmissionError("the submission is empty (0 bytes of notebook): upload the saved .ipynb file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SubmissionError("the submission is not a text file, so not a Jupyter notebook (.ipynb)") from None
    if json_values_bound(data) > len(data) // BYTES_PER_VALUE + 100_000:
        raise SubmissionError("the submission's JSON holds far more values than a notebook does (it is mostly "
                              "tiny lists or numbers): if it has huge printed outputs, clear them (Kernel > Restart "
                              "& Clear Output) and save it again")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        if path.suffix == ".py":
            raise SubmissionError("the submission is a Python file (.py), not a notebook: upload the .ipynb "
                                  "file Jupyter saved (File > Download as > Notebook)") from None
        raise SubmissionError(
            f"the submission is not valid notebook JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg}); was the file truncated or edited by hand?") from None
    except RecursionError:
        raise SubmissionError("the submission's JSON is nested too deeply to be a notebook") from None
    except ValueError as error:  # e.g. a number with more digits than Python converts
        raise SubmissionError(f"the submission's JSON could not be read ({error})") from None
    return _code_cells(raw)


def _read_regular_file(path: Path) -> bytes:
    """At most MAX_BYTES + 1 bytes of ``path``, which must be a regular file and not a symbolic link."""
    try:
        descriptor = os.open(path, OPEN_FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP and path.is_symlink():
            raise SubmissionError("the submission is a symbolic link, not a notebook file: upload the .ipynb "
                                  "file itself (a link is never followed: it may point to any file)") from None
        raise SubmissionError(f"the submission could not be opened ({error.strerror or error})") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise SubmissionError("the submission is a folder, not a notebook file: upload the .ipynb file itself")
        if not stat.S_ISREG(mode):
            raise SubmissionError("the submission is not a regular file (a named pipe, socket or device): "
                                  "upload the .ipynb file itself")
        with open(descriptor, "rb", closefd=False) as stream:
            return stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise SubmissionError(f"the submission could not be read ({error.strerror or error})") from None
    finally:
        os.close(descriptor)


def _code_cells(raw: object) -> list[CodeCell]:
    if not isinstance(raw, dict) or not ("cells" in raw or "worksheets" in raw):
        raise SubmissionError("the submission is JSON but not a Jupyter notebook (it has no cells)")
    version = raw.get("nbformat", 4)  # a hand-made or damaged notebook without it: read it as the current format
    cells = raw.get("cells") if "cells" in raw and type(version) is int and version == 4 else _converted(raw)
    if not isinstance(cells, list):
        raise SubmissionError("the notebook's 'cells' entry is not a list of cells")
    code = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        count = cell.get("execution_count")
        if isinstance(source, str):
            code.append(CodeCell(index, source, count if type(count) is int else None))
    if not code:
        raise SubmissionError("the notebook has no code cells, so none of your functions could be found")
    return code


def _converted(raw: dict[str, Any]) -> Any:
    """The cells of an older (v3) notebook, converted by nbformat (imported only for these)."""
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.convert(nbformat.from_dict(raw), 4).get("cells")
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds on malformed input
        reason = f"{type(error).__name__}: {str(error)[:300]}"
        raise SubmissionError(f"the notebook's structure is damaged ({reason})") from None
