"""Finding a graded function in a submission, with exactly the definitions it needs.

The function is looked for first in the cell marked ``# GRADED FUNCTION: name``
and, when the marker was edited away or the cell moved or split, in the last
cell that defines it.  Only definitions run in the sandbox: the function itself
and, transitively, the top-level imports, functions, classes and assignments
of other cells that it refers to.  Exploratory code in the notebook (prints,
training runs, test calls) never runs, so it can neither slow grading down nor
break an exercise it has nothing to do with.

The source is untrusted, so the work is bounded: a cell larger than
``MAX_CELL_CHARS`` is not parsed, no syntax tree is kept once a cell's
definitions are listed, the walk over dependencies is iterative, and code
Python itself cannot analyse (nested too deeply, ``symtable`` errors) is an
error of the exercises that need it, never of the grader.
"""

from __future__ import annotations

import ast
import bisect
import builtins
import re
import symtable
from collections.abc import Iterator
from dataclasses import dataclass, field

from autograder.notebook.assignment import MARKER
from autograder.notebook.submission import CodeCell
from autograder.sandbox.runner import Snippet

DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
               ast.Assign, ast.AnnAssign)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
BUILTIN_NAMES = frozenset(dir(builtins))
MAGIC = re.compile(r"^\s*[%!]")
MAX_CELL_CHARS = 64 << 10  # code (not blank) a cell may hold to be parsed: its tree costs ~1 KB a character
MAX_CODE_CHARS = 2 << 20  # code parsed in the whole notebook; cells beyond it are not read
MAX_DEFINITIONS = 200_000  # top-level definitions indexed in the whole notebook
MAX_NEEDED_CHARS = 1 << 20  # code one exercise may need: function, helpers and constants together
MAX_NEEDED_DEFINITIONS = 2_000  # each costs a symtable analysis
UNREADABLE = "characters Python cannot read (a null byte or a broken character)"
TOO_MUCH = (f"code beyond the notebook's first {MAX_CODE_CHARS >> 20} MB of code or {MAX_DEFINITIONS:,} top-level "
            "definitions, more than the grader reads")
TOO_DEEP = ("code nested too deeply for Python to read (a very long expression or chain of calls, "
            "or deeply nested brackets): split it into smaller steps")


class ExtractionError(Exception):
    """The graded function could not be taken from the submission; the message says why."""


@dataclass(frozen=True)
class _Cell:
    cell: CodeCell
    lines: list[str]  # the source as parsed: IPython magics blanked when needed
    graded: tuple[str, ...]  # names in its markers
    error: str | None = None  # why it could not be parsed, e.g. "a syntax error at line 3: ..."

    def label(self, defining: str) -> str:
        """Named by the function it is marked for (the one asked about, if it is marked for several)."""
        return self.cell.label(defining if defining in self.graded or not self.graded else self.graded[0])


@dataclass(frozen=True, eq=False, slots=True)
class _Definition:
    """A top-level definition: where it is and what it defines (its syntax tree is not kept)."""

    cell: _Cell
    names: tuple[str, ...]
    function: bool  # a def statement: names[0] is the function's name
    assignment: bool
    first_line: int  # the first decorator's line for a decorated definition
    start_column: int  # in UTF-8 bytes, as the ast gives it
    end: tuple[int, int]  # (line, UTF-8 byte column)

    @property
    def position(self) -> tuple[int, int, int]:
        """Where it runs when the notebook runs top to bottom."""
        return self.cell.cell.index, self.first_line, self.start_column

    @property
    def label(self) -> str:
        return self.cell.label(self.names[0] if self.names else "?")

    def source(self) -> str:
        """Exactly this statement's text (another statement may share its first or last line)."""
        (last, end_column), lines = self.end, self.cell.lines
        text = [line.encode("utf-8", "surrogatepass") for line in lines[self.first_line - 1:last]]
        text[-1] = text[-1][:end_column]
        text[0] = text[0][self.start_column:]
        return b"".join(text).decode("utf-8", "surrogatepass")

    def snippet(self) -> Snippet:
        return Snippet(self.source(), f"<{self.label}>", self.first_line)


@dataclass(frozen=True)
class _Reads:
    """The global names a top-level statement reads: when it runs, and later from inside its functions."""

    now: frozenset[str]
    later: frozenset[str]


@dataclass
class _Index:
    """Every definition of each name, in notebook order, with their positions for bisection."""

    definitions: dict[str, list[_Definition]] = field(default_factory=dict)
    positions: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)

    def add(self, definition: _Definition) -> None:
        for name in definition.names:
            self.definitions.setdefault(name, []).append(definition)
            self.positions.setdefault(name, []).append(definition.position)

    def last(self, name: str, before: tuple[int, int, int] | None) -> _Definition | None:
        """The last definition of ``name`` before ``before``, or else the last of all."""
        candidates = self.definitions.get(name)
        if not candidates:
            return None
        earlier = len(candidates) if before is None else bisect.bisect_left(self.positions[name], before)
        return candidates[earlier - 1] if earlier else candidates[-1]


