"""The corpus: every submission variant, with the grade the CLI must give each exercise.

``catalogue(assignment)`` lists them all.  Groups:

- ``reference`` / ``release``: complete solutions score 100; the untouched release scores 0 and
  says "not implemented yet" everywhere.
- ``structure-*``: the same correct answers moved, split, duplicated, stripped, re-encoded,
  saved in other nbformat versions, surrounded by exploratory code and magics: all 100.
- ``broken-*``: files that are not readable notebooks: score 0, a precise reason, CLI exit 0.
- ``defects``: one mistake per exercise (syntax error, NameError at definition, missing or renamed
  function, ...): only that exercise loses points.
- ``hostile-N``: a different attack in each exercise (see :mod:`corpus.attacks`).
- ``crash-*``, ``forged-frame-without-inputs``, ``frame-flood``: hostile frames and results aimed at the
  grader itself: they cost only their own exercise, never the whole run or a neighbour.
- ``grader-*``: attacks on the grader's own handling of untrusted input (see :mod:`corpus.grader_attacks`).
"""

from __future__ import annotations

import json
import random
import textwrap
from types import SimpleNamespace

from autograder.notebook.assignment import Assignment, Exercise

from . import grader_attacks
from . import notebooks as nb
from . import sources as src
from .attacks import ATTACKS, Attack, forged_frame_without_inputs, frame_flood
from .model import FULL, Expect, Outcome, Variant, Workspace

HOSTILE_OPTIONS = ("--timeout", "1")
NOT_IMPLEMENTED = r"not implemented yet"


def catalogue(assignment: Assignment) -> list[Variant]:
    return [*_baseline(assignment), *_structure(assignment), *_broken(assignment), _defects(assignment),
            *_hostile(assignment), *_crashes(assignment), *grader_attacks.variants(assignment)]


def _all(assignment: Assignment, expect: Expect) -> dict[str, Expect]:
    return {exercise.name: expect for exercise in assignment.exercises}


def _full_except(assignment: Assignment, **special: Expect) -> dict[str, Expect]:
    return {exercise.name: special.get(exercise.name, FULL) for exercise in assignment.exercises}


def _exercises(assignment: Assignment) -> SimpleNamespace:
    """The exercises under short names: x.gd, x.rmb, x.velocity, x.momentum, x.init_adam, x.adam, ..."""
    return SimpleNamespace(**{short: assignment.exercise(name) for short, name in (
        ("gd", "update_parameters_with_gd"), ("rmb", "random_mini_batches"), ("velocity", "initialize_velocity"),
        ("momentum", "update_parameters_with_momentum"), ("init_adam", "initialize_adam"),
        ("adam", "update_parameters_with_adam"), ("update_lr", "update_lr"), ("schedule", "schedule_lr_decay"))})


def _constant(data: bytes):
    return lambda workspace: data


def _bytes(notebook, **options):
    return lambda workspace: nb.to_bytes(notebook, **options)


# --------------------------------------------------------------------------- reference and release


def _baseline(assignment: Assignment) -> list[Variant]:
    release_expect = {e.name: Expect(Outcome.ZERO, NOT_IMPLEMENTED) for e in assignment.exercises}
    return [
        Variant("reference", "every exercise solved with the master's reference (the notebook also holds "
                "model() training calls, which must not run)", _bytes(nb.solved(assignment)),
                _all(assignment, FULL), max_seconds=15.0),
        Variant("release", "the release exactly as distributed, nothing filled in",
                _bytes(nb.release()), release_expect),
    ]


# --------------------------------------------------------------------------- structural tolerance


