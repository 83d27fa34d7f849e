"""Any assignment, not one: a second, small assignment (tests/fixtures/second_course) through the whole kit.

Its course folder is copied to a temporary place; everything runs through the
real CLI: release with real nbgrader, grade, the Gradescope package replayed
with Gradescope's layout.  Its tables (names, points, preamble) come from its master.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from gradescope_replay import check_isolation_field, install, new_root, shown_text, submit

from autograder.course import AssignmentFiles, resolve
from autograder.mutants import CatalogueError, catalogue_problem, load_catalogue, mutants_of
from autograder.notebook.assignment import load_assignment
from autograder.samples import build_submission, complete_solutions, write_notebook

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "second_course"
NAME = "vector_basics"
OVERFLOWING_SOFTMAX = ('# GRADED FUNCTION: softmax\ndef softmax(z):\n'
                       '    return np.exp(z) / np.sum(np.exp(z), axis=0, keepdims=True)\n')


def cli(*argv, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, argv)], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the fixture course whose release was regenerated with real nbgrader by the CLI."""
    course = shutil.copytree(FIXTURE, tmp_path_factory.mktemp("course") / "second_course")
    shutil.rmtree(course / "release")
    released = cli("release", "--course", course)  # the only assignment there: no --assignment needed
    assert released.returncode == 0, released.stderr
    return course


@pytest.fixture(scope="module")
def files(course) -> AssignmentFiles:
    return resolve(NAME, course)


@pytest.fixture(scope="module")
def second():
    return load_assignment(resolve(NAME, FIXTURE).master)


def _notebook(files: AssignmentFiles, answers: dict[str, str], path: Path) -> Path:
    return write_notebook(build_submission(answers, files.release_notebook), path)


def test_tables_come_from_the_master(second):
    assert second.names == ("normalize", "softmax", "moving_average")
    assert [e.points for e in second.exercises] == [30, 40, 30] and second.total_points == 100
    assert second.preamble == "import math\nimport numpy as np\n"  # vb_utils is not a sandbox module
    assert second.preamble_names == {"math", "np"}
    assert second.notebook_name == "Vector_basics.ipynb"