class FunctionFinder:
    """A submission's code cells, parsed once, and the top-level definitions they make."""

    def __init__(self, cells: list[CodeCell], preamble_names: frozenset[str] = frozenset()) -> None:
        self._known = BUILTIN_NAMES | preamble_names  # names that need no definition from the notebook
        self._cells: list[_Cell] = []
        self._index = _Index()
        self._functions: dict[str, list[_Definition]] = {}
        count, size = 0, 0
        for code in cells:
            cost = code_size(code.source)
            size += cost if cost <= MAX_CELL_CHARS else 0
            within = count < MAX_DEFINITIONS and size <= MAX_CODE_CHARS
            cell, tree = _parse(code) if within else (_unparsed(code, TOO_MUCH), None)
            self._cells.append(cell)
            for node in tree.body if tree else ():
                if isinstance(node, DEFINITIONS):
                    definition = _definition(cell, node)
                    count += 1
                    self._index.add(definition)
                    if definition.function:
                        self._functions.setdefault(definition.names[0], []).append(definition)
        self._graded = frozenset(name for cell in self._cells for name in cell.graded)
        self._reads_cache: dict[int, _Reads] = {}
        self._safety: dict[tuple[int, str], bool | None] = {}

    def locate(self, name: str) -> tuple[Snippet, ...]:
        """The snippets that define ``name`` and what it depends on, in notebook order."""
        try:
            needed = self._needed(name)
        except (RecursionError, MemoryError):
            raise ExtractionError(f"the definitions {name} needs could not be analysed: {TOO_DEEP}") from None
        snippets = tuple(definition.snippet() for definition in sorted(needed, key=lambda d: d.position))
        if sum(len(snippet.source) for snippet in snippets) > MAX_NEEDED_CHARS:
            raise ExtractionError(f"{name} and the definitions it needs hold more than {MAX_NEEDED_CHARS >> 20} MB "
                                  "of code, more than the grader runs")
        return snippets

    def _needed(self, name: str) -> list[_Definition]:
        root = self._find_root(name)
        needed = {id(root): root}
        queue = [root]
        while queue:
            definition = queue.pop()
            for dependency in self._dependencies(definition, name):
                if id(dependency) not in needed:
                    needed[id(dependency)] = dependency
                    queue.append(dependency)
                    _check_count(len(needed), name)
        return list(needed.values())

    def _find_root(self, name: str) -> _Definition:
        marked = [cell for cell in self._cells if name in cell.graded]
        functions = self._functions.get(name, [])
        in_marked = [d for d in functions if name in d.cell.graded]
        if in_marked or functions:
            return (in_marked or functions)[-1]
        defines = re.compile(rf"\bdef\s+{re.escape(name)}\b")
        broken = [c for c in (*marked, *self._cells) if c.error and defines.search(c.cell.source)]
        if broken:
            cell = broken[0]
            raise ExtractionError(f"the {cell.label(name)} has {cell.error}")
        if marked:
            raise ExtractionError(f"the cell marked '# GRADED FUNCTION: {name}' does not define {name}() "
                                  "any more: keep the line 'def " + name + "(...)' in it")
        raise ExtractionError(f"no function named {name} was found: keep the '# GRADED FUNCTION: {name}' "
                              "cell and do not rename the function")

    def _dependencies(self, definition: _Definition, root: str) -> list[_Definition]:
        """The definitions a statement needs: for names read when it runs, the last one before it (as
        running the notebook in order gives); for names read later, inside its functions, the last one."""
        reads = self._reads(definition)
        found = [self._resolve(wanted, before=definition.position) for wanted in reads.now]
        found += [self._resolve(wanted) for wanted in reads.later - reads.now]
        return [d for d in found if d is not None and d is not definition and self._safe(d, root)]

    def _resolve(self, name: str, before: tuple[int, int, int] | None = None) -> _Definition | None:
        return None if name in self._known else self._index.last(name, before)

    def _reads(self, definition: _Definition) -> _Reads:
        if id(definition) not in self._reads_cache:
            try:
                self._reads_cache[id(definition)] = _reads(definition.source())
            except SyntaxError as error:
                raise ExtractionError(f"the {definition.label} has a syntax error at line "
                                      f"{definition.first_line + (error.lineno or 1) - 1}: {error.msg}") from None
            except (RecursionError, MemoryError, ValueError):
                raise ExtractionError(f"the {definition.label} holds {TOO_DEEP}") from None
        return self._reads_cache[id(definition)]

    def _safe(self, definition: _Definition, root: str) -> bool:
        """Whether a definition can run before any test.  An assignment that calls a graded function, or
        builds on values from nowhere (``import *``, test-case helpers), is a use of the notebook, not a
        definition the function needs: running it would fail or test the student's code at load.  A cycle
        of assignments is not safe either.  The walk is iterative: a chain of 10^5 assignments is fine."""
        if not definition.assignment:
            return True
        state = self._safety.get((id(definition), root), ...)
        if state is not ...:
            return state is True
        stack = [(definition, self._assignment_sources(definition, root))]
        while stack:
            current, sources = stack[-1]
            if sources is None:
                break
            source = next(sources, None)
            if source is None:
                self._safety[(id(current), root)] = True
                stack.pop()
                continue
            state = self._safety.get((id(source), root), ...)
            if state is ...:
                stack.append((source, self._assignment_sources(source, root)))
                _check_count(len(stack), root)
            elif state is not True:  # unsafe, or in progress: a cycle
                break
        else:
            return True
        for unsafe, _ in stack:
            self._safety[(id(unsafe), root)] = False
        return False

    def _assignment_sources(self, definition: _Definition, root: str) -> Iterator[_Definition] | None:
        """The assignments ``definition`` builds on, marking it in progress; None if it is unsafe itself."""
        self._safety[(id(definition), root)] = None
        reads = self._reads(definition).now - self._known
        sources = [self._resolve(name, before=definition.position) for name in reads]
        found = [source for source in sources if source is not None]
        if reads & (self._graded | {root}) or len(found) < len(sources):
            return None
        return iter([source for source in found if source.assignment])


