"""Shared fixtures: the assignment as the master notebook defines it."""

import sys

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
