"""Writing grades into nbgrader's own gradebook, through nbgrader's API (one writer, one transaction each).

The assignment, its notebook and its grade and solution cells are created
from the master notebook's nbgrader metadata as needed.  Each exercise's
score becomes the ``auto_score`` of its grade cell (the public test cell
``<function>_test``).  An instructor's ``manual_score`` is never touched, and
nbgrader shows it in place of the automatic score, so regrading respects
manual work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from autograder.notebook.assignment import TEST_CELL_SUFFIX
from autograder.reports.model import GradeReport


class GradebookError(RuntimeError):
    """The gradebook could not be opened or written."""


@dataclass(frozen=True)
class MasterCells:
    """The nbgrader cells of the master notebook that the gradebook must know."""

    notebook: str  # nbgrader's notebook name: the master's file stem
    grade_cells: tuple[tuple[str, float, str], ...]  # (grade_id, points, cell type)
    solution_cells: tuple[str, ...]

    @classmethod
    def of(cls, master: Path) -> MasterCells:
        cells = json.loads(Path(master).read_text(encoding="utf-8"))["cells"]
        grades, solutions = [], []
        for cell in cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                grades.append((meta["grade_id"], float(meta["points"]), cell["cell_type"]))
            if meta.get("solution"):
                solutions.append(meta["grade_id"])
        return cls(Path(master).stem, tuple(grades), tuple(solutions))


def gradebook_url(value: str) -> str:
    """An SQLAlchemy URL as given, or a file path turned into an SQLite URL."""
    return value if "://" in value else f"sqlite:///{Path(value).resolve()}"


class GradebookWriter:
    """Owns the gradebook connection of a batch; only the batch's main process creates one."""

    def __init__(self, url: str, assignment: str, master: MasterCells) -> None:
        from nbgrader.api import Gradebook  # nbgrader (and SQLAlchemy) load only when a gradebook is used

        try:
            self._gradebook = Gradebook(url)
        except Exception as error:  # SQLAlchemy raises many kinds for a bad URL or file
            raise GradebookError(f"the gradebook {url} could not be opened: {error}") from error
        self.assignment = assignment
        self.master = master
        self._prepare()

    def _prepare(self) -> None:
        gradebook, name, notebook = self._gradebook, self.assignment, self.master.notebook
        gradebook.update_or_create_assignment(name)
        gradebook.update_or_create_notebook(notebook, name)
        for grade_id, points, cell_type in self.master.grade_cells:
            gradebook.update_or_create_grade_cell(grade_id, notebook, name, max_score=points, cell_type=cell_type)
        for grade_id in self.master.solution_cells:
            gradebook.update_or_create_solution_cell(grade_id, notebook, name)

    def write(self, student: str, report: GradeReport) -> bool:
        """Set the automatic scores of one submission in one transaction; False when they were already set."""
        from nbgrader.api import Grade

        session = self._gradebook.db
        scores = {e.name + TEST_CELL_SUFFIX: round(e.score, 6) for e in report.exercises}
        try:
            with session.no_autoflush:
                notebook = self._gradebook.find_notebook(self.master.notebook, self.assignment)
                submitted = self._submitted_notebook(notebook, student)
                grades = {grade.cell_id: grade for grade in submitted.grades}
                changed = False
                for cell in notebook.grade_cells:
                    grade = grades.get(cell.id)
                    if grade is None:
                        grade = Grade(cell=cell, notebook=submitted)
                        session.add(grade)
                    score = scores.get(cell.name)
                    if score is None or (grade.auto_score == score and grade.id is not None):
                        continue
                    grade.auto_score = score
                    if grade.manual_score is None:
                        grade.needs_manual_grade = False
                    changed = True
            if not changed:
                session.rollback()
                return False
            session.commit()
            return True
        except Exception as error:  # any database failure: nothing of this submission is kept
            session.rollback()
            raise GradebookError(f"the gradebook could not record {student}: {error}") from error

    def _submitted_notebook(self, notebook, student: str):
        """The student's submitted notebook (and submission), created (as nbgrader's add_submission does) if new."""
        from nbgrader.api import Comment, Student, SubmittedAssignment, SubmittedNotebook

        session = self._gradebook.db
        person = session.get(Student, student) or Student(id=student)
        submission = session.query(SubmittedAssignment).filter_by(
            assignment=notebook.assignment, student=person).one_or_none() \
            or SubmittedAssignment(assignment=notebook.assignment, student=person)
        session.add(submission)
        submitted = next((n for n in submission.notebooks if n.notebook_id == notebook.id), None)
        if submitted is None:
            submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
            session.add(submitted)
            session.add_all([Comment(cell=cell, notebook=submitted) for cell in notebook.solution_cells])
        return submitted

    def close(self) -> None:
        self._gradebook.close()
