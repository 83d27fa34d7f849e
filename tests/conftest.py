"""Shared fixtures: the assignment as the master notebook defines it."""

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.notebook.assignment import Assignment, load_assignment
from autograder.paths import UTILS_DIR

# The helper modules are imported by name, as the notebook does.
sys.path.insert(0, str(UTILS_DIR))


@pytest.fixture(scope="session")
def assignment() -> Assignment:
    return load_assignment()


@pytest.fixture(scope="session")
def reference(assignment):
    """The master notebook's reference solutions, by function name."""
    return assignment.reference_functions()


@pytest.fixture(scope="session")
def traversable_tmp():
    """A folder the sandbox's unprivileged children can traverse (pytest's own tmp folders are 0700)."""
    root = Path(tempfile.mkdtemp(prefix="optkit-tests-"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)
