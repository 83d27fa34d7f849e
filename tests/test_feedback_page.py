"""Students' feedback pages: self-contained, escaped, capped, and never revealing a hidden case's expected values.

A mixed corpus (complete, untouched release, typical mistakes, every catalogued
mistake, an endless loop, a truncated file, hostile output) is graded for real,
and a page is written for every submission under three disclosure settings.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from html import escape
from html.parser import HTMLParser

import numpy as np
import pytest

from autograder.checks.imports import importable
from autograder.demo import write_samples
from autograder.grade import grade_submission
from autograder.mutants import load_catalogue, wrong_cell
from autograder.paths import HIDDEN_TESTS_DIR, UTILS_DIR
from autograder.reports.feedback_page import feedback_html, write_feedback_page
from autograder.reports.model import CaseResult, ExerciseResult, GradeReport
from autograder.samples import build_submission, complete_solutions, write_notebook
from autograder.sandbox.runner import Limits
from autograder.settings import FeedbackSettings

ASSIGNMENT = "optimization_methods"
HOSTILE_UPDATE_LR = '''# GRADED FUNCTION: update_lr
def update_lr(learning_rate0, epoch_num, decay_rate):
    print("<script>alert(1)</script>")
    print("\\x1b[2J\\x1b[31mFORGED 100/100\\x1b[0m\\x07")
    print("x" * 50_000)
    return learning_rate0 / (1 + decay_rate * epoch_num)
'''
HOSTILE_SCHEDULE = '''# GRADED FUNCTION: schedule_lr_decay
def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    raise ValueError("<img src=x onerror=alert(2)> \\x1b[31mred")
'''
SETTINGS = {
    "default": FeedbackSettings(),
    "strict": FeedbackSettings(hints=False, hidden_cases="after_published", hidden_labels=False),
    "hidden": FeedbackSettings(hidden_cases="hidden"),
}
# Numbers the student's own code produced, as expect.py words them: not the grader's to hide.
STUDENT_VALUES = re.compile(r"got [^\s,;<]+|is [^\s,;<]+, which is not the expected value")


def _hidden_modules():
    modules = []
    for path in sorted(HIDDEN_TESTS_DIR.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"feedback_page_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        with importable(HIDDEN_TESTS_DIR, UTILS_DIR):  # the modules beside them and the helpers, as in grading
            spec.loader.exec_module(module)
        modules.append(module)
    return modules


ALL_CASES = [case for module in _hidden_modules() for case in module.CASES]
HIDDEN_CASES = [case for case in ALL_CASES if case.hidden]


def _numbers(value) -> list[float]:
    if isinstance(value, np.ndarray):
        return [float(x) for x in value.ravel()] if value.dtype.kind in "fc" else []
    if isinstance(value, dict):
        return [x for item in value.values() for x in _numbers(item)]
    if isinstance(value, (tuple, list)):
        return [x for item in value for x in _numbers(item)]
    if isinstance(value, (float, np.floating)):
        return [float(value)]
    return []


def _formatted_results(cases, reference) -> set[str]:
    """The non-integer numbers of the cases' expected results, formatted as feedback would print them."""
    found = set()
    for case in cases:
        args, kwargs = case.fresh_args()
        with np.errstate(all="ignore"):
            want = reference[case.exercise](*args, **kwargs)
        for number in _numbers(want):
            if np.isfinite(number) and abs(number - round(number)) > 1e-9:
                found.update(text for text in (f"{number:.8g}", f"{number:.6g}", repr(number)) if len(text) >= 6)
    return found


@pytest.fixture(scope="module")
def secrets(reference) -> set[str]:
    """Every hidden case's expected numbers (those a public case also expects may be shown)."""
    public = _formatted_results([case for case in ALL_CASES if not case.hidden], reference)
    found = _formatted_results(HIDDEN_CASES, reference) - public
    assert len(found) > 1000
    return found


def leaked(page: str, secrets: set[str]) -> set[str]:
    text = re.sub(r'<pre class="output">.*?</pre>', "", page, flags=re.S)  # what the student's code printed
    text = STUDENT_VALUES.sub("", text)
    return {secret for secret in secrets if secret in text}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, assignment) -> dict[str, GradeReport]:
    folder = tmp_path_factory.mktemp("submissions")
    paths = write_samples(folder, assignment)
    solutions = complete_solutions(assignment)
    catalogue = load_catalogue()
    for k in range(max(len(wrongs) for wrongs in catalogue.WRONG.values())):  # the k-th mistake of every exercise
        cells = {e: wrong_cell(e, wrongs[k], catalogue) for e, wrongs in catalogue.WRONG.items() if k < len(wrongs)}
        notebook = build_submission({**solutions, **cells})
        paths[f"mistakes-{k}"] = write_notebook(notebook, folder / f"mistakes-{k}.ipynb")
    paths["hostile-output"] = write_notebook(build_submission(
        {**solutions, "update_lr": HOSTILE_UPDATE_LR, "schedule_lr_decay": HOSTILE_SCHEDULE}), folder / "hostile.ipynb")
    return {name: grade_submission(path, assignment=assignment, limits=Limits(timeout=2))
            for name, path in paths.items()}


