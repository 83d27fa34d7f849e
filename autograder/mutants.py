"""Misconceptions, measured: grade every mutant of an assignment's catalogue through the real grader.

The catalogue is ``mutants.py`` in the assignment's hidden-tests folder
(instructor-only, like the hidden tests): ``WRONG`` (wrong implementations by
exercise), ``NAMED`` (optional: the misconception each should be named with),
``CORRECT_VARIANTS`` (optional: right answers written unlike the reference)
and ``DEMO_MISTAKES`` (optional: the wrong implementations the demo shows).
Each mutant is graded as a student would submit it -- the release
with every exercise solved by the reference except the mutant's, which holds
the wrong function -- by one :class:`~autograder.grade.Grader`, as a batch
grades a class.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import tempfile
import types
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.course import AssignmentFiles, CourseError, default_files
from autograder.grade import DEFAULT_LIMITS, Grader
from autograder.notebook.assignment import load_assignment
from autograder.reports.model import ExerciseResult, GradeReport
from autograder.samples import build_submission, complete_solutions, write_notebook
from autograder.sandbox.runner import Limits

MARKER = "# GRADED FUNCTION: {}\n\n"
Progress = Callable[[int, int, str], None]


class CatalogueError(ValueError):
    """The catalogue could not be loaded or does not have the catalogue's form (the instructor's file)."""


@dataclass(frozen=True)
class Mutant:
    """One wrong implementation of one exercise, and the misconception its feedback should name."""

    name: str
    exercise: str
    cell: str  # the graded cell's source
    expected: str | None  # a fragment of the misconception's description, if it is a known one


@dataclass(frozen=True)
class MutantResult:
    """How the grader judged a mutant (or a correct variant: ``mutant.exercise`` is then ``"*"``)."""

    mutant: Mutant
    score: float  # on the mutant's own exercise (a correct variant: the total)
    points: float
    collateral: tuple[str, ...]  # other exercises that lost points
    named: str | None  # the misconception the feedback named most often, if any
    collateral_reason: str = ""  # the first of them: why (its problem or its first failed case's feedback)

    @property
    def killed(self) -> bool:
        return self.score < self.points - 1e-9

    @property
    def named_right(self) -> bool:
        return bool(self.mutant.expected and self.named and self.mutant.expected in self.named)


def load_catalogue(path: Path | None = None, exercises: tuple[str, ...] | None = None) -> types.ModuleType:
    """The catalogue module at ``path`` (default: the kit's own assignment's), checked against the assignment's
    ``exercises`` when given.

    Raises :class:`~autograder.course.CourseError` when there is none, :class:`CatalogueError` when it cannot be
    loaded or is not a catalogue."""
    path = Path(path if path is not None else default_files().mutant_catalogue)
    if not path.is_file():
        raise CourseError(f"no mutant catalogue at {path} (WRONG, NAMED, CORRECT_VARIANTS: "
                          "see docs/instructor-guide.md)")
    name = f"_optkit_mutants_{abs(hash(str(path.resolve())))}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise CatalogueError(f"{path} is not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # inspect.getsource finds the functions' file through it
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # the instructor's file: say what broke, where
            del sys.modules[name]
            raise CatalogueError(f"{path} could not be loaded: {type(error).__name__}: {error}") from error
        vars(module).setdefault("NAMED", {})  # both optional
        vars(module).setdefault("CORRECT_VARIANTS", ())
    catalogue = sys.modules[name]
    problem = catalogue_problem(catalogue, exercises)
    if problem:
        del sys.modules[name]  # loaded afresh once corrected
        raise CatalogueError(f"{path}: {problem}")
    return catalogue


def catalogue_problem(catalogue: types.ModuleType, exercises: tuple[str, ...] | None = None) -> str | None:
    """What makes ``catalogue`` not a catalogue of an assignment with these ``exercises``, or None."""
    wrong = getattr(catalogue, "WRONG", None)
    if not isinstance(wrong, dict) or not all(isinstance(v, list | tuple) for v in wrong.values()):
        return "WRONG must be a dict: graded function name -> list of wrong implementations"
    functions = {f.__name__ for wrongs in wrong.values() for f in wrongs if isinstance(f, types.FunctionType)}
    if len(functions) != sum(len(wrongs) for wrongs in wrong.values()):
        return "every entry of WRONG must be a function defined in the catalogue, each listed once"
    named, variants = catalogue.NAMED, catalogue.CORRECT_VARIANTS
    if not isinstance(named, dict) or not all(isinstance(v, str) for v in named.values()):
        return "NAMED must be a dict: wrong implementation's name -> fragment of a misconception's description"
    if unknown := sorted(set(named) - functions):
        return f"NAMED lists {', '.join(unknown)}, which WRONG does not"
    if unknown := sorted(set(getattr(catalogue, "DEMO_MISTAKES", ())) - functions):
        return f"DEMO_MISTAKES lists {', '.join(unknown)}, which WRONG does not"
    if not all(isinstance(v, dict) and all(isinstance(s, str) for s in v.values()) for v in variants):
        return "CORRECT_VARIANTS must be a sequence of dicts: graded function name -> source"
    if exercises is not None:
        mentioned = set(wrong).union(*(variant.keys() for variant in variants))
        if unknown := sorted(mentioned - set(exercises)):
            return f"{', '.join(unknown)} is not a graded function of the assignment ({', '.join(exercises)})"
    return None


def mutants_of(catalogue: types.ModuleType) -> list[Mutant]:
    """Every wrong implementation of the catalogue, in notebook order."""
    return [Mutant(wrong.__name__, exercise, wrong_cell(exercise, wrong, catalogue),
                   catalogue.NAMED.get(wrong.__name__))
            for exercise, wrongs in catalogue.WRONG.items() for wrong in wrongs]


def wrong_cell(exercise: str, wrong: types.FunctionType, catalogue: types.ModuleType) -> str:
    """A graded cell defining ``exercise`` as ``wrong``, after the catalogue's helpers it calls."""
    source = re.sub(rf"^def {wrong.__name__}\(", f"def {exercise}(", inspect.getsource(wrong), count=1, flags=re.M)
    helpers = _helpers(wrong, catalogue, {})
    helpers.pop(wrong.__name__, None)
    return MARKER.format(exercise) + "\n\n".join([*helpers.values(), source])


