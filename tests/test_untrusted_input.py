"""The grader's own handling of untrusted input: bounded, recursion-safe, and clean in what it shows.

Unit tests of each defence, with hostile inputs beside ordinary ones; the same attacks graded end to
end through the CLI are the ``grader-*`` variants of ``tests/corpus`` (see corpus/grader_attacks.py).
Nothing here times anything: a quadratic or hanging defence shows up as a test that never finishes.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import struct
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from corpus import catalogue
from corpus.run import cli, prepare, strict_json

from autograder.checks.expect import difference, shown
from autograder.notebook import extract
from autograder.notebook.assignment import MARKER, PREAMBLE, graded_function_name, load_assignment
from autograder.notebook.extract import ExtractionError, FunctionFinder
from autograder.notebook.submission import CodeCell, SubmissionError, read_submission
from autograder.reports.console import feedback_text, summary_table
from autograder.reports.gradescope import results_json, write_json_atomically
from autograder.reports.model import CaseResult, ExerciseResult, GradeReport
from autograder.reports.sanitize import CASE_CHARS, REPORT_CHARS, capped, clean
from autograder.sandbox import wire
from autograder.sandbox.runner import Snippet

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _cells(*sources: str, counts: tuple[int | None, ...] = ()) -> list[CodeCell]:
    counts = counts or (None,) * len(sources)
    return [CodeCell(index, textwrap.dedent(source), count)
            for index, (source, count) in enumerate(zip(sources, counts, strict=True))]


def _load(snippets) -> dict:
    """The namespace the preamble and the extracted snippets make, run in order (trusted test code here)."""
    namespace: dict = {}
    for snippet in (Snippet(PREAMBLE, "<preamble>"), *snippets):
        exec(compile("\n" * (snippet.line - 1) + snippet.source, snippet.filename, "exec"), namespace)
    return namespace


def graded(name: str) -> str:
    return f"# GRADED FUNCTION: {name}\ndef {name}():\n    return VALUE\n"


GRADED = graded("f")


# =========================================================================== the marker


@pytest.mark.parametrize(("source", "name"), [
    ("# GRADED FUNCTION: f", "f"),
    ("#GRADED FUNCTION:f", "f"),
    ("  #  GRADED FUNCTION :  update_lr  \r\n", "update_lr"),
    ("\n" * 1_000_000 + "# GRADED FUNCTION: f\n", "f"),
    (" " * 1_000_000 + "\n# GRADED FUNCTION: f", "f"),
    ("\n \t\n" * 300_000 + "x = 1\n", None),
    ("#\nGRADED FUNCTION: f", None),  # a marker does not span lines
    ("# GRADED FUNCTION:\nf", None),
    ("# GRADED FUNCTION: f g", None),
])
def test_the_marker_is_found_on_one_line_in_linear_time(source, name):
    assert graded_function_name(source) == name
    assert MARKER.findall(source) == ([name] if name else [])


# =========================================================================== parsing and dependencies


@pytest.mark.parametrize("expression", [
    pytest.param("+".join(["1"] * 25_000), id="long-sum"),
    pytest.param("x" + ".a" * 20_000, id="attribute-chain"),
    pytest.param("f" + "()" * 20_000, id="call-chain"),
    pytest.param("-" * 30_000 + "1", id="unary-chain"),
])
def test_code_too_deep_for_python_is_an_error_of_its_exercise_only(expression):
    cells = _cells("VALUE = 1\n", f"# GRADED FUNCTION: f\ndef f():\n    return {expression}\n",
                   f"unrelated = {expression}\n", "# GRADED FUNCTION: g\ndef g():\n    return VALUE\n")
    finder = FunctionFinder(cells)
    with pytest.raises(ExtractionError, match=r"the cell defining `f` has code nested too deeply"):
        finder.locate("f")
    assert _load(finder.locate("g"))["g"]() == 1


def test_a_cell_above_the_size_budget_is_not_parsed_and_says_so():
    deep = "(" * 100_000 + "1" + ")" * 100_000
    cells = _cells("VALUE = 2\n", f"# GRADED FUNCTION: f\ndef f():\n    return {deep}\n", f"junk = {deep}\n",
                   "x = 1\n" * 900_000, graded("g"))
    finder = FunctionFinder(cells)
    with pytest.raises(ExtractionError, match=r"the cell defining `f` has more than 64 KB of code"):
        finder.locate("f")
    assert _load(finder.locate("g"))["g"]() == 2


def test_blank_lines_do_not_count_towards_the_size_budget():
    cells = _cells("\n" * 1_000_000 + "VALUE = 3\n", " " * 1_000_000 + "\n" + GRADED)
    snippets = FunctionFinder(cells).locate("f")
    assert _load(snippets)["f"]() == 3


def test_beyond_the_notebook_budget_cells_are_not_read(monkeypatch):
    monkeypatch.setattr(extract, "MAX_CODE_CHARS", 100)
    cells = _cells(GRADED, "VALUE = 4\n", "x = 1\n" * 30, "# GRADED FUNCTION: g\ndef g():\n    return 5\n")
    finder = FunctionFinder(cells)
    assert _load(finder.locate("f"))["f"]() == 4
    with pytest.raises(ExtractionError, match=r"the cell defining `g` has code beyond the notebook's first"):
        finder.locate("g")


def test_a_chain_of_assignments_is_walked_without_recursion():
    chain = [f"a{i} = a{i - 1}\n" for i in range(1, 1501)]
    cells = _cells("a0 = 7\n", "".join(chain), "VALUE = a1500\n", GRADED)
    snippets = FunctionFinder(cells).locate("f")
    assert len(snippets) == 1503
    assert _load(snippets)["f"]() == 7


def test_a_chain_longer_than_the_budget_is_a_clear_error():
    chain = [f"a{i} = a{i - 1}\n" for i in range(1, 100_001)]
    cells = _cells("a0 = 1\n", *("".join(chain[k:k + 5000]) for k in range(0, len(chain), 5000)), "VALUE = a100000\n",
                   GRADED)
    with pytest.raises(ExtractionError, match=r"f needs more than 2000 top-level definitions"):
        FunctionFinder(cells).locate("f")


def test_many_redefinitions_of_one_name_resolve_to_the_last_before():
    cells = _cells("x = 1\n" + "x = 2\n" * 20_000, "VALUE = x\n", "x = 3\n" * 20_000, GRADED)
    assert _load(FunctionFinder(cells).locate("f"))["f"]() == 2


def test_a_cycle_of_assignments_is_not_run():
    cells = _cells("A = B\n", "B = A\n", "VALUE = 1\n", "# GRADED FUNCTION: f\ndef f():\n    return A, VALUE\n")
    snippets = FunctionFinder(cells).locate("f")
    assert [s.source for s in snippets] == ["VALUE = 1", "def f():\n    return A, VALUE"]


def test_statements_sharing_a_line_are_analysed_on_their_own():
    cells = _cells("import math as m; VALUE = m.pi; junk = undefined_name\n", GRADED)
    snippets = FunctionFinder(cells).locate("f")
    assert [(s.source, s.line) for s in snippets[:2]] == [("import math as m", 1), ("VALUE = m.pi", 1)]
    assert _load(snippets)["f"]() == pytest.approx(3.14159265)


def test_errors_only_symtable_finds_are_the_exercises_own():
    cells = _cells("# GRADED FUNCTION: f\ndef f():\n    x = 1\n    global x\n    return x\n",
                   "nonlocal y\n", "VALUE = 1\n", graded("g"))
    finder = FunctionFinder(cells)
    with pytest.raises(ExtractionError, match=r"the cell defining `f` has a syntax error at line 4: name 'x' is "
                                              r"assigned to before global declaration"):
        finder.locate("f")
    assert _load(finder.locate("g"))["g"]() == 1


@pytest.mark.parametrize("source", ["def f():\n    return '\x00'\n", "def f():\n    return '\ud800'\n"])
def test_unreadable_characters_are_the_cells_error(source):
    with pytest.raises(ExtractionError, match=r"the cell In \[3\] has characters Python cannot read"):
        FunctionFinder(_cells(source, counts=(3,))).locate("f")


def test_cells_are_named_as_jupyter_shows_them():
    cells = _cells("import json\n", "VALUE = 1\n", "# GRADED FUNCTION: f\ndef f():\n    return json.dumps(VALUE)\n",
                   counts=(3, None, 12))
    assert [s.filename for s in FunctionFinder(cells).locate("f")] == [
        "<cell In [3]>", "<cell defining `VALUE`>", "<cell In [12]>"]
    broken = _cells("x = 1\n", "# GRADED FUNCTION: f\ndef f(:\n    pass\n", counts=(1, None))
    with pytest.raises(ExtractionError, match=r"^the cell defining `f` has a syntax error at line 2"):
        FunctionFinder(broken).locate("f")


# =========================================================================== reading the submission


def _notebook(*cells: dict) -> bytes:
    return json.dumps({"metadata": {}, "nbformat": 4, "nbformat_minor": 5, "cells": list(cells)}).encode()


CODE = {"cell_type": "code", "execution_count": 7, "metadata": {}, "outputs": [], "source": "def f():\n    pass"}


def test_a_symbolic_link_is_not_followed(tmp_path):
    target = tmp_path / "master.ipynb"
    target.write_bytes(_notebook(CODE))
    link = tmp_path / "submission.ipynb"
    link.symlink_to(target)
    with pytest.raises(SubmissionError, match=r"^the submission is a symbolic link"):
        read_submission(link)
    assert [cell.source for cell in read_submission(target)] == [CODE["source"]]


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "submission.ipynb"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_submission(fifo)
        except SubmissionError as error:
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(30)
    assert outcome and "not a regular file" in str(outcome[0])


@pytest.mark.parametrize(("make", "message"), [
    (lambda path: path.mkdir(), r"is a folder"),
    (lambda path: path.with_suffix(".py").write_text("def f():\n    pass\n"), r"is a Python file \(\.py\)"),
    (lambda path: path.symlink_to(path.parent / "nowhere"), r"is a symbolic link"),
])
def test_things_that_are_not_notebook_files(make, message, tmp_path):
    path = tmp_path / "submission.ipynb"
    make(path)
    target = path if path.exists() or path.is_symlink() else path.with_suffix(".py")
    with pytest.raises(SubmissionError, match=message):
        read_submission(target)


def test_a_device_is_refused():
    assert stat.S_ISCHR(os.stat("/dev/zero").st_mode)
    with pytest.raises(SubmissionError, match=r"not a regular file"):
        read_submission(Path("/dev/zero"))


def test_prompt_numbers_are_kept(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_bytes(_notebook(CODE, {**CODE, "execution_count": None}, {**CODE, "execution_count": "7"}))
    assert [cell.execution_count for cell in read_submission(path)] == [7, None, None]


# =========================================================================== the wire


def test_a_result_of_too_many_values_is_sent_as_an_opaque_that_says_so():
    buffers: list[bytes] = [b"kept"]
    tree = wire.encode([np.zeros(2)] * 10 + [[1]] * 3_000_000, buffers)
    assert buffers == [b"kept"]
    assert isinstance(wire.decode(tree, buffers), wire.Opaque)
    assert "too large to check" in wire.decode(tree, buffers).reason
    small = wire.encode({"W1": np.ones(3), "n": list(range(1000))}, buffers)
    assert wire.decode(small, buffers)["n"][-1] == 999


def test_decoding_stops_at_its_node_budget(monkeypatch):
    monkeypatch.setattr(wire, "MAX_DECODED_NODES", 1000)
    tree = {"t": "list", "items": [{"t": "py", "v": 1}] * 1000}
    with pytest.raises(wire.WireError, match="too many values"):
        wire.decode(tree, [])
    assert wire.decode({"t": "list", "items": [{"t": "py", "v": 1}] * 998}, []) == [1] * 998


def test_a_frame_header_of_tiny_values_is_refused_before_parsing():
    header = b'{"kind":"case","value":{"t":"list","items":[' + b",".join([b'{"t":"py","v":1}'] * 3_000_000) + b"]}}"
    frame = struct.pack("<II", len(header), 0) + header
    with pytest.raises(wire.WireError, match="too many values"):
        wire.read_frame(io.BytesIO(frame), max_bytes=len(frame))
    ordinary = json.dumps({"kind": "case", "value": wire.encode(list(range(1000)), [])}).encode()
    message, _ = wire.read_frame(io.BytesIO(struct.pack("<II", len(ordinary), 0) + ordinary), max_bytes=1 << 20)
    assert wire.decode(message["value"], []) == list(range(1000))


# =========================================================================== quoting student values


@pytest.mark.parametrize("value", [
    "k" * 60_000_000, 2 ** 2000, -(10 ** 3000), ("x" * 10_000,) * 10_000, [[[["deep"] * 100] * 100] * 100],
    float("nan"), complex(1, 2), np.float64("inf"), {"a" * 100_000: 1}, None,
])
def test_values_are_quoted_in_bounded_text(value):
    assert len(shown(value)) < 1000


@pytest.mark.parametrize(("got", "want", "message"), [
    (2 ** 2000, 0.5, r"^lr is an integer of about 603 digits, expected 0\.5$"),
    (10 ** 300, 0.5, r"^lr is 1e\+300, expected 0\.5$"),
    (float("inf"), 0.5, r"^lr is inf, expected 0\.5$"),
    (float("nan"), 0.5, r"^lr is nan, expected 0\.5$"),
    ({2 ** 2000: 1}, {"W1": np.ones(2)}, r"missing the key \['W1'\] \(it has \[an integer of about 603 digits\]\)"),
    ({"k" * 60_000_000: 1}, {"W1": 1.0}, r"\(it has \['k{60}\.\.\.' \(60,000,000 characters\)\]\)$"),
    ({f"k{i}": 1 for i in range(100_000)}, {"W1": 1.0}, r"'k7', \.\.\. \(100,000 keys\)\]\)$"),
    ("\x1b[2J" + "x" * 1000, "ok", r"^lr is a str \('\\x1b\[2Jx+\.\.\.' \(1,004 characters\)\), expected 'ok'$"),
])
def test_differences_with_huge_or_odd_values_are_judged_in_words(got, want, message):
    problem = difference(got, want, "lr", reveal=True)
    assert re.search(message, problem), problem
    assert len(problem) < 1000


# =========================================================================== what is shown and written


def test_clean_escapes_every_control_sequence_and_keeps_layout():
    hostile = "ok\tfine\nCSI \x1b[2J OSC \x1b]0;title\x07 CR \r BS \b DEL \x7f C1 \x9b31m bidi \u202e lone \ud800\r\n"
    cleaned = clean(hostile)
    assert not CONTROL.search(cleaned)
    assert "\u202e" not in cleaned
    assert cleaned.startswith("ok\tfine\nCSI \\x1b[2J OSC \\x1b]0;title\\x07 CR \n BS \\x08 DEL \\x7f C1 \\x9b31m")
    assert cleaned.endswith("bidi \\u202e lone \ufffd\n")
    assert clean(cleaned) == cleaned
    cleaned.encode("utf-8")


def test_capped_says_what_it_left_out():
    assert capped("short", 10) == "short"
    assert capped("x" * 5000, 2000) == "x" * 2000 + "\n... (cut: only the first 2000 characters are shown)"


def _report(feedback: str, cases: int = 10, output: str = "") -> GradeReport:
    exercises = [ExerciseResult(number, f"exercise_{number}", 10.0,
                                [CaseResult(f"case {k}", False, feedback=feedback) for k in range(cases)],
                                output=output) for number in range(1, 9)]
    return GradeReport("sub.ipynb", exercises)


def test_reports_are_clean_and_capped():
    report = _report("\x1b[2J\x1b[Hall tests passed \ud800 " + "y" * 100_000, output="\x1b]0;x\x07" * 10_000)
    text = summary_table(report) + feedback_text(report)
    assert not CONTROL.search(text)
    assert len(text) < REPORT_CHARS + 10_000
    results = results_json(report)
    outputs = [test["output"] for test in results["tests"]]
    assert sum(len(output) for output in outputs) < REPORT_CHARS + 200 * len(outputs) + 2 * CASE_CHARS
    assert all(output for output in outputs)


def test_results_json_is_strict_utf8_readable_by_all_and_atomic(tmp_path):
    target = tmp_path / "out" / "results.json"
    target.parent.mkdir()
    target.write_text("old")
    write_json_atomically(target, results_json(_report("bad \ud800 key \x1b[31m\r")))
    data = strict_json(target.read_bytes())
    assert "\ufffd" in data["tests"][0]["output"] and "\x1b" not in target.read_text(encoding="utf-8")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [path.name for path in target.parent.iterdir()] == ["results.json"]


# =========================================================================== the command line


@pytest.mark.parametrize("command", ["grade", "demo"])
@pytest.mark.parametrize("option", [
    ("--timeout", "0"), ("--timeout", "-1"), ("--timeout", "nan"), ("--timeout", "inf"), ("--timeout", "0.01"),
    ("--timeout", "601"), ("--memory-mb", "0"), ("--memory-mb", "-5"), ("--memory-mb", "8"),
    ("--memory-mb", "100000"), ("--memory-mb", "1.5"),
], ids=lambda option: "=".join(option))
def test_limits_outside_their_bounds_are_usage_errors(command, option, tmp_path):
    args = ["grade", "x.ipynb"] if command == "grade" else ["demo", "--output", str(tmp_path / "demo")]
    process = cli(*args, *option, cwd=tmp_path, timeout=60)
    assert process.returncode == 2, process.stderr
    assert "usage:" in process.stderr and option[0] in process.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def built(traversable_tmp) -> dict[str, Path]:
    """The submissions of some grader-side corpus variants, written to disk."""
    wanted = {"grader-escapes", "grader-huge-cell"}
    paths = {}
    for variant in catalogue(load_assignment()):
        if variant.id in wanted:
            workspace = prepare(traversable_tmp / f"unit-{variant.id}")
            workspace.submission.write_bytes(variant.build(workspace))
            paths[variant.id] = workspace.submission
    return paths


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_the_console_shows_hostile_feedback_harmlessly(built, encoding):
    submission = built["grader-escapes"]
    results = submission.parent / f"results-{encoding}.json"
    env = {**os.environ, "PYTHONIOENCODING": encoding, "TMPDIR": str(submission.parent)}
    process = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submission), "--results", str(results)],
                             capture_output=True, env=env, timeout=120, check=False)
    assert process.returncode == 0, process.stderr.decode(errors="replace")[-3000:]
    assert b"\x1b" not in process.stdout + process.stderr and b"\r" not in process.stdout
    assert b"Exercise 1 (update_parameters_with_gd)" in process.stdout
    strict_json(results.read_bytes())


def test_a_huge_cell_costs_the_grader_little_memory(built):
    """Peak resident memory of the grading process tree, measured by a parent that waits for it (a loose
    bound, not a timing: before the per-cell budget this notebook cost the grader over 2 GB)."""
    submission = built["grader-huge-cell"]
    probe = ("import resource, subprocess, sys\n"
             "code = subprocess.run([sys.executable, '-m', 'autograder', 'grade', sys.argv[1], '--quiet'],\n"
             "                      stdout=subprocess.DEVNULL).returncode\n"
             "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    process = subprocess.run([sys.executable, "-c", probe, str(submission)], capture_output=True, text=True,
                             timeout=120, check=False, env={**os.environ, "TMPDIR": str(submission.parent)})
    code, peak_kb = process.stdout.split()
    assert code == "0", process.stderr
    assert int(peak_kb) < 1 << 20


def test_json_of_tiny_values_is_refused_before_parsing(tmp_path):
    """45 MB of empty lists would cost json.loads over 1 GB; printed lists inside a notebook are fine."""
    path = tmp_path / "tiny.ipynb"
    path.write_bytes(b'{"nbformat": 4, "cells": [' + b"[]," * 15_000_000 + b"[]]}")
    with pytest.raises(SubmissionError, match=r"far more values than a notebook"):
        read_submission(path)
    printed = {**CODE, "outputs": [{"output_type": "stream", "name": "stdout", "text": [str(list(range(200_000)))]}]}
    path.write_bytes(_notebook(printed))
    assert [cell.source for cell in read_submission(path)] == [CODE["source"]]
