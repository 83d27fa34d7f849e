"""Misconceptions, measured: grade every mutant of the assignment's catalogue through the real grader.

The catalogue is ``mutants.py`` in the hidden-tests folder (instructor-only,
like the hidden tests): wrong implementations, the misconception each should be
named with, and correct variants.  Each mutant is graded as a student would
submit it -- the release with every exercise solved by the reference except the
mutant's, which holds the wrong function -- by one :class:`~autograder.grade.Grader`,
as a batch grades a class.
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

from autograder.grade import DEFAULT_LIMITS, Grader
from autograder.notebook.assignment import Assignment
from autograder.paths import HIDDEN_TESTS_DIR
from autograder.reports.model import ExerciseResult, GradeReport
from autograder.samples import build_submission, complete_solutions, write_notebook
from autograder.sandbox.runner import Limits

CATALOGUE_FILE = "mutants.py"
MARKER = "# GRADED FUNCTION: {}\n\n"
Progress = Callable[[int, int, str], None]


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


def load_catalogue(tests_dir: Path | None = None) -> types.ModuleType:
    """The catalogue module of a hidden-tests folder (default: the kit's own assignment's):
    ``WRONG``, ``NAMED``, ``CORRECT_VARIANTS``."""
    path = Path(tests_dir if tests_dir is not None else HIDDEN_TESTS_DIR) / CATALOGUE_FILE
    name = f"_optkit_mutants_{abs(hash(str(path.resolve())))}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise FileNotFoundError(f"no mutant catalogue at {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # inspect.getsource finds the functions' file through it
        spec.loader.exec_module(module)
    return sys.modules[name]


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


def run_mutants(assignment: Assignment, catalogue: types.ModuleType, limits: Limits = DEFAULT_LIMITS,
                progress: Progress | None = None) -> list[MutantResult]:
    """Grade every mutant, then every correct variant, each in a notebook of its own."""
    jobs: list[tuple[Mutant, dict[str, str]]] = [(m, {m.exercise: m.cell}) for m in mutants_of(catalogue)]
    for variant, cells in zip(correct_variants(catalogue), catalogue.CORRECT_VARIANTS, strict=True):
        jobs.append((variant, {name: MARKER.format(name) + source.lstrip() for name, source in cells.items()}))
    solutions = complete_solutions(assignment)
    results = []
    with tempfile.TemporaryDirectory(prefix="optkit-mutants-") as folder, Grader(assignment, limits) as grader:
        for done, (mutant, cells) in enumerate(jobs):
            if progress:
                progress(done, len(jobs), mutant.name)
            path = write_notebook(build_submission({**solutions, **cells}), Path(folder) / f"{mutant.name}.ipynb")
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
        verdict = ("100" if not r.killed else "LOST") if is_variant else ("killed" if r.killed else "SURVIVED")
        right = "-" if is_variant or not r.mutant.expected else ("yes" if r.named_right else "NO")
        named = r.named or "-"
        if r.collateral:
            named += f"  [also lost points: {', '.join(r.collateral)}: {r.collateral_reason}]"
        lines.append(f"{r.mutant.name:<{width}}  {r.mutant.exercise:<{exercise_width}}  "
                     f"{f'{r.score:.2f} / {r.points:g}':>13}  {verdict:<8}  {right:<5}  {named}")
    return "\n".join(lines) + "\n\n" + summary(results) + "\n"


def summary(results: list[MutantResult]) -> str:
    mutants = [r for r in results if r.mutant.exercise != "*"]
    variants = [r for r in results if r.mutant.exercise == "*"]
    killed = sum(r.killed and not r.collateral for r in mutants)
    named = sum(r.named_right for r in mutants)
    clean = sum(not r.killed and r.named is None for r in variants)
    return (f"{killed} of {len(mutants)} mutants lose points on their own exercise only; "
            f"{named} of {len(mutants)} ({100 * named / max(len(mutants), 1):.0f}%) are named with the right "
            f"misconception; {clean} of {len(variants)} correct variants score 100 with no misconception named")
