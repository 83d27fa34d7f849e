"""Graded-cell sources: the reference answer, and the reference wrapped in something else.

``wrapped`` is the workhorse of the hostile corpus: the cell keeps the marker,
defines the reference solution under another name, and defines the graded
function as ``before`` (arbitrary statements) followed by a call of the
reference whose result is returned as it is or deliberately spoilt.  So an
attack works the same way in every exercise, whatever its signature.
"""

from __future__ import annotations

import textwrap

from autograder.notebook.assignment import Exercise
from autograder.samples import solution_source

# A wrong answer of the right shape and type for every exercise: each number is off by one.
SPOIL = '''
def _spoil(value):
    if type(value) is dict:
        return {key: _spoil(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_spoil(item) for item in value)
    return value + 1
'''


def marker(exercise: Exercise) -> str:
    return f"# GRADED FUNCTION: {exercise.name}"


def solution(exercise: Exercise) -> str:
    """The master's answer as a student who solved the exercise would submit it."""
    return solution_source(exercise)


def body(exercise: Exercise) -> str:
    """The reference answer without its marker line."""
    return solution(exercise).split("\n", 1)[1].strip("\n")


def renamed(exercise: Exercise, new_name: str) -> str:
    """The reference definition (no marker) under another name."""
    source = body(exercise)
    old = f"def {exercise.name}("
    if old not in source:
        raise ValueError(f"cannot find {old!r} in the reference of {exercise.name}")
    return source.replace(old, f"def {new_name}(", 1)


def reference_name(exercise: Exercise) -> str:
    return f"_reference_{exercise.name}"


def wrapped(exercise: Exercise, before: str = "", *, top: str = "", spoil: bool = False,
            result: str | None = None) -> str:
    """A graded cell whose function runs ``before``, then returns the reference's (maybe spoilt) result.

    ``top`` goes at the top of the cell (module level, runs when the definitions load);
    ``result``, if given, is an expression returned instead, with ``value`` bound to the reference's result.
    """
    call = f"{reference_name(exercise)}(*args, **kwargs)"
    lines = [marker(exercise), top.strip("\n"), renamed(exercise, reference_name(exercise)), SPOIL if spoil else ""]
    inner = textwrap.dedent(before).strip("\n")
    returned = "_spoil(value)" if spoil else "value"
    if result is not None:
        returned = result
    function = f"def {exercise.name}(*args, **kwargs):\n" + textwrap.indent(
        (inner + "\n" if inner else "") + f"value = {call}\nreturn {returned}\n", "    ")
    return "\n".join(part for part in lines if part) + "\n\n" + function


def with_syntax_error(exercise: Exercise, line: int) -> tuple[str, str]:
    """The reference with line ``line`` (1-based, within the cell) replaced by broken code; and that code."""
    lines = solution(exercise).split("\n")
    indent = lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())] or "    "
    broken = f"{indent}L = len(parameters // 2"
    lines[line - 1] = broken
    return "\n".join(lines), broken.strip()