def _structure(assignment: Assignment) -> list[Variant]:
    solved = nb.solved(assignment)
    every = _all(assignment, FULL)
    whole = [
        ("graded-cells-at-end", "every graded cell moved to the end", _bytes(nb.graded_cells_at_end(solved))),
        ("cells-reversed", "every cell in reverse order", _bytes(nb.reversed_cells(solved))),
        ("metadata-stripped", "no notebook or cell metadata (no nbgrader, no kernelspec), no outputs",
         _bytes(nb.without_metadata(solved))),
        ("ids-changed", "every cell id replaced", _bytes(nb.with_new_ids(solved))),
        ("nbformat-4.0", "saved as nbformat 4.0 (no cell ids)", _bytes(solved, minor=0, ids=False)),
        ("nbformat-4.4", "saved as nbformat 4.4, sources as lists of lines",
         _bytes(nb.with_line_sources(solved), minor=4, ids=False)),
        ("nbformat-4.5-ids", "saved as nbformat 4.5 with cell ids", _bytes(solved, minor=5, ids=True)),
        ("nbformat-4.5-no-ids", "nbformat 4.5 but the cell ids removed", _bytes(solved, minor=5, ids=False)),
        ("windows-line-endings", "CRLF in every cell and in the file itself",
         _bytes(nb.with_crlf(solved), crlf=True)),
        ("nbformat-v3", "downgraded by nbformat to a v3 notebook (worksheets, input)",
         lambda workspace: nb.to_v3_bytes(solved)),
    ]
    variants = [Variant(f"structure-{name}", text, build, every) for name, text, build in whole]
    variants.append(_structure_a(assignment))
    variants.append(_structure_b(assignment))
    variants.append(_structure_valid_python(assignment))
    return variants


def _structure_a(assignment: Assignment) -> Variant:
    x = _exercises(assignment)
    replacements = {
        x.gd.name: src.marker(x.gd) + "\n" + textwrap.dedent(f'''
            def {x.gd.name}(parameters, grads, learning_rate):
                L = len(parameters) // 2
                for l in range(1, L + 1):
                    for kind in ("W", "b"):
                        key = kind + str(l)
                        parameters[key] = _gd_step(parameters[key], grads["d" + key], learning_rate)
                return parameters
            '''),
        x.rmb.name: src.wrapped(x.rmb, spoil=True),  # an earlier, wrong copy, still marked
        x.velocity.name: "# my answer to this exercise\n" + src.body(x.velocity),
        x.momentum.name: ("%%time\n%load_ext autoreload\n%autoreload 2\n" + src.solution(x.momentum)
                          + f"\n\n%timeit {x.momentum.name}(parameters, grads, v, 0.9, 0.01)\n!ls -la\n"),
        x.init_adam.name: (src.solution(x.init_adam)
                           + f"\n\nv, s = {x.init_adam.name}(initialize_adam_test_case())\nprint(v)\n"),
        x.adam.name: src.solution(x.adam).replace(f"def {x.adam.name}(", f"@_traced\ndef {x.adam.name}(", 1),
        x.update_lr.name: src.marker(x.update_lr) + "\n" + textwrap.dedent(f'''
            def {x.update_lr.name}(learning_rate0, epoch_num, decay_rate):
                learning_rate = learning_rate0 / _denominator(epoch_num, decay_rate)
                return learning_rate
            '''),
        x.schedule.name: src.marker(x.schedule) + "\n" + textwrap.dedent(f'''
            def {x.schedule.name}(learning_rate0, epoch_num, decay_rate, time_interval=1000):
                return {x.update_lr.name}(learning_rate0, math.floor(epoch_num / time_interval), decay_rate)
            '''),
    }
    notebook = nb.solved(assignment, replacements)
    notebook = nb.append_cells(notebook, textwrap.dedent('''
        def _gd_step(value, gradient, learning_rate):
            return value - learning_rate * gradient

        print("the helper lives in the last cell")
        '''))
    notebook = nb.insert_after(notebook, x.rmb.name, src.solution(x.rmb), offset=2)  # the later, correct copy
    notebook = nb.insert_after(notebook, x.init_adam.name, "import time\ntime.sleep(30)",
                               'parameters = model(train_X, train_Y, [train_X.shape[0], 5, 2, 1], optimizer="adam",'
                               " num_epochs=10**6)", "while True:\n    pass", offset=1)
    notebook = nb.insert_after(notebook, x.adam.name, textwrap.dedent('''
        import functools


        def _traced(function):
            @functools.wraps(function)
            def wrapper(*args, **kwargs):
                return function(*args, **kwargs)
            return wrapper


        raise RuntimeError("exploratory code in a helper's cell must never run")
        '''), offset=0)
    notebook = nb.insert_after(notebook, x.update_lr.name, textwrap.dedent('''
        ONE = 1


        def _denominator(epoch_num, decay_rate):
            return ONE + decay_rate * epoch_num


        print(_denominator(2, 1))
        raise RuntimeError("exploratory code in a helper's cell must never run")
        '''), offset=0)
    description = ("per exercise: a helper in the last cell; an earlier wrong marked copy and a later correct "
                   "one; the marker edited away; magics and a cell magic; exploratory cells (sleep, model() "
                   "training, an endless loop) and a top-level call in the graded cell; a decorator and helpers "
                   "from other cells whose exploratory code raises; a graded function calling another")
    return Variant("structure-per-exercise-a", description, _bytes(notebook), _all(assignment, FULL),
                   max_seconds=15.0)


