"""Finding a graded function in a submission, with exactly the definitions it needs.

The function is looked for first in the cell marked ``# GRADED FUNCTION: name``
and, when the marker was edited away or the cell moved or split, in the last
cell that defines it.  Only definitions run in the sandbox: the function itself
and, transitively, the top-level imports, functions, classes and assignments
of other cells that it refers to.  Exploratory code in the notebook (prints,
training runs, test calls) never runs, so it can neither slow grading down nor
break an exercise it has nothing to do with.
"""

from __future__ import annotations

import ast
import builtins
import re
import symtable
from collections.abc import Iterator
from dataclasses import dataclass

from autograder.notebook.assignment import MARKER, PREAMBLE_NAMES
from autograder.notebook.submission import CodeCell
from autograder.sandbox.runner import Snippet

DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
               ast.Assign, ast.AnnAssign)
KNOWN_NAMES = frozenset(dir(builtins)) | PREAMBLE_NAMES
MAGIC = re.compile(r"^\s*[%!]")


class ExtractionError(Exception):
    """The graded function could not be taken from the submission; the message says why."""


@dataclass(frozen=True)
class _Cell:
    cell: CodeCell
    lines: list[str]
    tree: ast.Module | None
    error: SyntaxError | None


@dataclass(frozen=True)
class _Definition:
    cell: _Cell
    node: ast.stmt

    @property
    def first_line(self) -> int:
        decorators = getattr(self.node, "decorator_list", [])
        return min([self.node.lineno, *(d.lineno for d in decorators)])

    def snippet(self) -> Snippet:
        source = "".join(self.cell.lines[self.first_line - 1:self.node.end_lineno])
        return Snippet(source, f"<{self.cell.cell.label}>", self.first_line)


class FunctionFinder:
    """A submission's code cells, parsed once, and the top-level definitions they make."""

    def __init__(self, cells: list[CodeCell]) -> None:
        self._cells = [_parse(cell) for cell in cells]
        self._definitions = _index_definitions(self._cells)

    def locate(self, name: str) -> tuple[Snippet, ...]:
        """The snippets that define ``name`` and what it depends on, in notebook order."""
        root = _find_root(self._cells, name)
        needed = {id(root.node): root}
        queue = list(_free_names(root.node))
        seen = {name}
        while queue:
            wanted = queue.pop()
            if wanted in seen or wanted in KNOWN_NAMES:
                continue
            seen.add(wanted)
            found = self._definitions.get(wanted)
            if found is not None and id(found.node) not in needed:
                needed[id(found.node)] = found
                queue.extend(_free_names(found.node))
        ordered = sorted(needed.values(), key=lambda d: (d.cell.cell.index, d.first_line))
        return tuple(definition.snippet() for definition in ordered)


def _parse(cell: CodeCell) -> _Cell:
    lines = [("\n" if MAGIC.match(line) else line) for line in cell.source.splitlines(keepends=True)]
    try:
        return _Cell(cell, lines, ast.parse("".join(lines)), None)
    except (SyntaxError, ValueError) as error:  # ValueError: null bytes in the source
        error = error if isinstance(error, SyntaxError) else SyntaxError(str(error))
        return _Cell(cell, lines, None, error)


def _find_root(cells: list[_Cell], name: str) -> _Definition:
    marked = [c for c in cells if name in MARKER.findall(c.cell.source)]
    for group in (marked, cells):
        for cell in reversed(group):
            for node in _top_level(cell):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                    return _Definition(cell, node)
    broken = [c for c in (*marked, *cells) if c.error and re.search(rf"\bdef\s+{name}\b", c.cell.source)]
    if broken:
        cell = broken[0]
        error = cell.error
        raise ExtractionError(f"{cell.cell.label} (where {name} is defined) has a syntax error at line "
                              f"{error.lineno}: {error.msg}" + (f"\n    {error.text.strip()}" if error.text else ""))
    if marked:
        raise ExtractionError(f"the cell marked '# GRADED FUNCTION: {name}' does not define {name}() "
                              "any more: keep the line 'def " + name + "(...)' in it")
    raise ExtractionError(f"no function named {name} was found: keep the '# GRADED FUNCTION: {name}' "
                          "cell and do not rename the function")


def _top_level(cell: _Cell) -> Iterator[ast.stmt]:
    return iter(cell.tree.body) if cell.tree else iter(())


def _index_definitions(cells: list[_Cell]) -> dict[str, _Definition]:
    """The last top-level definition of every name, as running the notebook top to bottom leaves it."""
    index: dict[str, _Definition] = {}
    for cell in cells:
        for node in _top_level(cell):
            if isinstance(node, DEFINITIONS):
                for defined in _defined_names(node):
                    index[defined] = _Definition(cell, node)
    return index


def _defined_names(node: ast.stmt) -> Iterator[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            if alias.name != "*":
                yield alias.asname or alias.name.split(".")[0]
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
    elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
        yield node.target.id
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    yield leaf.id


def _free_names(node: ast.stmt) -> set[str]:
    """Global names a top-level statement reads: at module level or from inside its functions."""
    table = symtable.symtable(ast.unparse(node), "<statement>", "exec")
    names = {s.get_name() for s in table.get_symbols() if s.is_referenced() and not s.is_assigned()}
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        names.update(s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced())
        stack.extend(child.get_children())
    return names