@pytest.fixture(scope="module")
def pages(corpus, tmp_path_factory) -> dict[str, dict[str, str]]:
    """settings name -> student -> the page's HTML, read back from where it was written."""
    result = {}
    for name, settings in SETTINGS.items():
        root = tmp_path_factory.mktemp(name)
        result[name] = {}
        for student, report in corpus.items():
            path = write_feedback_page(report, student, ASSIGNMENT, root, settings)
            assert path == root / "feedback" / student / ASSIGNMENT / "feedback.html"
            result[name][student] = path.read_text(encoding="utf-8")
    return result


def test_the_corpus_is_mixed(corpus):
    assert corpus["complete"].score == pytest.approx(100)
    assert corpus["untouched-release"].score == 0 and corpus["truncated-file"].error
    assert all(0 < corpus[f"mistakes-{k}"].score < 100 for k in range(4))


class Tags(HTMLParser):
    """Every tag of a page with its attributes, as a browser's parser sees them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_pages_are_self_contained(pages):
    for by_student in pages.values():
        for student, page in by_student.items():
            tags = Tags(page).tags
            assert not {tag for tag, _ in tags} & {"script", "link", "iframe", "object", "embed", "img", "form"}
            links = [value for _, attrs in tags for key, value in attrs.items() if key in ("src", "href", "action")]
            assert all(link.startswith("#") for link in links), (student, links)
            assert not re.search(r"@import|url\(", page.split("</style>")[0]), student
            assert "default-src 'none'" in page


def test_student_output_is_escaped_and_capped(pages, corpus):
    page = pages["default"]["hostile-output"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "\x1b" not in page and "\x07" not in page and "FORGED 100/100" in page
    assert len(page) < 60_000 and "x" * 1000 in page
    huge = GradeReport("s.ipynb", [ExerciseResult(1, "f", 10.0, [CaseResult("c", False, feedback="y" * 10**6)],
                                                  output="<b>" * 10**6)])
    html = feedback_html(huge, "s", ASSIGNMENT)
    assert len(html) < 40_000 and "(cut: only the first" in html and "<b>" not in html.split("</style>")[1]


def test_pages_never_reveal_hidden_expected_values_or_test_code(pages, secrets):
    for setting, by_student in pages.items():
        for student, page in by_student.items():
            assert leaked(page, secrets) == set(), (setting, student)
            assert not re.search(r"def test_|expect\.|Misconception\(|import pytest|hidden_tests", page)


def test_the_scan_would_see_a_leak(secrets):
    secret = sorted(secrets)[0]
    report = GradeReport("s.ipynb", [ExerciseResult(1, "f", 10.0, [
        CaseResult("c", False, feedback=f"W has wrong values: got 1.5, expected {secret}")])])
    assert leaked(feedback_html(report, "s", ASSIGNMENT), secrets) == {secret}


def test_failed_cases_show_message_misconception_and_hint(pages):
    page = pages["default"]["typical-mistakes"]
    assert "Your result is exactly what this mistake gives: the bias correction is missing" in page
    assert "mini_batches has 3 items, but it should have 4" in page
    assert "Hint:" in pages["default"]["mistakes-3"]  # a mistake no misconception matches gets the fallback hint
    assert "not implemented yet" in pages["default"]["untouched-release"]
    assert "could not be graded" in pages["default"]["truncated-file"]
    assert "the examples are not shuffled" in pages["strict"]["mistakes-0"]  # misconceptions are always named


def test_hints_off_means_no_hint(pages):
    assert not any("Hint:" in page for page in pages["strict"].values())


def test_hidden_labels_off_or_hidden_cases_hidden_means_no_hidden_label(pages):
    labels = {escape(case.label, quote=True) for case in HIDDEN_CASES}
    assert any(label in pages["default"]["typical-mistakes"] for label in labels)
    for setting in ("strict", "hidden"):
        for student, page in pages[setting].items():
            assert not any(label in page for label in labels), (setting, student)
    assert "hidden case 2" in pages["strict"]["typical-mistakes"]
    assert "hidden cases are not shown" in pages["hidden"]["typical-mistakes"]


def test_cli_writes_the_page_and_refuses_bad_settings_or_names(corpus, tmp_path, assignment):
    submission = write_notebook(build_submission(complete_solutions(assignment)), tmp_path / "anna.ipynb")
    (tmp_path / "strict.toml").write_text('[feedback]\nhints = false\nhidden_labels = false\n')
    (tmp_path / "bad.toml").write_text('[feedback]\nhidden_cases = "later"\n')

    def grade(*options):
        return subprocess.run([sys.executable, "-m", "autograder", "grade", str(submission), "--quiet", *options],
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)

    run = grade("--feedback", str(tmp_path / "out"), "--settings", str(tmp_path / "strict.toml"))
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "out" / "feedback" / "anna" / ASSIGNMENT / "feedback.html").read_text()
    assert "100.00" in page and "hidden case 2" in page
    run = grade("--feedback", str(tmp_path / "bad"), "--settings", str(tmp_path / "bad.toml"))
    assert run.returncode == 2 and "hidden_cases must be one of visible, after_due_date" in run.stderr
    run = grade("--feedback", str(tmp_path / "bad"), "--student", "../escape")
    assert run.returncode == 2 and "not usable as a folder name" in run.stderr
    assert not (tmp_path / "bad").exists()
