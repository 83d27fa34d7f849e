"""Gradescope's autograder package: building the zip (``build``) and grading inside it (``run``).

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once
as root when it builds the image, then ``run_autograder`` for every submission
(student files in ``/autograder/submission``, results expected in
``/autograder/results/results.json``).  The root ``/autograder`` can be moved
with the ``OPTKIT_GRADESCOPE_ROOT`` environment variable, which the replay test does.
"""

ROOT_ENV = "OPTKIT_GRADESCOPE_ROOT"
DEFAULT_ROOT = "/autograder"
CONFIG_NAME = "optkit.json"  # in the package: which assignment, with which limits
SETTINGS_NAME = "optkit.toml"  # in the package: what students are told (autograder.settings), if given
COURSE_DIR = "course"  # in the package: the assignment's grading data, root-only once installed
