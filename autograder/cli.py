"""Command line of the autograded assignment kit: python -m autograder COMMAND (also installed as optkit).

exit codes:
  0  the command did its job (a graded submission exits 0 whatever its score)
  1  the tool itself could not do its job (broken kit, nbgrader failure); with --check: the release is out of
     date (release), a mutant survives or a correct variant loses points (mutants)
  2  wrong usage (unknown option, a submission path that does not exist, an unknown assignment or course,
     a limit outside its bounds: --timeout 0.1 to 600 seconds, --memory-mb 64 to 16384)
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

from autograder import __version__
from autograder.course import AssignmentFiles, CourseError, resolve

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2  # wrong usage exits 2, as argparse does
TIMEOUT_SECONDS = (0.1, 600.0)
MEMORY_MB = (64, 16384)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # whatever the terminal's encoding, printing never fails
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return args.command(args)
    except CourseError as error:  # no such course or assignment: the instructor's usage error
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n")[1], formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    release = _command(commands, "release", "regenerate release/NAME/ from the master notebook with nbgrader")
    release.add_argument("--check", action="store_true",
                         help="only report whether the committed release matches a fresh regeneration")
    _add_assignment(release)
    release.set_defaults(command=_release)

    grade = _command(commands, "grade", "grade one submitted notebook")
    grade.add_argument("submission", type=Path, help="the student's .ipynb file")
    grade.add_argument("--results", type=Path, help="write Gradescope's results.json here (atomically)")
    _add_limits(grade)
    _add_isolation(grade)
    grade.add_argument("--quiet", action="store_true", help="print the score table only, no feedback")
    grade.add_argument("--feedback", type=Path, metavar="ROOT",
                       help="write the student's page to ROOT/feedback/STUDENT/ASSIGNMENT/feedback.html")
    grade.add_argument("--student", help="the student's id for --feedback (default: the file name without .ipynb)")
    _add_settings(grade)
    _add_assignment(grade)
    grade.set_defaults(command=_grade)

    _add_grade_all(commands)

    mutants = _command(commands, "mutants", "grade every catalogued wrong implementation and correct variant; "
                                            "print which lose points and which misconception is named")
    mutants.add_argument("--check", action="store_true",
                         help="exit 1 unless every mutant loses points on its own exercise only and every correct "
                              "variant gets full marks")
    _add_limits(mutants)
    _add_isolation(mutants)
    _add_assignment(mutants)
    mutants.set_defaults(command=_mutants)

    gradescope = _command(commands, "gradescope", "build the Gradescope autograder package (a zip to upload)")
    gradescope.add_argument("--out", type=Path, default=Path("autograder.zip"),
                            help="where to write the zip (default %(default)s)")
    _add_settings(gradescope)
    _add_assignment(gradescope)
    gradescope.set_defaults(command=_gradescope)

    demo = _command(commands, "demo", "generate the release into the output folder and grade sample submissions "
                                      "built from it, end to end")
    demo.add_argument("--output", type=Path, default=Path("demo-output"), help="folder for samples and results")
    _add_limits(demo, timeout=2.0)
    _add_isolation(demo)
    _add_assignment(demo)
    demo.set_defaults(command=_demo)
    return parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the exit-code table's line breaks."""


def _command(commands: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=text, description=text, epilog=__doc__.split("\n\n")[1],
                               formatter_class=_Formatter)


def _add_assignment(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", metavar="NAME",
                        help="the assignment (a folder of the course's source/; default: the only one there)")
    parser.add_argument("--course", type=Path, metavar="DIR",
                        help="the course folder holding source/, utils/, hidden_tests/, release/ "
                             "(default: $OPTKIT_COURSE, else the course installed with the kit)")


def _assignment_files(args: argparse.Namespace) -> AssignmentFiles:
    """The assignment named on the command line; CourseError (a usage error) if there is none such."""
    return resolve(args.assignment, args.course)


def _add_limits(parser: argparse.ArgumentParser, timeout: float = 5.0) -> None:
    parser.add_argument("--timeout", type=_bounded(float, *TIMEOUT_SECONDS), default=timeout,
                        help="seconds per exercise, {:g} to {:g} (default %(default)s)".format(*TIMEOUT_SECONDS))
    parser.add_argument("--memory-mb", type=_bounded(int, *MEMORY_MB), default=256,
                        help="memory per exercise in MB, {} to {} (default %(default)s)".format(*MEMORY_MB))