def _structure_b(assignment: Assignment) -> Variant:
    x = _exercises(assignment)
    broken_copy, _ = src.with_syntax_error(x.gd, _line_of(x.gd, "L = len(parameters)"))
    replacements = {
        x.gd.name: broken_copy,
        x.rmb.name: src.solution(x.rmb).replace(src.marker(x.rmb), f"#GRADED FUNCTION:{x.rmb.name}", 1),
        x.momentum.name: src.marker(x.momentum) + "\n" + textwrap.dedent(f'''
            def {x.momentum.name}(parameters, grads, v, beta, learning_rate):
                def step(key):
                    v["d" + key] = beta * v["d" + key] + (1 - beta) * grads["d" + key]
                    parameters[key] = parameters[key] - learning_rate * v["d" + key]

                for l in range(1, len(parameters) // 2 + 1):
                    step("W" + str(l))
                    step("b" + str(l))
                return parameters, v
            '''),
        x.adam.name: src.solution(x.adam).replace('    """\n', '    """\n    !important: read the Adam paper first\n'
                                                '    % of the update comes from v_corrected\n', 1),
        x.schedule.name: src.marker(x.schedule) + "\n" + textwrap.dedent(f'''
            CALLS = {{"count": 0}}


            def {x.schedule.name}(learning_rate0, epoch_num, decay_rate, time_interval=1000):
                CALLS["count"] = CALLS["count"] + 1
                return learning_rate0 / (1 + decay_rate * math.floor(epoch_num / time_interval))
            '''),
    }
    notebook = nb.solved(assignment, replacements)
    notebook = nb.insert_after(notebook, x.gd.name, src.solution(x.gd), offset=2)  # the later, correct copy
    index = nb.graded_index(notebook, x.velocity.name)
    notebook.cells.insert(0, notebook.cells.pop(index))  # before even the packages cell
    description = ("per exercise: an earlier marked copy with a syntax error and a later correct one; a marker "
                   "without spaces; the graded cell first in the notebook; closures over the function's "
                   "arguments (locals, not the notebook's globals of the same names); docstring lines starting "
                   "with ! and %; a module-level dict the function updates")
    return Variant("structure-per-exercise-b", description, _bytes(notebook), _all(assignment, FULL))