def test_release_strips_solutions_and_ships_helpers(files):
    notebook = nbformat.read(files.release_notebook, as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "BEGIN SOLUTION" not in text and "np.convolve" not in text and "NotImplementedError" in text
    assert (files.release_dir / "vb_utils.py").read_bytes() == (files.utils_dir / "vb_utils.py").read_bytes()
    assert not (files.release_dir / "hidden_tests").exists()


def test_committed_fixture_release_is_up_to_date():
    checked = cli("release", "--check", "--course", FIXTURE, "--assignment", NAME)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_grade_complete_wrong_and_untouched(files, second, tmp_path):
    answers = complete_solutions(second)
    cases = {"complete": (answers, 100), "untouched": ({}, 0)}
    for label, (replacements, expected) in cases.items():
        path = _notebook(files, replacements, tmp_path / f"{label}.ipynb")
        graded = cli("grade", path, "--course", files.course, "--results", tmp_path / f"{label}.json")
        assert graded.returncode == 0, graded.stderr
        assert json.loads((tmp_path / f"{label}.json").read_text())["score"] == pytest.approx(expected), graded.stdout
    wrong = _notebook(files, {**answers, "softmax": OVERFLOWING_SOFTMAX}, tmp_path / "wrong.ipynb")
    graded = cli("grade", wrong, "--course", files.course, "--assignment", NAME, "--results", tmp_path / "w.json")
    results = json.loads((tmp_path / "w.json").read_text())
    softmax = [test for test in results["tests"] if "softmax" in test["tags"]]
    assert 60 <= results["score"] < 100 and any(test["status"] == "failed" for test in softmax)
    assert "subtract each column's maximum" in graded.stdout


def test_explicit_case_weights_set_each_case_share(files, second, tmp_path):
    path = _notebook(files, complete_solutions(second), tmp_path / "complete.ipynb")
    cli("grade", path, "--course", files.course, "--results", tmp_path / "r.json")
    normalize = [test["max_score"] for test in json.loads((tmp_path / "r.json").read_text())["tests"]
                 if "normalize" in test["tags"]]
    assert normalize == [15.0, 7.5, 7.5]  # weights 2, 1, 1 of 30 points


def test_notebooks_of_the_other_assignment_are_told_so(files, second, assignment, tmp_path):
    mine = _notebook(files, complete_solutions(second), tmp_path / "Vector_basics.ipynb")
    graded = cli("grade", mine, "--results", tmp_path / "r.json")  # graded as the default assignment
    assert graded.returncode == 0
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["score"] == 0 and "this notebook is not this assignment's" in results["output"]
    assert assignment.notebook_name in results["output"]
    theirs = write_notebook(build_submission(complete_solutions(assignment)), tmp_path / "Optimization_methods.ipynb")
    graded = cli("grade", theirs, "--course", files.course)
    assert "not this assignment's" in graded.stdout and "Submit Vector_basics.ipynb" in graded.stdout


def test_older_version_of_the_notebook_is_told_so(files, second, tmp_path):
    notebook = build_submission(complete_solutions(second), files.release_notebook)
    notebook.cells = [cell for cell in notebook.cells if "moving_average" not in cell.source
                      and "softmax" not in cell.source]
    path = write_notebook(notebook, tmp_path / "old.ipynb")
    graded = cli("grade", path, "--course", files.course)
    assert "looks like an older version of the assignment" in graded.stdout
    assert "2 (softmax), 3 (moving_average)" in graded.stdout


def test_assignment_must_be_named_when_the_course_has_several(course, tmp_path):
    several = shutil.copytree(course, tmp_path / "several")
    shutil.copytree(several / "source" / NAME, several / "source" / "another")
    chosen = cli("grade", "x.ipynb", "--course", several)
    assert chosen.returncode == 2 and "choose one with --assignment" in chosen.stderr
    missing = cli("grade", tmp_path / "nothing.ipynb", "--course", several, "--assignment", NAME)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    not_a_course = cli("grade", "x.ipynb", "--course", tmp_path)
    assert not_a_course.returncode == 2 and "not a course folder" in not_a_course.stderr


def test_gradescope_replay(files, second, tmp_path):
    package = tmp_path / "autograder.zip"
    settings = tmp_path / "optkit.toml"
    settings.write_text('[feedback]\nhidden_cases = "after_published"\n')
    built = cli("gradescope", "--course", files.course, "--assignment", NAME, "--out", package, "--settings", settings)
    assert built.returncode == 0, built.stderr
    root = new_root()
    try:
        install(package, root)
        answers = complete_solutions(second)
        complete = submit(root, {"whatever.ipynb": _notebook(files, answers, tmp_path / "c.ipynb").read_bytes()})
        assert complete["score"] == pytest.approx(100)
        visibility = {test["visibility"] for test in complete["tests"] if "hidden case" in test["tags"]}
        assert visibility == {"after_published"}  # the instructor's settings travel in the package
        check_isolation_field(complete)
        wrong = submit(root, {"v.ipynb": _notebook(files, {**answers, "softmax": OVERFLOWING_SOFTMAX},
                                                   tmp_path / "w.ipynb").read_bytes()})
        assert 60 <= wrong["score"] < 100
        secret = root / "source" / "course" / "hidden_tests" / NAME / "test_softmax.py"
        hostile = ("# GRADED FUNCTION: moving_average\ndef moving_average(x, window):\n"
                   f"    print(open({str(secret)!r}).read())\n    return x\n")
        attacked = submit(root, {"v.ipynb": _notebook(files, {**answers, "moving_average": hostile},
                                                      tmp_path / "h.ipynb").read_bytes()})
        assert attacked["score"] == pytest.approx(70)
        assert 'EXERCISE = "softmax"' in secret.read_text() and "EXERCISE = " not in shown_text(attacked)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize(("name", "expected"), [
    ("folder", "the submission is a folder, not a notebook: submit the Jupyter notebook Vector_basics.ipynb"),
    ("answers.py", "a .py file was submitted, not a notebook"),
    ("work.tar.gz", "an archive (work.tar.gz) was submitted"),
])
def test_wrong_kinds_of_file_say_what_was_expected(files, tmp_path, name, expected):
    path = tmp_path / name
    if name == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"def normalize(v):\n    return v\n")
    graded = cli("grade", path, "--course", files.course, "--results", tmp_path / "r.json")
    assert graded.returncode == 0, graded.stderr
    results = json.loads((tmp_path / "r.json").read_text())
    assert results["score"] == 0 and expected in results["output"]


def test_grade_all_a_folder_of_the_second_assignment(files, second, tmp_path):
    answers = complete_solutions(second)
    subs = tmp_path / "subs"
    _notebook(files, answers, subs / "ada.ipynb")
    _notebook(files, {**answers, "softmax": OVERFLOWING_SOFTMAX}, subs / "bo.ipynb")
    _notebook(files, {}, subs / "cy.ipynb")
    run = cli("grade-all", subs, "--course", files.course, "--assignment", NAME, "--jobs", "2",
              "--csv", tmp_path / "grades.csv")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = (tmp_path / "grades.csv").read_text().splitlines()
    assert lines[0] == "student,normalize,softmax,moving_average,total"
    totals = {line.split(",")[0]: float(line.split(",")[-1]) for line in lines[1:]}
    assert totals["ada"] == pytest.approx(100) and totals["cy"] == 0 and 60 <= totals["bo"] < 100


