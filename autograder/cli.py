"""Command line: ``python -m autograder {release,grade,demo}`` (also installed as ``optkit``).

Exit codes: 0 the command did its job (a graded submission exits 0 whatever its
score); 1 the tool itself could not do its job (broken kit, nbgrader failure,
release out of date with ``--check``); 2 wrong usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILURE = 0, 1  # wrong usage exits 2, as argparse does


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return args.command(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    release = commands.add_parser("release", help="regenerate release/ from the master notebook with nbgrader")
    release.add_argument("--check", action="store_true",
                         help="only report whether the committed release matches a fresh regeneration")
    release.set_defaults(command=_release)

    grade = commands.add_parser("grade", help="grade one submitted notebook")
    grade.add_argument("submission", type=Path, help="the student's .ipynb file")
    grade.add_argument("--results", type=Path, help="write Gradescope's results.json here (atomically)")
    _add_limits(grade)
    _add_isolation(grade)
    grade.add_argument("--quiet", action="store_true", help="print the score table only, no feedback")
    grade.set_defaults(command=_grade)

    demo = commands.add_parser("demo", help="regenerate the release and grade sample submissions end to end")
    demo.add_argument("--output", type=Path, default=Path("demo-output"), help="folder for samples and results")
    _add_limits(demo, timeout=2.0)
    _add_isolation(demo)
    demo.set_defaults(command=_demo)
    return parser


def _add_limits(parser: argparse.ArgumentParser, timeout: float = 5.0) -> None:
    parser.add_argument("--timeout", type=float, default=timeout, help="seconds per exercise (default %(default)s)")
    parser.add_argument("--memory-mb", type=int, default=256, help="memory per exercise (default %(default)s MB)")


def _add_isolation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-isolation", dest="isolation", action="store_false",
                        help="run student code even where the kernel cannot confine it (resource limits only; "
                             "every result then says NOT ISOLATED; see SECURITY.md)")


def _release(args: argparse.Namespace) -> int:
    from autograder.release import ReleaseError, check_release, generate_release

    try:
        if args.check:
            differences = check_release()
            for line in differences:
                print(f"  {line}")
            print("release is up to date" if not differences else
                  "release/ is out of date: run `python -m autograder release`")
            return EXIT_FAILURE if differences else EXIT_OK
        print(f"release regenerated in {generate_release()}")
        return EXIT_OK
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _grade(args: argparse.Namespace) -> int:
    from autograder.grade import grade_submission
    from autograder.reports.console import feedback_text, summary_table
    from autograder.reports.gradescope import grader_failure_json, results_json, write_json_atomically
    from autograder.sandbox.runner import IsolationUnavailable, Limits

    try:
        report = grade_submission(args.submission, limits=Limits(timeout=args.timeout, memory_mb=args.memory_mb),
                                  isolation=args.isolation)
    except IsolationUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        if args.results:
            write_json_atomically(args.results, grader_failure_json(str(error)))
        return EXIT_FAILURE
    except Exception as error:  # noqa: BLE001 - the grader failed: say so, in results.json too
        print(f"error: the grader could not run: {type(error).__name__}: {error}", file=sys.stderr)
        if args.results:
            write_json_atomically(args.results, grader_failure_json(f"{type(error).__name__}: {error}"))
        return EXIT_FAILURE
    if args.results:
        write_json_atomically(args.results, results_json(report))
    print(summary_table(report), end="")
    if not args.quiet:
        feedback = feedback_text(report)
        print("\n" + feedback if feedback else "", end="")
    for problem in report.internal_errors:
        print(f"warning: grader problem while checking: {problem}", file=sys.stderr)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from autograder.demo import run_demo
    from autograder.release import ReleaseError
    from autograder.sandbox.runner import IsolationUnavailable

    try:
        run_demo(args.output, timeout=args.timeout, isolation=args.isolation)
    except (ReleaseError, IsolationUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