def _helpers(function: types.FunctionType, catalogue: types.ModuleType, found: dict[str, str]) -> dict[str, str]:
    for name in _names_used(function.__code__):
        helper = getattr(catalogue, name, None)
        if isinstance(helper, types.FunctionType) and name not in found:
            found[name] = inspect.getsource(helper)
            _helpers(helper, catalogue, found)
    return found


def _names_used(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _names_used(constant)


def correct_variants(catalogue: types.ModuleType) -> list[Mutant]:
    """Each correct variant notebook as a pseudo-mutant replacing every exercise."""
    return [Mutant(f"correct-variant-{k}", "*", "", None) for k in range(1, len(catalogue.CORRECT_VARIANTS) + 1)]


def run_mutants(files: AssignmentFiles, catalogue: types.ModuleType, limits: Limits = DEFAULT_LIMITS,
                progress: Progress | None = None, isolation: bool = True) -> list[MutantResult]:
    """Grade every mutant, then every correct variant, each in a notebook of its own built from the assignment's
    release (``isolation=False``: the --no-isolation opt-out)."""
    jobs: list[tuple[Mutant, dict[str, str]]] = [(m, {m.exercise: m.cell}) for m in mutants_of(catalogue)]
    for variant, cells in zip(correct_variants(catalogue), catalogue.CORRECT_VARIANTS, strict=True):
        jobs.append((variant, {name: MARKER.format(name) + source.lstrip() for name, source in cells.items()}))
    assignment = load_assignment(files.master)
    solutions = complete_solutions(assignment)
    results = []
    with tempfile.TemporaryDirectory(prefix="optkit-mutants-") as folder, \
            Grader(assignment, limits, isolation=isolation, files=files) as grader:
        for done, (mutant, cells) in enumerate(jobs):
            if progress:
                progress(done, len(jobs), mutant.name)
            notebook = build_submission({**solutions, **cells}, files.release_notebook)
            path = write_notebook(notebook, Path(folder) / f"{mutant.name}.ipynb")
            results.append(_judge(mutant, grader.grade(path)))
    if progress:
        progress(len(jobs), len(jobs), "")
    return results


def _judge(mutant: Mutant, report: GradeReport) -> MutantResult:
    own = [e for e in report.exercises if e.name == mutant.exercise] or report.exercises
    others = [e for e in report.exercises if e not in own]
    collateral = [e for e in others if e.score < e.points - 1e-9]
    reason = ""
    if collateral:
        failed = [case.feedback for case in collateral[0].cases if not case.passed]
        reason = " ".join((collateral[0].problem or (failed[0] if failed else "")).split())[:200]
    return MutantResult(mutant, sum(e.score for e in own), sum(e.points for e in own),
                        tuple(e.name for e in collateral), _named(own), reason)


def _named(exercises: list[ExerciseResult]) -> str | None:
    names = Counter(case.misconception for e in exercises for case in e.cases if case.misconception)
    return names.most_common(1)[0][0] if names else None


def mutants_table(results: list[MutantResult]) -> str:
    """The table the command prints, then a summary of the three measures."""
    width = max(len(r.mutant.name) for r in results)
    exercise_width = max(len(r.mutant.exercise) for r in results)
    lines = [f"{'mutant':<{width}}  {'exercise':<{exercise_width}}  {'score':>13}  {'verdict':<8}  "
             f"{'named':<5}  misconception named",
             f"{'-' * width}  {'-' * exercise_width}  {'-' * 13}  {'-' * 8}  {'-' * 5}  {'-' * 19}"]
    for r in results:
        is_variant = r.mutant.exercise == "*"
        verdict = ("full" if not r.killed else "LOST") if is_variant else ("killed" if r.killed else "SURVIVED")
        right = "-" if is_variant or not r.mutant.expected else ("yes" if r.named_right else "NO")
        named = r.named or "-"
        if r.collateral:
            named += f"  [also lost points: {', '.join(r.collateral)}: {r.collateral_reason}]"
        lines.append(f"{r.mutant.name:<{width}}  {r.mutant.exercise:<{exercise_width}}  "
                     f"{f'{r.score:.2f} / {r.points:g}':>13}  {verdict:<8}  {right:<5}  {named}")
    return "\n".join(lines) + "\n\n" + summary(results) + "\n"


def summary(results: list[MutantResult]) -> str:
    """The three measures in one sentence."""
    mutants = [r for r in results if r.mutant.exercise != "*"]
    variants = [r for r in results if r.mutant.exercise == "*"]
    killed = sum(r.killed and not r.collateral for r in mutants)
    named = sum(r.named_right for r in mutants)
    clean = sum(not r.killed and r.named is None for r in variants)
    return (f"{killed} of {len(mutants)} mutants lose points on their own exercise only; "
            f"{named} of {len(mutants)} ({100 * named / max(len(mutants), 1):.0f}%) are named with the right "
            f"misconception; {clean} of {len(variants)} correct variants score full marks with no misconception named")


def all_caught(results: list[MutantResult]) -> bool:
    """Whether every mutant loses points on its own exercise only and every correct variant gets full marks."""
    return all((r.killed and not r.collateral) if r.mutant.exercise != "*" else not r.killed for r in results)