OWN_FIXTURES = {  # what a hidden test module may define itself, and the softmax score it must then get
    "its own reference fixture (an all-zero answer: the complete softmax fails)": (
        '\n\n@pytest.fixture\ndef reference():\n    return lambda case: np.zeros_like(case.args[0])\n', 0.0),
    "a case fixture of its own, indirectly parametrised (it renames the case: no student result has that id)": (
        '\n\n@pytest.fixture\ndef case(request):\n    return Case(EXERCISE, "renamed", request.param.args)\n', 0.0),
    "its own fixture beside the plugin's": (
        '\n\n@pytest.fixture(autouse=True)\ndef seeded():\n    np.random.seed(0)\n', 40.0),
}


@pytest.mark.parametrize("addition, softmax_score", OWN_FIXTURES.values(), ids=OWN_FIXTURES.keys())
def test_fixtures_a_hidden_test_module_defines_are_the_ones_it_gets(files, second, tmp_path, addition, softmax_score):
    """The plugin hands tests its own fixture values directly: never in place of a module's own definitions."""
    course = tmp_path / "course"
    shutil.copytree(files.course, course)
    module = resolve(NAME, course).hidden_tests / "test_softmax.py"
    text = module.read_text() + addition
    if "def case" in addition:
        text = text.replace('@pytest.mark.parametrize("case", CASES, ids=str)',
                            '@pytest.mark.parametrize("case", CASES, ids=str, indirect=True)')
    module.write_text(text)
    path = _notebook(files, complete_solutions(second), tmp_path / "complete.ipynb")
    graded = cli("grade", path, "--course", course, "--results", tmp_path / "r.json")
    assert graded.returncode == 0, graded.stderr
    results = json.loads((tmp_path / "r.json").read_text())
    softmax = sum(test["score"] for test in results["tests"] if "softmax" in test["tags"])
    assert softmax == pytest.approx(softmax_score)
    assert results["score"] == pytest.approx(60 + softmax_score)


MUTANT_ROW = re.compile(r"^(?P<mutant>\S+)\s+(?P<exercise>\S+)\s+(?P<score>[\d.]+) / (?P<points>[\d.]+)\s+"
                        r"(?P<verdict>\S+)\s+(?P<named_right>\S+)\s+(?P<named>.*)$")


def _mutant_rows(stdout: str) -> dict[str, dict[str, str]]:
    return {match["mutant"]: match.groupdict() for line in stdout.splitlines()[2:]
            if (match := MUTANT_ROW.match(line))}


def test_mutants_of_the_second_assignment(files):
    """Its own catalogue (hidden_tests/vector_basics/mutants.py), graded against its own release and hidden tests."""
    run = cli("mutants", "--course", files.course, "--check", "--timeout", "5")
    assert run.returncode == 0, run.stdout + run.stderr
    rows = _mutant_rows(run.stdout)
    exercises = {"normalize_by_sum": "normalize", "normalize_no_zero_guard": "normalize",
                 "softmax_no_shift": "softmax", "softmax_rows": "softmax", "moving_average_sums": "moving_average"}
    assert {name: row["exercise"] for name, row in rows.items() if name in exercises} == exercises
    for name in exercises:
        assert rows[name]["verdict"] == "killed" and float(rows[name]["score"]) < float(rows[name]["points"])
    assert rows["normalize_by_sum"]["named_right"] == "yes"
    assert (rows["correct-variant-1"]["score"], rows["correct-variant-1"]["verdict"]) == ("100.00", "full")
    assert "5 of 5 mutants lose points on their own exercise only" in run.stdout


def test_mutants_check_fails_on_a_survivor_and_bad_catalogues_are_refused(course, tmp_path):
    copy = shutil.copytree(course, tmp_path / "course")
    catalogue = copy / "hidden_tests" / NAME / "mutants.py"
    original = catalogue.read_text()
    survivor = ('\n\ndef moving_average_cumsum(x, window):\n    """Right, in fact."""\n'
                '    sums = np.cumsum(np.concatenate([[0.0], x]))\n'
                '    return (sums[window:] - sums[:-window]) / window\n'
                '\n\nWRONG["moving_average"].append(moving_average_cumsum)\n')
    catalogue.write_text(original + survivor)
    checked = cli("mutants", "--course", copy, "--check")
    assert checked.returncode == 1 and _mutant_rows(checked.stdout)["moving_average_cumsum"]["verdict"] == "SURVIVED"
    assert cli("mutants", "--course", copy).returncode == 0  # without --check: the table is the answer
    catalogue.write_text(original + "1 / 0\n")
    broken = cli("mutants", "--course", copy)
    assert broken.returncode == 1 and not broken.stdout
    assert f"{catalogue} could not be loaded: ZeroDivisionError: division by zero" in broken.stderr
    catalogue.unlink()
    missing = cli("mutants", "--course", copy)
    assert missing.returncode == 2 and f"no mutant catalogue at {catalogue}" in missing.stderr