def _structure_valid_python(assignment: Assignment) -> Variant:
    """Valid Python that Jupyter runs correctly and naive extraction gets wrong."""
    x = _exercises(assignment)
    replacements = {
        x.gd.name: src.marker(x.gd) + "\n" + textwrap.dedent(f'''
            def {x.gd.name}(parameters, grads, learning_rate):
                for l in range(1, len(parameters) // 2 + 1):
                    for key in ("W" + str(l), "b" + str(l)):
                        parameters[key] = _STEP(parameters[key], grads["d" + key], learning_rate)
                return parameters
            '''),
        x.init_adam.name: src.marker(x.init_adam) + "\n" + textwrap.dedent(f'''
            def {x.init_adam.name}(parameters):
                return {{}}, {{}}  # first draft, replaced below in the same cell
            ''') + "\n\n" + src.body(x.init_adam),
        x.update_lr.name: src.marker(x.update_lr) + "\n" + textwrap.dedent(f'''
            def {x.update_lr.name}(learning_rate0, epoch_num, decay_rate):
                if (epoch_num
                        != 0):
                    return learning_rate0 / (1 + decay_rate * epoch_num)
                return learning_rate0
            '''),
        x.schedule.name: src.marker(x.schedule) + "\n" + textwrap.dedent(f'''
            CALLS = 0


            def {x.schedule.name}(learning_rate0, epoch_num, decay_rate, time_interval=1000):
                global CALLS
                CALLS += 1
                return learning_rate0 / (1 + decay_rate * math.floor(epoch_num / time_interval))
            '''),
    }
    notebook = nb.solved(assignment, replacements)
    notebook = nb.insert_after(notebook, x.gd.name, "import functools\n\n_STEP = functools.partial("
                               "lambda value, gradient, rate: value - rate * gradient)\n", offset=0)
    notebook = nb.insert_after(notebook, x.momentum.name, "import functools  # again, for the plots below\n",
                               offset=1)
    expect = _full_except(assignment, **{
        x.gd.name: FULL,
        x.init_adam.name: FULL,
        x.update_lr.name: FULL,
        x.schedule.name: FULL,
    })
    description = ("valid Python that Jupyter runs: a helper constant built with a module that a later cell "
                   "imports again; a draft and the final definition in one cell; a continuation line starting "
                   "with !=; `global CALLS` then `CALLS += 1`")
    return Variant("structure-valid-python", description, _bytes(notebook), expect)


def _line_of(exercise: Exercise, fragment: str) -> int:
    for number, line in enumerate(src.solution(exercise).split("\n"), start=1):
        if fragment in line:
            return number
    raise ValueError(f"{fragment!r} not in the reference of {exercise.name}")


# --------------------------------------------------------------------------- broken notebooks