def _bounded(kind: type, low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number of ``kind`` from ``low`` to ``high`` (not NaN, not infinite)."""

    def parse(text: str) -> float:
        value = kind(text)  # ValueError: argparse says "invalid float value"
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text} is not between {low:g} and {high:g}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _add_grade_all(commands) -> None:
    batch = _command(commands, "grade-all", "grade every submission of a class, in parallel and resumably")
    batch.add_argument("path", type=Path, metavar="PATH",
                       help="an nbgrader course root (submitted/<student>/<assignment>/) or a folder of .ipynb files")
    batch.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                       help="parallel workers on this machine (default: all cores, %(default)s)")
    batch.add_argument("--csv", type=Path, metavar="FILE", help="write one row per student here (atomically)")
    batch.add_argument("--gradebook", nargs="?", const="gradebook.db", metavar="URL",
                       help="write the grades into nbgrader's gradebook: an SQLAlchemy URL or an SQLite file "
                            "(alone: PATH/gradebook.db, a course root's own)")
    batch.add_argument("--scheduler", metavar="ADDRESS", help="grade on this Dask scheduler (tcp://host:port)")
    batch.add_argument("--force", action="store_true", help="regrade everything, even unchanged submissions")
    batch.add_argument("--student", dest="students", nargs="+", action="extend", default=[], metavar="ID",
                       help="grade only these students")
    batch.add_argument("--child-per-submission", action="store_true",
                       help="run a submission's exercises one after another in one confined child instead of a "
                            "fresh child per exercise: about 1.4x the throughput; each exercise still starts from "
                            "a restored state, but a student's code could affect their own later exercises "
                            "(never anyone else's; see SECURITY.md)")
    _add_limits(batch)
    _add_isolation(batch)
    _add_settings(batch)
    batch.add_argument("--hidden-tests", type=Path, help=argparse.SUPPRESS)  # tests: a copy of the hidden tests
    _add_assignment(batch)
    batch.set_defaults(command=_grade_all)


def _add_isolation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-isolation", dest="isolation", action="store_false",
                        help="run student code even where the kernel cannot confine it (resource limits only; "
                             "every result then says NOT ISOLATED; see SECURITY.md)")


def _add_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--settings", type=Path, metavar="FILE",
                        help="what students are told (hints, hidden cases): a TOML file (default: ./optkit.toml "
                             "if it exists, else hints on and every case visible with its label)")


def _release(args: argparse.Namespace) -> int:
    from autograder.release import ReleaseError, check_release, generate_release

    try:
        files = _assignment_files(args)
        folders = (files.source_dir, files.utils_dir, files.release_dir)
        if args.check:
            differences = check_release(*folders)
            for line in differences:
                print(f"  {line}")
            print("release is up to date" if not differences else
                  f"{files.release_dir} is out of date: run `python -m autograder release`")
            return EXIT_FAILURE if differences else EXIT_OK
        print(f"release regenerated in {generate_release(*folders)}")
        return EXIT_OK
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _grade(args: argparse.Namespace) -> int:
    from autograder.grade import grade_submission
    from autograder.reports.console import feedback_text, summary_table
    from autograder.reports.feedback_page import feedback_path, write_feedback_page
    from autograder.reports.gradescope import grader_failure_json, results_json, write_json_atomically
    from autograder.reports.sanitize import CASE_CHARS, capped, clean
    from autograder.sandbox.runner import IsolationUnavailable, Limits
    from autograder.settings import SettingsError, load_settings

    student = args.student or args.submission.stem
    try:
        files = _assignment_files(args)
        if not args.submission.exists():
            raise CourseError(f"{args.submission} does not exist (nothing was graded)")
    except CourseError as error:  # the instructor's mistake, not a student's zero
        print(f"error: {error}", file=sys.stderr)
        if args.results:
            write_json_atomically(args.results, grader_failure_json(str(error)))
        return EXIT_USAGE
    try:
        settings = load_settings(args.settings)
        if args.feedback:
            feedback_path(args.feedback, student, files.name)
    except (SettingsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = grade_submission(args.submission, files=files, isolation=args.isolation,
                                  limits=Limits(timeout=args.timeout, memory_mb=args.memory_mb))
    except IsolationUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        if args.results:
            write_json_atomically(args.results, grader_failure_json(str(error)))
        return EXIT_FAILURE
    except Exception as error:  # noqa: BLE001 - the grader failed: say so, in results.json too
        reason = clean(capped(f"{type(error).__name__}: {error}", CASE_CHARS))
        print(f"error: the grader could not run: {reason}", file=sys.stderr)
        if args.results:
            write_json_atomically(args.results, grader_failure_json(reason))
        return EXIT_FAILURE
    if args.results:
        write_json_atomically(args.results, results_json(report, settings))
    if args.feedback:
        write_feedback_page(report, student, files.name, args.feedback, settings)
    print(summary_table(report), end="")
    if not args.quiet:
        feedback = feedback_text(report)
        print("\n" + feedback if feedback else "", end="")
    for problem in report.internal_errors:
        print(f"warning: grader problem while checking: {clean(problem)}", file=sys.stderr)
    return EXIT_OK


def _grade_all(args: argparse.Namespace) -> int:
    from autograder.batch.cli import grade_all

    return grade_all(args)


def _mutants(args: argparse.Namespace) -> int:
    from autograder.mutants import CatalogueError, all_caught, load_catalogue, mutants_table, run_mutants
    from autograder.notebook.assignment import load_assignment
    from autograder.sandbox.runner import IsolationUnavailable, Limits

    files = _assignment_files(args)
    try:
        catalogue = load_catalogue(files.mutant_catalogue, load_assignment(files.master).names)
        results = run_mutants(files, catalogue, Limits(timeout=args.timeout, memory_mb=args.memory_mb),
                              _progress if sys.stderr.isatty() else None, isolation=args.isolation)
    except (CatalogueError, IsolationUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    print(mutants_table(results), end="")
    return EXIT_FAILURE if args.check and not all_caught(results) else EXIT_OK


def _progress(done: int, total: int, name: str) -> None:
    """A one-line progress bar on the terminal."""
    filled = 30 * done // max(total, 1)
    print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {name:<40.40}", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


def _demo(args: argparse.Namespace) -> int:
    from autograder.demo import run_demo
    from autograder.mutants import CatalogueError
    from autograder.release import ReleaseError
    from autograder.sandbox.runner import IsolationUnavailable

    try:
        run_demo(args.output, timeout=args.timeout, isolation=args.isolation, files=_assignment_files(args))
    except (ReleaseError, IsolationUnavailable, CatalogueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _gradescope(args: argparse.Namespace) -> int:
    from autograder.gradescope.build import BuildError, build_package
    from autograder.settings import SETTINGS_FILE, SettingsError, load_settings

    files = _assignment_files(args)
    try:
        load_settings(args.settings)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    settings = args.settings or (Path(SETTINGS_FILE) if Path(SETTINGS_FILE).is_file() else None)
    try:
        print(f"Gradescope autograder for {files.name} written to {build_package(files, args.out, settings)}")
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK
