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

from autograder.notebook.assignment import MARKER
from autograder.notebook.submission import CodeCell
from autograder.sandbox.runner import Snippet

DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
               ast.Assign, ast.AnnAssign)
BUILTIN_NAMES = frozenset(dir(builtins))
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

    @property
    def position(self) -> tuple[int, int]:
        """Where it runs when the notebook runs top to bottom."""
        return self.cell.cell.index, self.first_line

    def snippet(self) -> Snippet:
        source = "".join(self.cell.lines[self.first_line - 1:self.node.end_lineno])
        return Snippet(source, f"<{self.cell.cell.label}>", self.first_line)


@dataclass(frozen=True)
class _Reads:
    """The global names a top-level statement reads: when it runs, and later from inside its functions."""

    now: frozenset[str]
    later: frozenset[str]


class FunctionFinder:
    """A submission's code cells, parsed once, and the top-level definitions they make."""

    def __init__(self, cells: list[CodeCell], preamble_names: frozenset[str] = frozenset()) -> None:
        self._known = BUILTIN_NAMES | preamble_names  # names that need no definition from the notebook
        self._cells = [_parse(cell) for cell in cells]
        self._graded = frozenset(name for cell in cells for name in MARKER.findall(cell.source))
        self._safety: dict[tuple[int, str], bool] = {}
        self._definitions: dict[str, list[_Definition]] = {}
        for cell in self._cells:
            for node in _top_level(cell):
                if isinstance(node, DEFINITIONS):
                    for defined in _defined_names(node):
                        self._definitions.setdefault(defined, []).append(_Definition(cell, node))

    def locate(self, name: str) -> tuple[Snippet, ...]:
        """The snippets that define ``name`` and what it depends on, in notebook order."""
        root = _find_root(self._cells, name)
        needed = {id(root.node): root}
        queue = [root]
        while queue:
            definition = queue.pop()
            for dependency in self._dependencies(definition, name):
                if id(dependency.node) not in needed:
                    needed[id(dependency.node)] = dependency
                    queue.append(dependency)
        ordered = sorted(needed.values(), key=lambda d: d.position)
        return tuple(definition.snippet() for definition in ordered)

    def _dependencies(self, definition: _Definition, root: str) -> list[_Definition]:
        """The definitions a statement needs: for names read when it runs, the last one before it (as
        running the notebook in order gives); for names read later, inside its functions, the last one."""
        reads = _reads(definition.node)
        found = [self._resolve(wanted, before=definition.position) for wanted in reads.now]
        found += [self._resolve(wanted) for wanted in reads.later - reads.now]
        return [d for d in found if d is not None and d.node is not definition.node and self._safe(d, root)]

    def _resolve(self, name: str, before: tuple[int, int] | None = None) -> _Definition | None:
        if name in self._known:
            return None
        candidates = self._definitions.get(name, [])
        earlier = [d for d in candidates if before is None or d.position < before]
        return (earlier or candidates or [None])[-1]

    def _safe(self, definition: _Definition, root: str) -> bool:
        """Whether a definition can run before any test.  An assignment that calls a graded function, or
        builds on values from nowhere (``import *``, test-case helpers), is a use of the notebook, not a
        definition the function needs: running it would fail or test the student's code at load."""
        if not isinstance(definition.node, (ast.Assign, ast.AnnAssign)):
            return True
        key = id(definition.node), root
        if key not in self._safety:
            self._safety[key] = False  # a cycle of assignments is not safe either
            reads = _reads(definition.node).now - self._known
            sources = [self._resolve(name, before=definition.position) for name in reads]
            self._safety[key] = not (reads & (self._graded | {root})) and all(
                source is not None and self._safe(source, root) for source in sources)
        return self._safety[key]


def _parse(cell: CodeCell) -> _Cell:
    """Parse a cell as Python; only if that fails, blank IPython magics and shell lines and try again."""
    lines = cell.source.splitlines(keepends=True)
    try:
        return _Cell(cell, lines, ast.parse(cell.source), None)
    except (SyntaxError, ValueError):
        pass
    lines = [("\n" if MAGIC.match(line) else line) for line in lines]
    try:
        return _Cell(cell, lines, ast.parse("".join(lines)), None)
    except (SyntaxError, ValueError) as error:  # ValueError: null bytes in the source
        error = error if isinstance(error, SyntaxError) else SyntaxError(str(error))
        return _Cell(cell, lines, None, error)


def _find_root(cells: list[_Cell], name: str) -> _Definition:
    marked = [c for c in cells if name in MARKER.findall(c.cell.source)]
    for group in (marked, cells):
        for cell in reversed(group):
            for node in reversed(cell.tree.body if cell.tree else []):
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


def _reads(node: ast.stmt) -> _Reads:
    """The global names ``node`` reads when it runs, and those its functions read when they are called."""
    table = symtable.symtable(ast.unparse(node), "<statement>", "exec")
    now = {s.get_name() for s in table.get_symbols() if s.is_referenced() and not s.is_assigned()}
    later: set[str] = set()
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        later.update(s.get_name() for s in child.get_symbols() if s.is_global())
        stack.extend(child.get_children())
    return _Reads(frozenset(now), frozenset(later))