def _broken(assignment: Assignment) -> list[Variant]:
    solved_bytes = nb.to_bytes(nb.solved(assignment))
    cell = {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [],
            "source": "x = 1"}
    head = {"metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    markdown = {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": "# Only prose"}
    noise = random.Random(7).randbytes(4096)
    files = [
        ("empty", "an empty file", b"", r"is empty"),
        ("whitespace", "only blank lines", b"\n\n   \n", r"is empty"),
        ("invalid-json", "not JSON at all", b'{"cells": [}', r"not valid notebook JSON \(line 1, column \d+"),
        ("truncated", "the solved notebook cut at 60 %", solved_bytes[: len(solved_bytes) * 3 // 5],
         r"not valid notebook JSON .*truncated"),
        ("pdf", "a PDF renamed .ipynb", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
         r"not a text file"),
        ("binary", "a PNG header and random bytes", b"\x89PNG\r\n\x1a\n" + noise, r"not a text file"),
        ("utf16", "the solved notebook re-encoded as UTF-16", solved_bytes.decode().encode("utf-16"),
         r"not a text file"),
        ("json-list", "a JSON list", b"[1, 2, 3]", r"JSON but not a Jupyter notebook"),
        ("json-string", "a JSON string", b'"Optimization_methods.ipynb"', r"JSON but not a Jupyter notebook"),
        ("dict-without-cells", "a JSON object with notebook fields but no cells", json.dumps(head).encode(),
         r"JSON but not a Jupyter notebook"),
        ("cells-not-a-list", "cells is an object", json.dumps({**head, "cells": {"0": cell}}).encode(),
         r"'cells' entry is not a list"),
        ("no-code-cells", "markdown cells only", json.dumps({**head, "cells": [markdown]}).encode(),
         r"no code cells"),
        ("nbformat-5", "a future nbformat major version", json.dumps({**head, "nbformat": 5, "cells": [cell]}).encode(),
         r"structure is damaged"),
        ("deep-nesting", "JSON nested 100000 levels deep", b"[" * 100_000 + b"]" * 100_000, r"nested too deeply"),
    ]
    variants = [Variant(f"broken-{name}", text, _constant(data), _all(assignment, Expect(Outcome.ZERO, regex)),
                        output=regex)
                for name, text, data, regex in files]
    # A submission path that does not exist is the instructor's mistake (exit 2): tests/test_assignments.py.
    solved = nb.solved(assignment)
    solved.cells = [c for c in solved.cells if c.cell_type != "code" or "# GRADED FUNCTION" not in c.source]
    variants.append(Variant("broken-graded-cells-deleted", "every graded cell deleted", _bytes(solved),
                            {e.name: Expect(Outcome.ZERO, rf"no function named {e.name} was found")
                             for e in assignment.exercises}))
    return variants


# --------------------------------------------------------------------------- one defect per exercise


def _defects(assignment: Assignment) -> Variant:
    x = _exercises(assignment)
    syntax_line = _line_of(x.gd, "L = len(parameters)")
    broken_gd, _ = src.with_syntax_error(x.gd, syntax_line)
    replacements = {
        x.gd.name: broken_gd,
        x.rmb.name: src.solution(x.rmb).replace("mini_batch_size=64", "mini_batch_size=DEFAULT_BATCH_SIZE", 1),
        x.momentum.name: src.marker(x.momentum) + "\n# I could not finish this one\n",
        x.init_adam.name: src.solution(x.init_adam).replace(x.init_adam.name, "initialise_adam"),
        x.adam.name: src.wrapped(x.adam, "1 / 0"),
        x.update_lr.name: src.marker(x.update_lr) + "\n" + textwrap.dedent(f'''
            def {x.update_lr.name}(learning_rate0, epoch_num, decay_rate):
                return learning_rate0 * (1 + decay_rate * epoch_num)
            '''),
        x.schedule.name: src.solution(x.schedule).replace("    return learning_rate", "    learning_rate"),
    }
    notebook = nb.solved(assignment, replacements)
    demo = nb.graded_index(notebook, x.velocity.name) + 2
    notebook = nb.replace_cell(notebook, demo, "v = initialize_velocity(parameters\nprint(v[")
    expect = _full_except(assignment, **{
        x.gd.name: Expect(Outcome.ZERO, rf"the cell defining `{x.gd.name}` has a syntax error at "
                                      rf"line {syntax_line}: '\(' was never closed"),
        x.rmb.name: Expect(Outcome.ZERO, r"failed before the function could be called: your code raised NameError: "
                                       r"name 'DEFAULT_BATCH_SIZE' is not defined\n"
                                       r"\s+at cell defining `random_mini_batches`, line \d+"),
        x.velocity.name: Expect(Outcome.FULL, rule="a syntax error in an unrelated (demo) cell costs nothing"),
        x.momentum.name: Expect(Outcome.ZERO, rf"does not define {x.momentum.name}\(\) any more"),
        x.init_adam.name: Expect(Outcome.ZERO, rf"no function named {x.init_adam.name} was found"),
        x.adam.name: Expect(Outcome.ZERO, r"ZeroDivisionError: division by zero\n\s+at cell defining "
                                        r"`update_parameters_with_adam`, line \d+"),
        x.update_lr.name: Expect(Outcome.LESS, r"decay multiplies instead of dividing"),
        x.schedule.name: Expect(Outcome.ZERO, r"did you forget a return statement"),
    })
    description = ("a syntax error in one graded cell; a NameError at definition time; a syntax error in an "
                   "unrelated demo cell; a marked cell without its function; a renamed function; a runtime "
                   "error; a plausible wrong formula; a missing return")
    return Variant("defects", description, _bytes(notebook), expect)


# --------------------------------------------------------------------------- hostile


def hostile_batches(assignment: Assignment) -> list[dict[str, Attack]]:
    """The attacks, eight to a notebook: attack k goes to exercise k mod 8."""
    names = [exercise.name for exercise in assignment.exercises]
    batches: list[dict[str, Attack]] = []
    for k, attack in enumerate(ATTACKS):
        if k % len(names) == 0:
            batches.append({})
        batches[-1][names[k % len(names)]] = attack
    return batches


def _hostile(assignment: Assignment) -> list[Variant]:
    exercises = {exercise.name: exercise for exercise in assignment.exercises}
    variants = []
    for number, batch in enumerate(hostile_batches(assignment), start=1):
        def build(workspace: Workspace, batch=batch) -> bytes:
            cells = {name: attack.source(exercises[name], workspace) for name, attack in batch.items()}
            return nb.to_bytes(nb.solved(assignment, cells))

        expect = _full_except(assignment, **{name: attack.expect for name, attack in batch.items()})
        description = "; ".join(f"{name}: {attack.name}" for name, attack in batch.items())
        variants.append(Variant(f"hostile-{number}", description, build, expect, options=HOSTILE_OPTIONS,
                                tags=frozenset(attack.name for attack in batch.values())))
    return variants


# --------------------------------------------------------------------------- known grader crashes

DEEP_FRAME = '''
header = b"[" * 100000 + b"]" * 100000
os.write(3, struct.pack("<II", len(header), 0) + header)
os._exit(0)
'''

HUGE_SHAPE_FRAME = '''
header = json.dumps({"kind": "case", "id": CASE_ID, "value": {"t": "ndarray", "dtype": "<f8",
                     "shape": [2 ** 70], "buffer": 0}}).encode()
os.write(3, struct.pack("<II", len(header), 1) + header + struct.pack("<Q", 0))
os._exit(0)
'''


def _crashes(assignment: Assignment) -> list[Variant]:
    update_lr = assignment.exercise("update_lr")
    imports = "import json\nimport os\nimport struct\nCASE_ID = 'update_lr: epoch 0 keeps the initial rate'"
    attacked = Expect(Outcome.ZERO, r"could not read|ended its own process")
    variants = []
    for name, before, error in (("deep-json-frame", DEEP_FRAME, "RecursionError"),
                                ("huge-shape-frame", HUGE_SHAPE_FRAME, "OverflowError")):
        notebook = nb.solved(assignment, {update_lr.name: src.wrapped(update_lr, before, top=imports)})
        variants.append(Variant(f"crash-{name}", f"update_lr writes a hostile frame ({error}) to the result pipe",
                                _bytes(notebook), _full_except(assignment, update_lr=attacked),
                                options=HOSTILE_OPTIONS))
    velocity = assignment.exercise("initialize_velocity")
    notebook = nb.solved(assignment, {velocity.name: forged_frame_without_inputs(velocity)})
    blamed = Expect(Outcome.ZERO, r"(?s)\A(?!.*tell your instructor)")
    variants.append(Variant("forged-frame-without-inputs", "initialize_velocity sends its own case frames (right id, "
                            "right value) without the inputs after the call", _bytes(notebook),
                            _full_except(assignment, initialize_velocity=blamed), options=HOSTILE_OPTIONS))
    gd = assignment.exercise("update_parameters_with_gd")
    notebook = nb.solved(assignment, {gd.name: frame_flood(gd)})
    expect = _full_except(assignment, **{gd.name: Expect(Outcome.ZERO, r"time limit|grader's channel"),
                                         "random_mini_batches": FULL})
    variants.append(Variant("frame-flood", "update_parameters_with_gd floods the result pipe with tiny valid frames "
                            "while random_mini_batches runs beside it", _bytes(notebook), expect,
                            options=HOSTILE_OPTIONS))
    huge_int = nb.to_bytes(nb.solved(assignment)).replace(b'"nbformat": 4', b'"nbformat": 4' + b"0" * 5000, 1)
    variants.append(Variant("crash-huge-int-in-notebook", "a notebook whose JSON holds a 5000-digit integer",
                            lambda workspace: huge_int, _all(assignment, Expect(Outcome.ZERO)),
                            output=r"could not be graded"))
    return variants