@pytest.mark.parametrize(("addition", "problem"), [
    ('def dot_zero(a, b):\n    return 0.0\n\n\nWRONG["dot"] = [dot_zero]\n',
     "dot is not a graded function of the assignment (normalize, softmax, moving_average)"),
    ('WRONG["softmax"].append(normalize_by_sum)\n', "each listed once"),
    ('WRONG["softmax"].append(len)\n', "each listed once"),
    ('NAMED["nobody"] = "x"\n', "NAMED lists nobody, which WRONG does not"),
    ('NAMED["softmax_rows"] = 1\n', "NAMED must be a dict"),
    ("WRONG = [normalize_by_sum]\n", "WRONG must be a dict"),
    ("del WRONG\n", "WRONG must be a dict"),
    ('CORRECT_VARIANTS = ({"cosine": "def cosine(a, b): ..."},)\n', "cosine is not a graded function"),
    ('CORRECT_VARIANTS = ("def softmax(z): ...",)\n', "CORRECT_VARIANTS must be a sequence of dicts"),
])
def test_malformed_catalogues_are_described(second, tmp_path, addition, problem):
    folder = tmp_path / "hidden"
    folder.mkdir()
    (folder / "mutants.py").write_text((FIXTURE / "hidden_tests" / NAME / "mutants.py").read_text() + addition)
    with pytest.raises(CatalogueError, match=re.escape(problem)):
        load_catalogue(folder / "mutants.py", second.names)


def test_the_fixture_catalogue_is_well_formed(second):
    catalogue = load_catalogue(resolve(NAME, FIXTURE).mutant_catalogue, second.names)
    assert catalogue_problem(catalogue, second.names) is None and len(mutants_of(catalogue)) == 5


def test_demo_of_the_second_assignment(course, tmp_path):
    """The demo's samples come from the assignment: its catalogue's mistakes, hostile and endless last exercises;
    its release is generated into the demo's folder, the course's own is compared, never changed."""
    committed = {path: path.read_bytes() for path in (course / "release").rglob("*") if path.is_file()}
    run = cli("demo", "--course", course, "--output", tmp_path / "demo", "--timeout", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "demo" / "release" / NAME / "Vector_basics.ipynb").is_file()
    assert f"the course's own {course / 'release' / NAME} is the same" in run.stdout
    assert {path: path.read_bytes() for path in (course / "release").rglob("*") if path.is_file()} == committed
    scores = {path.stem: json.loads(path.read_text())["score"] for path in (tmp_path / "demo" / "results").iterdir()}
    assert scores == pytest.approx({"complete": 100, "untouched-release": 0, "truncated-file": 0,
                                    "typical-mistakes": 100 - 30 - 40 / 3,  # normalize_by_sum, softmax_no_shift
                                    "hostile-and-endless": 30}, abs=1e-3)  # softmax hostile, moving_average endless
    assert "Permission denied: '/tmp/results.json'" in run.stdout and "stopped after 1 s" in run.stdout
    without = shutil.copytree(course, tmp_path / "no-catalogue")
    (without / "hidden_tests" / NAME / "mutants.py").unlink()
    (without / "release" / NAME / "vb_utils.py").unlink()  # an out-of-date release: told, left as it is
    run = cli("demo", "--course", without, "--output", tmp_path / "demo2", "--timeout", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "differs (vb_utils.py: missing from" in run.stdout
    assert "`python -m autograder release` updates it" in run.stdout
    assert not (without / "release" / NAME / "vb_utils.py").exists()
    assert sorted(path.stem for path in (tmp_path / "demo2" / "results").iterdir()) == [
        "complete", "hostile-and-endless", "truncated-file", "untouched-release"]
    (without / "hidden_tests" / NAME / "mutants.py").write_text("WRONG = {'normalize': [print]}\n")
    run = cli("demo", "--course", without, "--output", tmp_path / "demo3")
    assert run.returncode == 1 and "every entry of WRONG must be a function defined in the catalogue" in run.stderr
