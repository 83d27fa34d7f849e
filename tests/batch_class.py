"""A small class of submissions for the grade-all tests, and running the real CLI on it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.notebook.assignment import Assignment
from autograder.paths import RELEASE_NOTEBOOK
from autograder.samples import build_submission, complete_solutions

TIMEOUT = "1.5"  # seconds per exercise: the endless loop costs this much, once


def mixed_notebooks(assignment: Assignment) -> dict[str, bytes]:
    """Student id -> notebook bytes: complete, partly wrong, untouched release, broken JSON, endless loop."""
    solved = complete_solutions(assignment)
    complete = nbformat.writes(build_submission(solved)).encode()
    partly_wrong = {**solved,
                    "update_lr": "def update_lr(learning_rate0, epoch_num, decay_rate):\n"
                                 "    return learning_rate0 * (1 + decay_rate * epoch_num)\n",
                    "initialize_velocity": "def initialize_velocity(parameters):\n    return {}\n"}
    endless = {**solved, "update_parameters_with_gd": "def update_parameters_with_gd(parameters, grads, "
                                                      "learning_rate):\n    while True:\n        pass\n"}
    return {
        "ada_complete": complete,
        "ben_partly_wrong": nbformat.writes(build_submission(partly_wrong)).encode(),
        "cleo_untouched": RELEASE_NOTEBOOK.read_bytes(),
        "dan_broken_json": complete[: len(complete) // 2],
        "eve_endless_loop": nbformat.writes(build_submission(endless)).encode(),
    }


def write_folder(folder: Path, notebooks: dict[str, bytes]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for student, data in notebooks.items():
        paths[student] = folder / f"{student}.ipynb"
        paths[student].write_bytes(data)
    return paths


def write_course(root: Path, notebooks: dict[str, bytes], assignment_name: str = "optimization_methods") -> Path:
    """An nbgrader course root with ``submitted/<student>/<assignment>/<notebook>`` and its config."""
    (root / "source" / assignment_name).mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\n")
    for student, data in notebooks.items():
        folder = root / "submitted" / student / assignment_name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RELEASE_NOTEBOOK.name).write_bytes(data)
    return root


def autograder(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, check=False)


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return {row["student"]: row for row in csv.DictReader(stream)}


def ledger_lines(folder: Path) -> list[dict]:
    """The ledger's complete lines (a line cut short by a kill is skipped)."""
    path = folder / ".optkit" / "optimization_methods.jsonl"
    lines = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines
