"""A normal install: the built wheel in a fresh virtual environment grades from a folder outside the checkout.

The wheel is built from a copy of the checkout without build isolation and
installed with ``--no-deps --no-index`` into a ``--system-site-packages`` venv,
so the dependencies come from the current environment and nothing is
downloaded.  Every command runs with PYTHONPATH unset and outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import __version__
from autograder.course import bundled_course
from autograder.notebook.assignment import load_assignment
from autograder.samples import build_submission, complete_solutions, write_notebook

CHECKOUT = bundled_course()
LEFT_OUT = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "tests",
                                  "benchmarks", "demo-output")


def _env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "OPTKIT_COURSE")}


def _run(argv: list, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in argv], cwd=cwd, env=_env(), capture_output=True, text=True,
                            timeout=600)
    if check and result.returncode != 0:
        pytest.fail(f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tree = shutil.copytree(CHECKOUT, tmp_path_factory.mktemp("checkout") / "kit", ignore=LEFT_OUT)
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", out, tree], cwd=out)
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv_python(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--system-site-packages", venv], cwd=venv.parent)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], cwd=venv.parent)
    return python


def test_wheel_carries_the_course_and_the_license(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ("autograder/course/source/optimization_methods/Optimization_methods.ipynb",
                     "autograder/course/hidden_tests/optimization_methods/test_update_lr.py",
                     "autograder/course/utils/optimization_methods/testCases.py",
                     "autograder/checks/pytest.ini", "autograder/gradescope/templates/run_autograder",
                     f"optimization_methods_kit-{__version__}.dist-info/LICENSE"):
        assert expected in names
    assert not [name for name in names if "/tests/" in name or name.startswith("tests/")]


def test_installed_kit_grades_from_another_folder(venv_python, tmp_path):
    where = _run([venv_python, "-c", "import autograder; print(autograder.__file__)"], cwd=tmp_path).stdout
    assert Path(where.strip()).is_relative_to(venv_python.parent.parent), where
    assignment = load_assignment()
    complete = write_notebook(build_submission(complete_solutions(assignment)), tmp_path / "mine.ipynb")
    graded = _run([venv_python, "-m", "autograder", "grade", complete.name, "--results", "results.json"], cwd=tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["score"] == pytest.approx(assignment.total_points), graded.stdout
    assert (tmp_path / "results.json").stat().st_mode & 0o777 == 0o644

    untouched = write_notebook(build_submission({}), tmp_path / "untouched.ipynb")
    _run([venv_python, "-m", "autograder", "grade", untouched.name, "--results", "zero.json"], cwd=tmp_path)
    assert json.loads((tmp_path / "zero.json").read_text())["score"] == 0


def test_installed_kit_usage_errors(venv_python, tmp_path):
    version = _run([venv_python, "-m", "autograder", "--version"], cwd=tmp_path)
    assert version.stdout.strip().endswith(__version__)
    missing = _run([venv_python, "-m", "autograder", "grade", "nowhere.ipynb"], cwd=tmp_path, check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    unknown = _run([venv_python, "-m", "autograder", "grade", "x.ipynb", "--assignment", "nope"], cwd=tmp_path,
                   check=False)
    assert unknown.returncode == 2 and "no assignment 'nope'" in unknown.stderr
