"""The kit end to end: generate the release with nbgrader, then grade sample submissions built from it.

The samples show what the grader does with what students really hand in, for
any assignment: a complete solution, the untouched release, typical mistakes
(from the assignment's mutant catalogue, when it has one), a hostile exercise
and an endless loop next to correct ones, and a file that is not a notebook.
"""

from __future__ import annotations

import ast
import contextlib
import time
from pathlib import Path

from autograder.course import AssignmentFiles, CourseError, default_files
from autograder.grade import grade_submission
from autograder.mutants import load_catalogue, wrong_cell
from autograder.notebook.assignment import Assignment, Exercise, load_assignment
from autograder.release import diff_release, generate_release
from autograder.reports.console import feedback_text, summary_table
from autograder.reports.gradescope import results_json, write_json_atomically
from autograder.samples import build_submission, complete_solutions, write_notebook

HOSTILE_BODY = '''
    print("All tests passed!")
    with open("/tmp/results.json", "w") as stream:   # try to overwrite the grader's results
        stream.write('{"score": 100}')
    os._exit(0)
'''
ENDLESS_BODY = '''
    done = False
    while not done:   # forgets to set done
        pass
'''


def hostile_cell(exercise: Exercise) -> str:
    """A graded cell whose function claims success, tries to overwrite the grader's results and exits."""
    return f"# GRADED FUNCTION: {exercise.name}\nimport os\n\n{_def_line(exercise)}{HOSTILE_BODY}"


def endless_cell(exercise: Exercise) -> str:
    """A graded cell whose function never returns."""
    return f"# GRADED FUNCTION: {exercise.name}\n\n{_def_line(exercise)}{ENDLESS_BODY}"


def _def_line(exercise: Exercise) -> str:
    """``def name(parameters):`` as the reference solution declares it."""
    for node in ast.walk(ast.parse(exercise.reference_source)):
        if isinstance(node, ast.FunctionDef) and node.name == exercise.name:
            return f"def {exercise.name}({ast.unparse(node.args)}):"
    raise ValueError(f"the reference solution does not define {exercise.name}")


def typical_mistakes(assignment: Assignment, files: AssignmentFiles | None = None) -> dict[str, str]:
    """Complete, except for the catalogue's ``DEMO_MISTAKES`` (default: the first wrong implementation of its first
    two exercises).  Raises :class:`~autograder.course.CourseError` when the assignment has no mutant catalogue."""
    catalogue = load_catalogue((files or default_files()).mutant_catalogue, assignment.names)
    wrongs = {wrong.__name__: (exercise, wrong) for exercise, listed in catalogue.WRONG.items() for wrong in listed}
    chosen = getattr(catalogue, "DEMO_MISTAKES", None) or [listed[0].__name__ for listed in
                                                           list(catalogue.WRONG.values())[:2] if listed]
    answers = complete_solutions(assignment)
    for name in chosen:
        exercise, wrong = wrongs[name]
        answers[exercise] = wrong_cell(exercise, wrong, catalogue)
    return answers


def write_samples(folder: Path, assignment: Assignment, files: AssignmentFiles | None = None,
                  release: Path | None = None) -> dict[str, Path]:
    """Write the demo's sample submissions into ``folder``, built from the ``release`` notebook (default: the
    assignment's); the hostile and the endless exercise are its last two."""
    release = release or (files or default_files()).release_notebook
    complete = complete_solutions(assignment)
    hostile_and_endless = {**complete, assignment.exercises[-1].name: endless_cell(assignment.exercises[-1])}
    if len(assignment.exercises) > 1:
        hostile_and_endless[assignment.exercises[-2].name] = hostile_cell(assignment.exercises[-2])
    samples = {"complete": complete, "untouched-release": {}}
    with contextlib.suppress(CourseError):  # no mutant catalogue: no typical mistakes to show
        samples["typical-mistakes"] = typical_mistakes(assignment, files)
    samples["hostile-and-endless"] = hostile_and_endless
    paths = {name: write_notebook(build_submission(answers, release), folder / f"{name}.ipynb")
             for name, answers in samples.items()}
    paths["truncated-file"] = folder / "truncated-file.ipynb"
    paths["truncated-file"].write_text(paths["complete"].read_text()[:1000])
    return paths


def run_demo(folder: Path, timeout: float, isolation: bool = True, files: AssignmentFiles | None = None) -> None:
    """Generate the release into ``folder`` (the course's own is left as it is, compared), grade every sample, print
    their tables and write their results.json."""
    from autograder.sandbox.runner import Limits

    files = files or default_files()
    started = time.perf_counter()
    print(f"1. Generating the student release of {files.name} with nbgrader ...", flush=True)
    release = generate_release(files.source_dir, files.utils_dir, folder / "release" / files.name)
    differences = diff_release(release, files.release_dir)
    print(f"   release written to {release} ({time.perf_counter() - started:.1f} s); the course's own "
          + (f"{files.release_dir} is the same" if not differences else
             f"{files.release_dir} differs ({differences[0]}): `python -m autograder release` updates it") + "\n")
    assignment = load_assignment(files.master)
    samples = write_samples(folder / "submissions", assignment, files, release / files.master.name)
    print(f"2. Grading {len(samples)} sample submissions (written to {folder / 'submissions'})\n")
    rows = []
    for name, path in samples.items():
        report = grade_submission(path, assignment=assignment, limits=Limits(timeout=timeout),
                                  isolation=isolation, files=files)
        write_json_atomically(folder / "results" / f"{name}.json", results_json(report))
        print(f"== {name} ==\n{summary_table(report)}")
        if name != "untouched-release":
            print(feedback_text(report))
        rows.append((name, report.score, report.max_score, report.seconds))
    print("3. Summary (Gradescope results.json files in " + str(folder / "results") + ")\n")
    print(f"{'submission':<22} {'score':>14} {'time':>7}")
    for name, score, max_score, seconds in rows:
        print(f"{name:<22} {score:>7.2f} / {max_score:g} {seconds:>6.2f}s")
