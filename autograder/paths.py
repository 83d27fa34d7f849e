"""Where the kit's files live, relative to the repository root."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "optimization_methods"
NOTEBOOK_NAME = "Optimization_methods.ipynb"

SOURCE_DIR = REPO_ROOT / "source" / ASSIGNMENT
RELEASE_DIR = REPO_ROOT / "release" / ASSIGNMENT
UTILS_DIR = REPO_ROOT / "utils"
MASTER_NOTEBOOK = SOURCE_DIR / NOTEBOOK_NAME
RELEASE_NOTEBOOK = RELEASE_DIR / NOTEBOOK_NAME
HIDDEN_TESTS_DIR = Path(__file__).resolve().parent / "hidden_tests"

# What student code must never read: the solutions, the hidden tests and the grader, the kit's own tests.
INSTRUCTOR_ONLY = (SOURCE_DIR.parent, Path(__file__).resolve().parent, REPO_ROOT / "tests")
