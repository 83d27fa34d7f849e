"""``python -m autograder mutants``: every catalogued mistake is caught where it is and named; right answers are not.

The command runs once (real CLI, real grader, one notebook per mutant) and its
table is checked row by row.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import types

import pytest

from autograder.checks.imports import importable
from autograder.course import default_files
from autograder.mutants import all_caught, load_catalogue, mutants_table, run_mutants
from autograder.paths import HIDDEN_TESTS_DIR, UTILS_DIR
from autograder.sandbox.runner import Limits

CATALOGUE = load_catalogue()
ROW = re.compile(r"^(?P<mutant>\S+)\s+(?P<exercise>\S+)\s+(?P<score>[\d.]+) / (?P<points>[\d.]+)\s+"
                 r"(?P<verdict>\S+)\s+(?P<named_right>\S+)\s+(?P<named>.*)$")


@pytest.fixture(scope="module")
def table() -> dict[str, dict[str, str]]:
    run = subprocess.run([sys.executable, "-m", "autograder", "mutants", "--check"], capture_output=True, text=True,
                         timeout=600, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stdout + run.stderr  # --check: every mutant killed, every variant full marks
    rows = {}
    for line in run.stdout.splitlines()[2:]:
        match = ROW.match(line)
        if match:
            rows[match["mutant"]] = match.groupdict()
    return rows


def _mutants():
    return [(exercise, wrong.__name__) for exercise, wrongs in CATALOGUE.WRONG.items() for wrong in wrongs]


def test_the_table_has_every_mutant_and_correct_variant(table):
    names = [name for _, name in _mutants()]
    variants = [f"correct-variant-{k}" for k in range(1, len(CATALOGUE.CORRECT_VARIANTS) + 1)]
    assert sorted(table) == sorted(names + variants)
    assert len(names) >= 40


@pytest.mark.parametrize(("exercise", "mutant"), _mutants())
def test_every_mutant_loses_points_on_its_own_exercise_only(table, exercise, mutant):
    row = table[mutant]
    assert row["exercise"] == exercise
    assert float(row["score"]) < float(row["points"]), row
    assert row["verdict"] == "killed", row
    assert "also lost points" not in row["named"], row


def test_correct_variants_score_100_and_name_no_misconception(table):
    for k in range(1, len(CATALOGUE.CORRECT_VARIANTS) + 1):
        row = table[f"correct-variant-{k}"]
        assert (row["score"], row["points"], row["verdict"], row["named"]) == ("100.00", "100", "full", "-"), row


def test_most_catalogued_mistakes_are_named_right(table):
    named_right = [name for _, name in _mutants() if table[name]["named_right"] == "yes"]
    assert len(named_right) >= 0.8 * len(_mutants()), sorted(set(CATALOGUE.NAMED) - set(named_right))
    for name, fragment in CATALOGUE.NAMED.items():
        assert table[name]["named_right"] == "yes" and fragment in table[name]["named"], table[name]


def test_named_fragments_belong_to_their_exercises_misconceptions():
    """Each expected fragment is part of exactly one misconception of its exercise's hidden test module."""
    descriptions = {}
    for path in HIDDEN_TESTS_DIR.glob("test_*.py"):
        spec = importlib.util.spec_from_file_location(f"mutants_check_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        with importable(HIDDEN_TESTS_DIR, UTILS_DIR):  # the modules beside them and the helpers, as in grading
            spec.loader.exec_module(module)
        descriptions[module.EXERCISE] = [m.description for m in module.MISCONCEPTIONS]
    exercise_of = {name: exercise for exercise, name in _mutants()}
    for name, fragment in CATALOGUE.NAMED.items():
        assert sum(fragment in text for text in descriptions[exercise_of[name]]) == 1, (name, fragment)


# Two fake catalogue entries: the tool must report them as they are, not as hoped.
def correct_update_lr(learning_rate0, epoch_num, decay_rate):
    """Not a mistake at all: the reference formula."""
    return learning_rate0 / (1 + decay_rate * epoch_num)


def update_lr_plus_one(learning_rate0, epoch_num, decay_rate):
    """Uses epoch_num + 1."""
    return learning_rate0 / (1 + decay_rate * (epoch_num + 1))


def test_a_surviving_or_misnamed_mutant_is_reported():
    catalogue = types.SimpleNamespace(WRONG={"update_lr": [correct_update_lr, update_lr_plus_one]},
                                      NAMED={"update_lr_plus_one": "the decay multiplies"}, CORRECT_VARIANTS=())
    survivor, misnamed = run_mutants(default_files(), catalogue, Limits(timeout=5))
    assert not survivor.killed and survivor.score == pytest.approx(10.0) and survivor.named is None
    assert misnamed.killed and not misnamed.named_right and "epoch_num + 1" in misnamed.named
    text = mutants_table([survivor, misnamed])
    assert re.search(r"correct_update_lr\s+update_lr\s+10\.00 / 10\s+SURVIVED", text)
    assert re.search(r"update_lr_plus_one\s+update_lr\s+[\d.]+ / 10\s+killed\s+NO\s+epoch_num \+ 1", text)
    assert "1 of 2 mutants lose points on their own exercise only; 0 of 2 (0%)" in text
    assert not all_caught([survivor, misnamed]) and all_caught([misnamed])
