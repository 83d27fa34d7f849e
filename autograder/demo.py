"""The kit end to end: regenerate the release with nbgrader, then grade sample submissions.

The samples show what the grader does with what students really hand in: a
complete solution, the untouched release, typical mistakes, an endless loop
and a hostile exercise next to correct ones, and a file that is not a notebook.
"""

from __future__ import annotations

import time
from pathlib import Path

from autograder.grade import grade_submission
from autograder.notebook.assignment import Assignment, load_assignment
from autograder.release import generate_release
from autograder.reports.console import feedback_text, summary_table
from autograder.reports.gradescope import results_json, write_json_atomically
from autograder.samples import build_submission, complete_solutions, write_notebook

HOSTILE_UPDATE_LR = '''# GRADED FUNCTION: update_lr
import os

def update_lr(learning_rate0, epoch_num, decay_rate):
    print("All tests passed!")
    with open("/tmp/results.json", "w") as stream:   # try to overwrite the grader's results
        stream.write('{"score": 100}')
    os._exit(0)
'''
ENDLESS_SCHEDULE = '''# GRADED FUNCTION: schedule_lr_decay

def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    learning_rate = learning_rate0
    while epoch_num > 0:   # forgets to decrease epoch_num
        learning_rate = learning_rate0 / (1 + decay_rate)
    return learning_rate
'''


def typical_mistakes(assignment: Assignment) -> dict[str, str]:
    """Complete, except for two classic slips: no bias correction in Adam, and the last mini-batch dropped."""
    answers = complete_solutions(assignment)
    adam = _must_replace(answers["update_parameters_with_adam"], " / (1 - beta1 ** t)", "")
    answers["update_parameters_with_adam"] = _must_replace(adam, " / (1 - beta2 ** t)", "")
    answers["random_mini_batches"] = _must_replace(
        answers["random_mini_batches"], "if m % mini_batch_size != 0:", "if False:")
    return answers


def write_samples(folder: Path, assignment: Assignment) -> dict[str, Path]:
    """Write the demo's sample submissions into ``folder``."""
    complete = complete_solutions(assignment)
    samples = {
        "complete": build_submission(complete),
        "untouched-release": build_submission({}),
        "typical-mistakes": build_submission(typical_mistakes(assignment)),
        "hostile-and-endless": build_submission(
            {**complete, "update_lr": HOSTILE_UPDATE_LR, "schedule_lr_decay": ENDLESS_SCHEDULE}),
    }
    paths = {name: write_notebook(notebook, folder / f"{name}.ipynb") for name, notebook in samples.items()}
    paths["truncated-file"] = folder / "truncated-file.ipynb"
    paths["truncated-file"].write_text(paths["complete"].read_text()[:1000])
    return paths


def run_demo(folder: Path, timeout: float, isolation: bool = True) -> None:
    """Regenerate the release, grade every sample, print their tables and write their results.json."""
    from autograder.sandbox.runner import Limits

    started = time.perf_counter()
    print("1. Regenerating the student release with nbgrader ...", flush=True)
    release = generate_release()
    print(f"   release written to {release} ({time.perf_counter() - started:.1f} s)\n")
    assignment = load_assignment()
    samples = write_samples(folder / "submissions", assignment)
    print(f"2. Grading {len(samples)} sample submissions (written to {folder / 'submissions'})\n")
    rows = []
    for name, path in samples.items():
        report = grade_submission(path, assignment=assignment, limits=Limits(timeout=timeout),
                                  isolation=isolation)
        write_json_atomically(folder / "results" / f"{name}.json", results_json(report))
        print(f"== {name} ==\n{summary_table(report)}")
        if name != "untouched-release":
            print(feedback_text(report))
        rows.append((name, report.score, report.max_score, report.seconds))
    print("3. Summary (Gradescope results.json files in " + str(folder / "results") + ")\n")
    print(f"{'submission':<22} {'score':>14} {'time':>7}")
    for name, score, max_score, seconds in rows:
        print(f"{name:<22} {score:>7.2f} / {max_score:g} {seconds:>6.2f}s")


def _must_replace(source: str, old: str, new: str) -> str:
    if old not in source:
        raise ValueError(f"sample mistake not applicable: {old!r} is not in the reference solution")
    return source.replace(old, new)
