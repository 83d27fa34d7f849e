"""Grading corpus variants through the real CLI, and checking what the grader left behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.notebook.assignment import Assignment

from .model import Expect, Outcome, Variant, Workspace

STALE = {"score": 999, "stale": True, "output": "a results.json left over from an earlier run " + "x" * 100_000}
TEST_STATUSES = {"passed", "failed"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
OUTPUT_FORMATS = {"text", "simple_format", "md", "html", "ansi"}
CLI_TIMEOUT = 120.0


@dataclass
class Graded:
    """One CLI run of one variant: what the process did and what it left."""

    variant: Variant
    workspace: Workspace
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    results: Any = None
    results_error: str | None = None
    leftover_files: list[str] = field(default_factory=list)
    leftover_processes: list[str] = field(default_factory=list)


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout, check=False)


def prepare(root: Path) -> Workspace:
    """An empty run folder that the sandbox's unprivileged children can traverse."""
    workspace = Workspace(root)
    for folder in (root, workspace.submission.parent, workspace.results.parent, workspace.tmp):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o711)
    return workspace


def grade(variant: Variant, root: Path) -> Graded:
    """Build the variant's submission in ``root``, grade it with the CLI, and inspect the aftermath."""
    workspace = prepare(root)
    data = variant.build(workspace)
    if data is not None:
        workspace.submission.write_bytes(data)
    workspace.results.write_text(json.dumps(STALE))
    env = {**os.environ, "TMPDIR": str(workspace.tmp)}
    started = time.monotonic()
    try:
        process = cli("grade", str(workspace.submission), "--results", str(workspace.results), "--quiet",
                      *variant.options, cwd=workspace.root, env=env)
        graded = Graded(variant, workspace, process.returncode, process.stdout, process.stderr,
                        time.monotonic() - started)
    except subprocess.TimeoutExpired as error:  # a hung grader: report it, and what it left running
        graded = Graded(variant, workspace, -1, str(error.stdout or ""), f"the CLI hung: {error}",
                        time.monotonic() - started)
    try:
        graded.results = strict_json(workspace.results.read_bytes())
    except (OSError, ValueError) as error:
        graded.results_error = f"{type(error).__name__}: {error}"
    graded.leftover_processes = processes_under(workspace.root, wait=3.0)
    graded.leftover_files = sorted(
        [str(p.relative_to(workspace.root)) for p in workspace.tmp.rglob("*")]
        + [p.name for p in workspace.results.parent.iterdir() if p != workspace.results]
        + ([workspace.outside.name] if workspace.outside.exists() else []))
    return graded


def strict_json(data: bytes) -> Any:
    """JSON as a strict consumer reads it: valid UTF-8, and no lone surrogate even as an escape."""
    value = json.loads(data.decode("utf-8", "strict"))
    json.dumps(value, ensure_ascii=False).encode("utf-8", "strict")  # UnicodeEncodeError (a ValueError) if any
    return value


def processes_under(root: Path, wait: float = 0.0) -> list[str]:
    """Live processes that belong to a grading run in ``root``: the sandbox's worker and its children.

    They are recognised by their working directory or their HOME (the worker gets HOME set to its
    scratch folder, and its children inherit it), both inside ``root``; other graders running on the
    machine at the same time are not mistaken for ours.  Processes killed a moment ago may still be on
    their way out: look again for up to ``wait`` seconds.
    """
    prefix = str(root)
    deadline = time.monotonic() + wait
    while True:
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
                environment = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
                command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            home = next((item[5:].decode(errors="replace") for item in environment if item.startswith(b"HOME=")), "")
            if (cwd.startswith(prefix) or home.startswith(prefix)) and state != "Z":
                found.append(f"pid {entry} ({state}) in {cwd}: {command.strip()}")
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


# --------------------------------------------------------------------------- reading results.json


