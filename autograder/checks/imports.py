"""Letting hidden tests import their assignment's helper modules by name, for the time of one grading.

The hidden tests of an assignment import the modules beside them (``case_inputs``)
and its helper modules (``testCases``) as the notebook does: by plain name.  The
folders go on ``sys.path`` only while the tests run; a module cached under the
same name from another assignment's folders is dropped first, so two assignments
graded in one process never see each other's helpers.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def importable(*folders: Path) -> Iterator[None]:
    """Put ``folders`` first on ``sys.path`` (and forget same-named modules from elsewhere), then restore it."""
    folders = tuple(folder.resolve() for folder in folders if folder.is_dir())
    for name in {path.stem for folder in folders for path in folder.glob("*.py")}:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None)
        if module is not None and (origin is None or Path(origin).resolve().parent not in folders):
            del sys.modules[name]
    entries = [str(folder) for folder in folders]
    sys.path[:0] = entries
    try:
        yield
    finally:
        for entry in entries:
            if entry in sys.path:
                sys.path.remove(entry)
