"""``grade-all``'s command-line handler: options in, exit code out (0 done, 1 tool failure, 2 usage)."""

from __future__ import annotations

import argparse
import sys

from autograder.batch.run import BatchOptions, UsageError, run_batch
from autograder.batch.settings import GraderSettings
from autograder.course import resolve
from autograder.sandbox.runner import Limits

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def grade_all(args: argparse.Namespace) -> int:
    from autograder.batch.cluster import ClusterError
    from autograder.batch.gradebook import GradebookError
    from autograder.settings import SettingsError, load_settings

    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        feedback = load_settings(args.settings)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    files = resolve(args.assignment, args.course)  # CourseError: exit 2 (autograder.cli.main)
    chosen = files if args.assignment or args.course else None  # None: each worker finds the kit's own
    # One child at a time per submission: the batch's parallelism is its workers, which share the CPU.
    limits = Limits(timeout=args.timeout, memory_mb=args.memory_mb, parallel=1,
                    exercises_per_child=0 if args.child_per_submission else 1)
    settings = GraderSettings(limits, args.hidden_tests,
                              isolation=args.isolation, files=chosen)
    if args.isolation and not args.scheduler and (refusal := _isolation_refusal(settings.limits)):
        print(f"error: {refusal}", file=sys.stderr)  # fail closed before any student code is read
        return EXIT_FAILURE
    options = BatchOptions(args.path, args.jobs, args.csv, args.gradebook, args.scheduler, args.force,
                           tuple(args.students), settings, assignment_name=files.name, feedback=feedback)
    try:
        return run_batch(options).exit_code
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (GradebookError, ClusterError, OSError) as error:  # OSError: e.g. PATH's ledger cannot be written
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _isolation_refusal(limits: Limits) -> str | None:
    """Why student code cannot be confined on this machine, or None when it can (Dask workers check their own)."""
    from autograder.sandbox.runner import IsolationUnavailable, Sandbox

    with Sandbox(limits) as sandbox:
        try:
            sandbox.require_isolation()
        except IsolationUnavailable as error:
            return str(error)
    return None