def schema_problems(results: Any, assignment: Assignment) -> list[str]:
    """Ways ``results`` departs from Gradescope's results.json contract (empty when it follows it)."""
    problems = []
    if not isinstance(results, dict):
        return [f"results.json holds a {type(results).__name__}, not an object"]
    for key, kinds in (("score", (int, float)), ("execution_time", (int, float)), ("output", str), ("tests", list)):
        if not isinstance(results.get(key), kinds) or isinstance(results.get(key), bool):
            problems.append(f"top-level {key!r} is {results.get(key)!r:.80}")
    if problems:
        return problems
    if results.get("output_format", "text") not in OUTPUT_FORMATS:
        problems.append(f"output_format {results['output_format']!r}")
    names = {exercise.name for exercise in assignment.exercises}
    for number, test in enumerate(results["tests"]):
        where = f"tests[{number}]"
        if not isinstance(test, dict):
            problems.append(f"{where} is not an object")
            continue
        for key, kinds in (("name", str), ("score", (int, float)), ("max_score", (int, float)), ("output", str)):
            if not isinstance(test.get(key), kinds) or isinstance(test.get(key), bool):
                problems.append(f"{where}.{key} is {test.get(key)!r:.80}")
        if test.get("status") not in TEST_STATUSES:
            problems.append(f"{where}.status is {test.get('status')!r}")
        if test.get("visibility") not in VISIBILITIES:
            problems.append(f"{where}.visibility is {test.get('visibility')!r}")
        if test.get("output_format", "text") not in OUTPUT_FORMATS:
            problems.append(f"{where}.output_format is {test.get('output_format')!r}")
        exercise = exercise_of(test)
        if exercise not in names or exercise not in str(test.get("name")):
            problems.append(f"{where} names no graded function: {test.get('name')!r} tags {test.get('tags')!r}")
        elif not 0 <= test["score"] <= test["max_score"] + 1e-9:
            problems.append(f"{where} scores {test['score']} of {test['max_score']}")
        if (test.get("status") == "passed") != (test.get("score") == test.get("max_score")):
            problems.append(f"{where} status {test.get('status')!r} but score {test.get('score')} of "
                            f"{test.get('max_score')}")
    total = sum(test.get("max_score", 0) for test in results["tests"] if isinstance(test, dict))
    if abs(total - assignment.total_points) > 0.01:  # exactly: see test_max_scores_add_up_exactly_...
        problems.append(f"the tests' max_score add up to {total}, not {assignment.total_points}")
    scored = sum(test.get("score", 0) for test in results["tests"] if isinstance(test, dict))
    if abs(scored - results["score"]) > 1e-3:
        problems.append(f"top-level score {results['score']} but the tests add up to {scored}")
    return problems


def exercise_of(test: dict) -> str | None:
    tags = test.get("tags")
    return tags[0] if isinstance(tags, list) and tags and isinstance(tags[0], str) else None


def per_exercise(results: dict) -> dict[str, tuple[float, float, str]]:
    """Score, points and all feedback of each exercise, from the tests entries."""
    score: dict[str, float] = defaultdict(float)
    points: dict[str, float] = defaultdict(float)
    feedback: dict[str, list[str]] = defaultdict(list)
    for test in results.get("tests", []):
        name = exercise_of(test)
        score[name] += test["score"]
        points[name] += test["max_score"]
        feedback[name].append(str(test.get("output", "")))
    return {name: (score[name], points[name], "\n".join(feedback[name])) for name in points}


def outcome_problem(expect: Expect, score: float, points: float, feedback: str) -> str | None:
    """Why an exercise's grade does not meet ``expect`` (None when it does)."""
    tolerance = 1e-3
    if expect.outcome is Outcome.FULL and abs(score - points) > tolerance:
        return f"expected full points, got {score:g} of {points:g}"
    if expect.outcome is Outcome.ZERO and score > tolerance:
        return f"expected zero, got {score:g} of {points:g}"
    if expect.outcome is Outcome.LESS and score > points - tolerance:
        return f"expected less than full points, got {score:g} of {points:g}"
    if expect.message and not re.search(expect.message, feedback):
        return f"feedback does not match {expect.message!r}"
    return None
