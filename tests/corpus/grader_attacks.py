"""Attacks on the grader's own handling of untrusted input, not on the sandbox.

Each variant aims at work the trusted grader does with what a student controls:
searching for the marker, parsing and analysing cells, reading the submission
file, receiving results, quoting student values in feedback, writing the
console and results.json.  Every attacked exercise must cost only itself, with
a message that blames the student's code (never "tell your instructor"), and
the run must finish, exit 0 and leave a strictly valid results.json.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from autograder.notebook.assignment import Assignment, Exercise
from autograder.paths import MASTER_NOTEBOOK

from . import notebooks as nb
from . import sources as src
from .model import FULL, Expect, Outcome, Variant, Workspace

NOT_A_GRADER_BUG = r"(?s)\A(?!.*tell your instructor)"
TOO_DEEP = r"nested too deeply for Python to read"
TOO_LARGE_CELL = r"more than 64 KB of code"
BIG_OPTIONS = ("--timeout", "5", "--memory-mb", "1024")  # room for the child to build what it sends

# Control characters, an ANSI repaint of the terminal with a forged score, and a lone surrogate (at run time).
ANSI_MESSAGE = r'"\x1b[2J\x1b[H\x1b]0;owned\x07 total 100.00 / 100\r\b\b"'
FRAME_OF_TINY_NODES = '''
header = (b'{"kind":"case","id":"x","value":{"t":"list","items":['
          + b",".join([b'{"t":"py","v":1}'] * 3_000_000) + b']}}')
frame = memoryview(struct.pack("<II", len(header), 0) + header)
while frame:
    frame = frame[os.write(3, frame):]
os._exit(0)
'''


def variants(assignment: Assignment) -> list[Variant]:
    x = {exercise.name: exercise for exercise in assignment.exercises}
    return [_blank_lines(assignment, x), _deep_code(assignment, x), _huge_cell(assignment),
            _huge_results(assignment, x), _escapes(assignment, x), *_not_files(assignment)]


def _expect(assignment: Assignment, **special: Expect) -> dict[str, Expect]:
    return {exercise.name: special.get(exercise.name, FULL) for exercise in assignment.exercises}


def _zero(message: str) -> Expect:
    return Expect(Outcome.ZERO, rf"(?s)\A(?!.*tell your instructor).*(?:{message})")


def _bytes(notebook) -> Callable[[Workspace], bytes]:
    return lambda workspace: nb.to_bytes(notebook)


def _blank_lines(assignment: Assignment, x: dict[str, Exercise]) -> Variant:
    gd, rmb = x["update_parameters_with_gd"], x["random_mini_batches"]
    notebook = nb.solved(assignment, {gd.name: "\n" * 1_100_000 + src.solution(gd),
                                      rmb.name: " " * 1_100_000 + "\n" + "\t \n" * 200_000 + src.solution(rmb)})
    notebook = nb.append_cells(notebook, "\n \n" * 400_000)
    return Variant("grader-blank-lines", "1 MB of blank lines before a marker, 1 MB of spaces on one line and "
                   "blank lines before another, a cell of 1 MB of blank lines: quadratic for a naive marker search",
                   _bytes(notebook), _expect(assignment), max_seconds=60.0)


def _deep_code(assignment: Assignment, x: dict[str, Exercise]) -> Variant:
    gd, rmb = x["update_parameters_with_gd"], x["random_mini_batches"]
    velocity, momentum = x["initialize_velocity"], x["update_parameters_with_momentum"]
    init_adam, update_lr = x["initialize_adam"], x["update_lr"]
    long_sum = "+".join(["1"] * 25_000)
    deep_parens = "(" * 100_000 + "1" + ")" * 100_000
    replacements = {
        gd.name: src.wrapped(gd, f"unused = {long_sum}"),
        rmb.name: src.wrapped(rmb, f"unused = {deep_parens}"),
        velocity.name: src.wrapped(velocity, "unused = CHAIN_END"),
        momentum.name: src.wrapped(momentum, "unused = SHORT_CHAIN_END"),
        init_adam.name: src.wrapped(init_adam, "calls = 1\nglobal calls"),
        update_lr.name: src.wrapped(update_lr, "unused = DEEP_CONSTANT"),
    }
    chain = [f"a{i} = a{i - 1}\n" for i in range(1, 100_001)]
    cells = ["a0 = 1\n", *("".join(chain[k:k + 2500]) for k in range(0, len(chain), 2500)), "CHAIN_END = a100000\n",
             "s0 = 1\n" + "".join(f"s{i} = s{i - 1}\n" for i in range(1, 1501)) + "SHORT_CHAIN_END = s1500\n",
             f"unrelated_sum = {long_sum}\n", f"unrelated_parens = {deep_parens}\n",
             "DEEP_CONSTANT = " + "+".join(["1"] * 10_000) + "\n"]
    notebook = nb.append_cells(nb.solved(assignment, replacements), *cells)
    expect = _expect(assignment, **{
        gd.name: _zero(TOO_DEEP), rmb.name: _zero(TOO_LARGE_CELL),
        velocity.name: _zero(r"needs more than \d+ top-level definitions"),
        momentum.name: Expect(Outcome.FULL, rule="a chain of 1500 assignments is within the grader's budget"),
        init_adam.name: _zero(r"syntax error at line \d+: name 'calls' is assigned to before global declaration"),
        update_lr.name: _zero(r"NameError: name 'DEEP_CONSTANT' is not defined"),  # as in Jupyter: its cell fails
    })
    return Variant("grader-deep-code", "a 25000-term sum and 10^5-deep parentheses in graded cells and in unrelated "
                   "cells; a chain of 10^5 assignments (and one of 1500) that a function needs; an error only "
                   "symtable finds; a constant in a cell too deep to parse", _bytes(notebook), expect, max_seconds=90.0)


def _huge_cell(assignment: Assignment) -> Variant:
    notebook = nb.append_cells(nb.solved(assignment), "x = 1\n" * 900_000, "# " + "y" * 5_000_000)
    return Variant("grader-huge-cell", "a 5 MB code cell of assignments and one 5 MB comment, beside the complete "
                   "solution", _bytes(notebook), _expect(assignment), max_seconds=60.0, tags=frozenset({"memory"}))


def _huge_results(assignment: Assignment, x: dict[str, Exercise]) -> Variant:
    gd, rmb, velocity = x["update_parameters_with_gd"], x["random_mini_batches"], x["initialize_velocity"]
    momentum, init_adam, update_lr = x["update_parameters_with_momentum"], x["initialize_adam"], x["update_lr"]
    schedule = x["schedule_lr_decay"]
    replacements = {
        gd.name: src.wrapped(gd, result="[0] * 3_000_000"),
        rmb.name: src.wrapped(rmb, result='{"k" * 60_000_000: 1}'),
        velocity.name: src.wrapped(velocity, result="{2 ** 2000: value}"),
        momentum.name: src.wrapped(momentum, result="(2 ** 2000, 10 ** 300)"),
        init_adam.name: src.wrapped(init_adam, FRAME_OF_TINY_NODES, top="import os\nimport struct"),
        update_lr.name: src.wrapped(update_lr, result="2 ** 2000"),
        schedule.name: src.wrapped(schedule, result="1e308 * 10"),
    }
    expect = _expect(assignment, **{
        gd.name: _zero(r"more than 250,000 values, too large to check"),
        rmb.name: _zero(r"'kkkk+\.\.\.' \(60,000,000 characters\)"),
        velocity.name: _zero(r"an integer of about 603 digits"),
        momentum.name: _zero(r"an integer of about 603 digits"),
        init_adam.name: _zero(r"could not read"),
        update_lr.name: _zero(r"is an integer of about 603 digits(, expected|, which is not)"),
        schedule.name: _zero(r"is inf(, expected|, which is not)"),
    })
    return Variant("grader-huge-results", "results the grader must judge without blowing up: 3 million items, a "
                   "60 MB dict key, huge integers as key and values, float overflow, a forged frame of 3 million "
                   "tiny values", _bytes(nb.solved(assignment, replacements)), expect, options=BIG_OPTIONS,
                   max_seconds=90.0, tags=frozenset({"small-results"}))


def _escapes(assignment: Assignment, x: dict[str, Exercise]) -> Variant:
    gd, rmb, velocity = x["update_parameters_with_gd"], x["random_mini_batches"], x["initialize_velocity"]
    momentum, update_lr = x["update_parameters_with_momentum"], x["update_lr"]
    replacements = {
        gd.name: src.wrapped(gd, f"raise ValueError({ANSI_MESSAGE})"),
        rmb.name: src.wrapped(rmb, r'raise ValueError("broken \ud800 character")'),
        velocity.name: src.wrapped(velocity, result=r'{"\ud800\x1b[31m": 1}'),
        momentum.name: src.wrapped(momentum, f"print({ANSI_MESSAGE})", spoil=True),
        update_lr.name: src.wrapped(update_lr, result=r'"\x1b[2J\ud800"'),
    }
    expect = _expect(assignment, **{
        gd.name: _zero(r"ValueError: \\x1b\[2J\\x1b\[H\\x1b\]0;owned\\x07 total 100\.00 / 100\n\\x08\\x08"),
        rmb.name: _zero("ValueError: broken \ufffd character"),
        velocity.name: _zero(r"is missing the keys?"),
        momentum.name: _zero(r"Your code printed:\n.*\\x1b\[2J"),
        update_lr.name: _zero(r"should be a single number"),
    })
    return Variant("grader-escapes", "ANSI escape sequences, \\r and \\b in an exception message and in printed "
                   "output; lone surrogates in a message, a dict key and a returned string",
                   _bytes(nb.solved(assignment, replacements)), expect, tags=frozenset({"escapes"}))


def _not_files(assignment: Assignment) -> list[Variant]:
    def symlink(workspace: Workspace) -> None:
        workspace.submission.symlink_to(MASTER_NOTEBOOK)

    def fifo(workspace: Workspace) -> None:
        os.mkfifo(workspace.submission)

    def folder(workspace: Workspace) -> None:
        workspace.submission.mkdir()

    cases = [("symlink-to-master", "the submission is a symbolic link to the master notebook", symlink,
              r"is a symbolic link"),
             ("fifo", "the submission is a named pipe nobody writes to", fifo, r"not a regular file"),
             ("folder", "the submission is a folder", folder, r"is a folder")]
    return [Variant(f"grader-submission-{name}", text, build, _expect(assignment, **{
        e.name: Expect(Outcome.ZERO, message) for e in assignment.exercises}), output=message)
        for name, text, build, message in cases]
