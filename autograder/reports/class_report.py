"""The instructor's report after a batch: ``reports/<assignment>/index.html``, its PNG figures and ``summary.md``.

Everything is computed from ``student -> GradeReport`` (:mod:`autograder.reports.class_stats`);
the page and the Markdown summary show the same numbers, rounded to two decimals.
Text that came from student code (failure messages) is sanitised and escaped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from html import escape
from pathlib import Path

from autograder.notebook.assignment import Assignment
from autograder.paths import ASSIGNMENT
from autograder.reports import class_figures
from autograder.reports.atomic import write_bytes_atomically, write_text_atomically
from autograder.reports.class_stats import ClassSummary, summarize
from autograder.reports.model import GradeReport
from autograder.settings import DEFAULT_SETTINGS, FeedbackSettings

MISCONCEPTIONS_PER_EXERCISE = 5

STYLE = """
:root { --ink:#1f2430; --muted:#5b6272; --line:#e3e6ec; --bg:#f6f7f9; --accent:#3056d3; --amber:#c98a00; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI",
       Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 20px 48px; }
h1 { margin: 0; font-size: 26px; } h2 { margin: 0 0 10px; font-size: 18px; }
.sub { color: var(--muted); margin: 2px 0 18px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 12px; }
.stat { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 14px 16px; }
.stat .value { font-size: 26px; font-weight: 700; font-variant-numeric: tabular-nums; }
.stat .label { color: var(--muted); font-size: 13px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 18px 22px; margin-top: 18px; }
.card img { display: block; max-width: 100%; height: auto; margin: 6px auto 10px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12.5px; text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
td.message { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-word; }
.empty { color: var(--muted); font-style: italic; }
details summary { cursor: pointer; color: var(--accent); font-weight: 600; }
footer { color: var(--muted); font-size: 12.5px; text-align: center; margin-top: 26px; }
"""


def write_class_report(reports: Mapping[str, GradeReport], assignment: Assignment, out_dir: Path,
                       settings: FeedbackSettings = DEFAULT_SETTINGS) -> Path:
    """Write the report of ``reports`` (student -> report) in ``out_dir/reports/<assignment>/``; return index.html."""
    name = assignment_name(assignment)
    folder = Path(out_dir) / "reports" / name
    summary = summarize(reports, assignment)
    figures = {"scores.png": class_figures.score_histogram(summary),
               "exercises.png": class_figures.exercise_scores(summary),
               "misconceptions.png": class_figures.misconceptions(summary)}
    for file, png in figures.items():
        if png is not None:
            write_bytes_atomically(folder / file, png)
        else:
            (folder / file).unlink(missing_ok=True)
    write_text_atomically(folder / "summary.md", summary_markdown(summary, name, settings))
    drawn = {file for file, png in figures.items() if png is not None}
    return write_text_atomically(folder / "index.html", report_html(summary, name, settings, drawn))


def assignment_name(assignment: Assignment) -> str:
    """The assignment's name (the kit's single assignment until assignments carry their own name)."""
    return getattr(assignment, "name", None) or ASSIGNMENT


def _n(value: float) -> str:
    return f"{value:.2f}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _table(head: list[str], rows: list[str], numeric: Collection[int] = (), empty: str = "none") -> str:
    if not rows:
        return f'<p class="empty">{_e(empty)}</p>'
    cells = "".join(f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
                    for i, h in enumerate(head))
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def report_html(summary: ClassSummary, name: str, settings: FeedbackSettings, figures: set[str]) -> str:
    """The page; ``figures`` are the PNG files written beside it."""
    graded = summary.submissions - len(summary.unreadable)
    stats = [("submissions", "submissions", str(summary.submissions)), ("graded", "graded", str(graded)),
             ("unreadable", "unreadable", str(len(summary.unreadable))), ("mean", "mean score", _n(summary.mean)),
             ("median", "median score", _n(summary.median)), ("lowest", "lowest", _n(summary.lowest)),
             ("highest", "highest", _n(summary.highest))]
    cards = "".join(f'<div class="stat"><div class="value" data-stat="{key}">{value}</div>'
                    f'<div class="label">{_e(label)}</div></div>' for key, label, value in stats)
    sections = [
        f'<header><h1>{_e(name)}: class report</h1><p class="sub">{summary.submissions} submissions, '
        f'scores out of {summary.max_score:g} points</p><div class="cards">{cards}</div></header>',
        _figure_card("Score distribution", "scores.png", figures, "Histogram of total scores",
                     _histogram_table(summary)),
        _figure_card("Exercises", "exercises.png", figures, "Mean score and pass rate per exercise",
                     _exercise_table(summary)),
        _figure_card("Most frequent misconceptions", "misconceptions.png", figures,
                     "Most frequent named misconceptions", _misconception_table(summary)),
        _card("Most frequent failure messages", _table(
            ["exercise", "message (numbers masked)", "submissions"],
            [f"<tr><td><code>{_e(ex)}</code></td><td class=\"message\">{_e(message)}</td>"
             f'<td class="num">{n}</td></tr>' for ex, message, n in summary.failures], {2})),
        _card("Slowest submissions", _table(
            ["student", "grading time"],
            [f'<tr data-student="{_e(s)}"><td>{_e(s)}</td><td class="num">{seconds:.2f} s</td></tr>'
             for s, seconds in summary.slowest], {1})),
        _card("Submissions that hit a limit", _table(
            ["student", "exercise", "limit"],
            [f"<tr><td>{_e(s)}</td><td><code>{_e(ex)}</code></td><td>{_e(limit)}</td></tr>"
             for s, ex, limit in summary.limits], empty="no submission hit a time, memory or output limit")),
        _card("Every submission", _student_table(summary), collapsed=True),
        f"<footer>Students' feedback: {_e(settings.describe())}. Unreadable notebooks count as 0 in every mean."
        "</footer>",
    ]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(name)}: class report</title><style>{STYLE}</style></head>\n<body><main>\n"
            + "\n".join(sections) + "\n</main></body></html>\n")


def _card(title: str, body: str, collapsed: bool = False) -> str:
    if collapsed:
        return f'<section class="card"><details><summary>{_e(title)}</summary>{body}</details></section>'
    return f'<section class="card"><h2>{_e(title)}</h2>{body}</section>'


def _figure_card(title: str, file: str, figures: set[str], alt: str, body: str) -> str:
    image = f'<img src="{file}" alt="{_e(alt)}">' if file in figures else ""
    return _card(title, image + body)


def _histogram_table(summary: ClassSummary) -> str:
    """One row: the submissions per score range (each range includes its start; the last also its end)."""
    head = "".join(f'<th class="num">{low:g}&ndash;{high:g}</th>' for low, high, _ in summary.histogram)
    counts = "".join(f'<td class="num" data-bin="{k}">{bin_[2]}</td>' for k, bin_ in enumerate(summary.histogram))
    return f"<table><thead><tr><th>scores</th>{head}</tr></thead><tbody><tr><td>submissions</td>{counts}</tr></tbody>" \
           "</table>"


def _exercise_table(summary: ClassSummary) -> str:
    return _table(["#", "exercise", "points", "mean score", "passed every case"], [
        f'<tr data-exercise="{_e(e.name)}"><td>{e.number}</td><td><code>{_e(e.name)}</code></td>'
        f'<td class="num">{e.points:g}</td><td class="num" data-stat="mean">{_n(e.mean)}</td>'
        f'<td class="num" data-stat="pass-rate">{_pct(e.pass_rate)}</td></tr>' for e in summary.exercises],
        {2, 3, 4})


def _misconception_table(summary: ClassSummary) -> str:
    rows = [f'<tr><td><code>{_e(e.name)}</code></td><td>{_e(text)}</td><td class="num">{n}</td></tr>'
            for e in summary.exercises for text, n in e.misconceptions[:MISCONCEPTIONS_PER_EXERCISE]]
    return _table(["exercise", "misconception", "submissions"], rows, {2},
                  empty="no submission matched a known misconception")


def _student_table(summary: ClassSummary) -> str:
    names = [e.name for e in summary.exercises]
    rows = []
    for student, total in summary.totals.items():
        cells = "".join(f'<td class="num" data-function="{_e(n)}">{_n(summary.by_exercise[student].get(n, 0.0))}'
                        "</td>" for n in names)
        rows.append(f'<tr data-student="{_e(student)}"><td>{_e(student)}</td>{cells}'
                    f'<td class="num" data-function="total">{_n(total)}</td></tr>')
    return _table(["student", *names, "total"], rows, set(range(1, len(names) + 2)))


def summary_markdown(summary: ClassSummary, name: str, settings: FeedbackSettings) -> str:
    """The same numbers as the page, as Markdown text."""
    graded = summary.submissions - len(summary.unreadable)
    lines = [f"# {name}: class report", "",
             f"{summary.submissions} submissions ({graded} graded, {len(summary.unreadable)} unreadable), "
             f"scores out of {summary.max_score:g}.", "",
             f"- mean {_n(summary.mean)}, median {_n(summary.median)}, lowest {_n(summary.lowest)}, "
             f"highest {_n(summary.highest)}", f"- students' feedback: {settings.describe()}", "",
             "## Score distribution", "", "| scores | submissions |", "|---|---:|"]
    lines += [f"| {low:g} to {high:g} | {count} |" for low, high, count in summary.histogram]
    lines += ["", "## Exercises", "", "| # | exercise | points | mean score | passed every case |",
              "|---:|---|---:|---:|---:|"]
    lines += [f"| {e.number} | `{e.name}` | {e.points:g} | {_n(e.mean)} | {_pct(e.pass_rate)} |"
              for e in summary.exercises]
    lines += ["", "## Most frequent misconceptions", ""]
    named = [(e, text, n) for e in summary.exercises for text, n in e.misconceptions[:MISCONCEPTIONS_PER_EXERCISE]]
    lines += [f"- `{e.name}`: {text} ({n})" for e, text, n in named] or ["none"]
    lines += ["", "## Most frequent failure messages", ""]
    lines += [f"- `{ex}` ({n}): {_md(message)}" for ex, message, n in summary.failures] or ["none"]
    lines += ["", "## Slowest submissions", ""]
    lines += [f"- {_md(s)}: {seconds:.2f} s" for s, seconds in summary.slowest] or ["none"]
    lines += ["", "## Submissions that hit a limit", ""]
    lines += [f"- {_md(s)}: `{ex}`, {limit}" for s, ex, limit in summary.limits] or ["none"]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Student-influenced text inside a Markdown list item, unable to start HTML or code spans."""
    return escape(text, quote=False).replace("`", "'").replace("|", "\\|")