def code_size(source: str) -> int:
    """Characters of ``source`` that are not whitespace: what parsing it costs (blank lines cost nothing)."""
    return len(source) - sum(source.count(blank) for blank in " \t\n\r\f\v")


def _check_count(count: int, name: str) -> None:
    if count > MAX_NEEDED_DEFINITIONS:
        raise ExtractionError(f"{name} needs more than {MAX_NEEDED_DEFINITIONS} top-level definitions, more than "
                              "the grader runs: compute such values inside your function")


def _parse(code: CodeCell) -> tuple[_Cell, ast.Module | None]:
    """Parse a cell as Python; only if that fails, blank IPython magics and shell lines and try again."""
    if code_size(code.source) > MAX_CELL_CHARS:
        return _unparsed(code, f"more than {MAX_CELL_CHARS >> 10} KB of code, more than the grader reads: move "
                         "data out of the cell"), None
    graded = tuple(MARKER.findall(code.source))
    lines = code.source.splitlines(keepends=True)
    for attempt in (lines, [("\n" if MAGIC.match(line) else line) for line in lines]):
        try:
            return _Cell(code, attempt, graded), ast.parse("".join(attempt))
        except SyntaxError as error:
            problem = (f"a syntax error at line {error.lineno}: {error.msg}" if error.lineno else UNREADABLE) + (
                f"\n    {error.text.strip()[:200]}" if error.text else "")
        except ValueError:  # lone surrogates in the source
            problem = UNREADABLE
        except (RecursionError, MemoryError):
            problem = TOO_DEEP
    return _Cell(code, lines, graded, problem), None


def _unparsed(code: CodeCell, reason: str) -> _Cell:
    return _Cell(code, [], tuple(MARKER.findall(code.source)), reason)  # no definitions: its lines are not needed


def _definition(cell: _Cell, node: ast.stmt) -> _Definition:
    decorators = getattr(node, "decorator_list", [])
    first_line = min([node.lineno, *(d.lineno for d in decorators)])
    return _Definition(cell, tuple(_defined_names(node)), isinstance(node, FUNCTIONS),
                       isinstance(node, (ast.Assign, ast.AnnAssign)), first_line,
                       0 if decorators else node.col_offset, (node.end_lineno or node.lineno, node.end_col_offset or 0))


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
            for leaf in ((target,) if isinstance(target, ast.Name) else ast.walk(target)):
                if isinstance(leaf, ast.Name):
                    yield leaf.id


def _reads(source: str) -> _Reads:
    """The global names a statement reads when it runs, and those its functions read when they are called."""
    table = symtable.symtable(source, "<statement>", "exec")
    now = {s.get_name() for s in table.get_symbols() if s.is_referenced() and not s.is_assigned()}
    later: set[str] = set()
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        later.update(s.get_name() for s in child.get_symbols() if s.is_global())
        stack.extend(child.get_children())
    return _Reads(frozenset(now), frozenset(later))
