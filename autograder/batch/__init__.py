"""Grading a whole class: ``python -m autograder grade-all`` (see :mod:`autograder.batch.run`)."""
