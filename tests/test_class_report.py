"""The instructor's class report, opened in a real headless Chromium (Debian's package, installed by .ci/run).

A small mixed class is graded for real; its CSV is written from the same reports
with the columns the batch uses (``student``, one column per graded function,
``total``; rows sorted by student).  The page must load with no console message,
show every figure, and show the CSV's numbers.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder.demo import write_samples
from autograder.grade import grade_submission
from autograder.mutants import load_catalogue, wrong_cell
from autograder.reports.class_report import write_class_report
from autograder.samples import build_submission, complete_solutions, write_notebook
from autograder.sandbox.runner import Limits
from autograder.settings import FeedbackSettings

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]
# Injected into a copy of the page: after loading, it writes every image's state into the DOM.
IMAGE_CHECK = """<script>addEventListener("load", () => { const out = document.createElement("pre");
out.id = "optkit-image-check"; out.textContent = JSON.stringify([...document.images].map(
image => ({src: image.getAttribute("src"), width: image.naturalWidth}))); document.body.appendChild(out); });
</script>"""
ODD_STUDENT = "<i>zoe</i>"
MUTANTS = {"eps-inside-sqrt": ("update_parameters_with_adam", "adam_epsilon_inside_sqrt"),
           "drops-last-batch": ("random_mini_batches", "rmb_drops_last_batch")}


def chromium(page: Path, profile: Path, *options: str) -> subprocess.CompletedProcess:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is needed: apt-get install chromium (.ci/run does it)")
    return subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *options, page.as_uri()],
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)


def open_page(page: Path, profile: Path) -> tuple[str, list[dict], list[str]]:
    """The page's DOM after load, the state of each image, and the console messages."""
    copy = page.with_name(".checked-" + page.name)
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", IMAGE_CHECK + "</body>"), encoding="utf-8")
    run = chromium(copy, profile, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom")
    copy.unlink()
    assert run.returncode == 0, run.stderr[-2000:]
    match = re.search(r'<pre id="optkit-image-check">(.*?)</pre>', run.stdout, re.S)
    assert match, "the page's load event never ran"
    images = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    return run.stdout, images, console


class DataCells(HTMLParser):
    """The text of every element carrying a ``data-stat``, ``data-bin`` or ``data-function`` attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.stats: dict[str, str] = {}
        self.bins: dict[int, int] = {}
        self.exercises: dict[str, dict[str, str]] = {}
        self.students: dict[str, dict[str, str]] = {}
        self._row: tuple[str, str] | None = None
        self._open: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-exercise" in attrs:
            self._row = ("exercise", attrs["data-exercise"])
        elif tag == "tr" and "data-student" in attrs:
            self._row = ("student", attrs["data-student"])
        for key in ("data-stat", "data-bin", "data-function"):
            if key in attrs:
                self._open = (key, attrs[key])

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._open is None:
            return
        key, name = self._open
        self._open = None
        if key == "data-bin":
            self.bins[int(name)] = int(data)
        elif self._row and self._row[0] == "exercise":
            self.exercises.setdefault(self._row[1], {})[name] = data
        elif self._row and self._row[0] == "student" and key == "data-function":
            self.students.setdefault(self._row[1], {})[name] = data
        elif key == "data-stat":
            self.stats[name] = data


@pytest.fixture(scope="module")
def graded(tmp_path_factory, assignment):
    """``student -> GradeReport`` for a small mixed class, graded for real."""
    folder = tmp_path_factory.mktemp("class")
    paths = write_samples(folder, assignment)
    catalogue = load_catalogue()
    for student, (exercise, mutant) in MUTANTS.items():
        cell = wrong_cell(exercise, getattr(catalogue, mutant), catalogue)
        paths[student] = write_notebook(build_submission({**complete_solutions(assignment), exercise: cell}),
                                        folder / f"{student}.ipynb")
    paths[ODD_STUDENT] = paths["typical-mistakes"]
    return {student: grade_submission(path, assignment=assignment, limits=Limits(timeout=2))
            for student, path in paths.items()}


@pytest.fixture(scope="module")
def report(graded, assignment, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    settings = FeedbackSettings(hints=False, hidden_cases="after_published")
    index = write_class_report(graded, assignment, out, settings)
    names = [e.name for e in assignment.exercises]
    with (out / "grades.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["student", *names, "total"])
        for student in sorted(graded):
            scores = {e.name: e.score for e in graded[student].exercises}
            writer.writerow([student, *(scores[n] for n in names), graded[student].score])
    return index, out / "grades.csv", out


@pytest.fixture(scope="module")
def page(report, tmp_path_factory):
    index, _, _ = report
    return open_page(index, tmp_path_factory.mktemp("profile"))


def read_csv(path: Path) -> tuple[list[str], list[dict[str, float]], list[str]]:
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    names = [column for column in rows[0] if column not in ("student", "total")]
    return [row["student"] for row in rows], [{k: float(v) for k, v in row.items() if k != "student"}
                                               for row in rows], names


def test_files_are_written(report):
    index, _, out = report
    folder = out / "reports" / "optimization_methods"
    assert index == folder / "index.html"
    for name in ("scores.png", "exercises.png", "misconceptions.png", "summary.md"):
        assert (folder / name).stat().st_size > 0
        assert (folder / "scores.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_page_loads_without_console_messages_and_shows_every_figure(page):
    _, images, console = page
    assert console == []
    assert sorted(image["src"] for image in images) == ["exercises.png", "misconceptions.png", "scores.png"]
    assert all(image["width"] > 0 for image in images), images


def test_the_checker_sees_a_missing_figure_and_a_script_error(report, tmp_path):
    index, _, _ = report
    broken = index.with_name("broken.html")
    broken.write_text(index.read_text().replace('src="scores.png"', 'src="gone.png"')
                      .replace("</body>", "<script>notDefined();</script></body>"))
    _, images, console = open_page(broken, tmp_path / "profile")
    broken.unlink()
    assert any(image["src"] == "gone.png" and image["width"] == 0 for image in images)
    assert any("Uncaught ReferenceError" in line for line in console)


def test_numbers_on_the_page_match_the_csv(page, report):
    dom, _, _ = page
    _, csv_path, _ = report
    students, rows, names = read_csv(csv_path)
    cells = DataCells()
    cells.feed(dom)
    totals = [row["total"] for row in rows]
    assert cells.stats["submissions"] == str(len(rows))
    for key, value in (("mean", statistics.fmean(totals)), ("median", statistics.median(totals)),
                       ("lowest", min(totals)), ("highest", max(totals))):
        assert cells.stats[key] == f"{value:.2f}", key
    assert sorted(cells.students) == students
    for student, row in zip(students, rows, strict=True):
        assert cells.students[student] == {key: f"{value:.2f}" for key, value in row.items()}
    points = {n: max(row[n] for row in rows) for n in names}  # the complete submission has every point
    for name in names:
        column = [row[name] for row in rows]
        assert cells.exercises[name]["mean"] == f"{statistics.fmean(column):.2f}"
        full = sum(score == pytest.approx(points[name]) for score in column) / len(column)
        assert cells.exercises[name]["pass-rate"] == f"{100 * full:.1f}%"
    expected_bins = [0] * 10
    for total in totals:
        expected_bins[min(int(total // 10), 9)] += 1
    assert [cells.bins[k] for k in range(10)] == expected_bins


def test_summary_markdown_has_the_same_numbers(report):
    index, csv_path, _ = report
    _, rows, names = read_csv(csv_path)
    text = (index.parent / "summary.md").read_text()
    totals = [row["total"] for row in rows]
    assert f"mean {statistics.fmean(totals):.2f}, median {statistics.median(totals):.2f}" in text
    for name in names:
        assert f"`{name}` | " in text and f"| {statistics.fmean(row[name] for row in rows):.2f} |" in text
    assert "hints off; hidden cases after_published" in text


def test_misconceptions_failures_slowest_and_limits(page, graded):
    dom, _, _ = page
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))
    assert re.search(r"epsilon is inside the square root: .{0,80}? 1 ", text)
    assert re.search(r"the last, smaller mini-batch is missing .{0,80}? 3 ", text)  # typical, its twin, the mutant
    assert re.search(r"hostile-and-endless schedule_lr_decay time", text)
    slowest = max(graded, key=lambda student: graded[student].seconds)
    assert re.search(r"Slowest submissions student grading time (\S+)", text).group(1) == slowest
    assert "not implemented yet" in text


def test_student_ids_are_escaped(page):
    dom, _, _ = page
    assert "<i>zoe</i>" not in dom and "&lt;i&gt;zoe&lt;/i&gt;" in dom


def test_screenshot(report, tmp_path):
    """A full-page picture to look at (kept in the test's tmp folder); it must at least be a real PNG."""
    index, _, _ = report
    shot = tmp_path / "report.png"
    run = chromium(index, tmp_path / "profile", "--window-size=1100,3200", f"--screenshot={shot}")
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 50_000


def test_matplotlib_is_not_imported_with_the_report_module():
    code = "import sys, autograder.reports.class_report; print('matplotlib' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"
