"""Build hook: bundle the course (source/, utils/, hidden_tests/, release/) into the wheel as autograder/course/.

Everything else is declared in pyproject.toml.  In a checkout (and an editable
install) the kit finds the same folders at the repository root instead.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

COURSE_FOLDERS = ("source", "utils", "hidden_tests", "release")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


class BuildWithCourse(build_py):
    """build_py, plus a copy of the course folders inside the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "autograder" / "course"
        for folder in COURSE_FOLDERS:
            if Path(folder).is_dir():
                shutil.copytree(folder, target / folder, ignore=SKIPPED, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithCourse})
