"""A student's feedback as one self-contained HTML page: ``feedback/<student>/<assignment>/feedback.html``.

The layout is nbgrader's (``nbgrader release_feedback`` hands out that
folder).  The page needs nothing from the network (inline CSS, no scripts, a
Content-Security-Policy that forbids fetches) and shows only what the
instructor's :class:`~autograder.settings.FeedbackSettings` allow.  Everything
that comes from the student's code is escaped and cut to a bounded length.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from autograder.reports.atomic import write_text_atomically
from autograder.reports.disclosure import MISTAKE, case_name, shown_cases, shown_hint
from autograder.reports.model import CaseResult, ExerciseResult, GradeReport
from autograder.reports.sanitize import printable
from autograder.settings import DEFAULT_SETTINGS, FeedbackSettings

MESSAGE_LIMIT = 2_000  # characters of one case's feedback
OUTPUT_LIMIT = 4_000  # characters of what an exercise printed
STATUS_WORDS = {"passed": "passed", "partial": "partly passed", "failed": "not passed"}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
:root { --ink:#1f2430; --muted:#5b6272; --line:#e3e6ec; --bg:#f6f7f9; --ok:#1a7f4b; --okbg:#e6f4ec;
        --part:#9a6700; --partbg:#fff4d6; --bad:#b42318; --badbg:#fdeceb; --accent:#3056d3; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI",
       Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 920px; margin: 0 auto; padding: 28px 20px 48px; }
header { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 22px 26px; }
h1 { margin: 0 0 4px; font-size: 24px; }
h2 { font-size: 18px; margin: 0; }
.who { color: var(--muted); margin: 0 0 14px; }
.total { font-size: 34px; font-weight: 700; }
.total small { font-size: 18px; color: var(--muted); font-weight: 500; }
.bar { height: 10px; background: var(--line); border-radius: 5px; overflow: hidden; margin-top: 8px; }
.bar span { display: block; height: 100%; background: var(--accent); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 18px 22px; margin-top: 18px; }
table { border-collapse: collapse; width: 100%; margin-top: 10px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; font-size: 13px; text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: var(--accent); text-decoration: none; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12.5px; font-weight: 600; }
.passed .badge, .badge.passed { background: var(--okbg); color: var(--ok); }
.partial .badge, .badge.partial { background: var(--partbg); color: var(--part); }
.failed .badge, .badge.failed { background: var(--badbg); color: var(--bad); }
.exercise-head { display: flex; justify-content: space-between; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.points { font-weight: 700; font-variant-numeric: tabular-nums; }
ul.cases { list-style: none; padding: 0; margin: 12px 0 0; }
ul.cases li { border-left: 4px solid var(--line); padding: 6px 12px; margin: 8px 0; background: #fafbfc;
              border-radius: 0 8px 8px 0; }
ul.cases li.pass { border-color: var(--ok); }
ul.cases li.fail { border-color: var(--bad); }
.kind { color: var(--muted); font-size: 12.5px; margin-left: 6px; }
pre { white-space: pre-wrap; word-break: break-word; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo,
      Consolas, monospace; margin: 6px 0; }
pre.output { background: #11151c; color: #e6e9ef; padding: 10px 12px; border-radius: 8px; }
.mistake { background: var(--partbg); border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
.hint { color: var(--muted); margin: 6px 0; }
.problem { background: var(--badbg); border-radius: 8px; padding: 10px 12px; }
.note { color: var(--muted); font-size: 13.5px; }
details summary { cursor: pointer; color: var(--accent); margin-top: 10px; }
footer { color: var(--muted); font-size: 12.5px; text-align: center; margin-top: 26px; }
"""


def write_feedback_page(report: GradeReport, student: str, assignment_name: str, root: Path,
                        settings: FeedbackSettings = DEFAULT_SETTINGS) -> Path:
    """Write ``root/feedback/<student>/<assignment_name>/feedback.html`` atomically and return its path."""
    path = feedback_path(root, student, assignment_name)
    return write_text_atomically(path, feedback_html(report, student, assignment_name, settings))


def feedback_path(root: Path, student: str, assignment_name: str) -> Path:
    """Where the page goes (nbgrader's layout); ValueError if a name cannot be one folder name."""
    return Path(root) / "feedback" / _component(student) / _component(assignment_name) / "feedback.html"


def feedback_html(report: GradeReport, student: str, assignment_name: str,
                  settings: FeedbackSettings = DEFAULT_SETTINGS) -> str:
    """The page as a string."""
    title = f"{assignment_name}: feedback for {student}"
    share = 100 * report.score / report.max_score if report.max_score else 0.0
    body = [f'<header><h1>{_text(assignment_name)}</h1><p class="who">Feedback for {_text(student)}</p>'
            f'<div class="total" id="total">{report.score:.2f} <small>/ {report.max_score:g} points</small></div>'
            f'<div class="bar"><span style="width:{share:.1f}%"></span></div></header>']
    if report.error:
        body.append(f'<section class="card"><h2>Your notebook could not be graded</h2>'
                    f'<pre class="problem">{_text(report.error, MESSAGE_LIMIT)}</pre></section>')
    body.append(_score_table(report))
    if not report.error:
        body.extend(_exercise_section(exercise, settings) for exercise in report.exercises)
    body.append('<footer>Graded automatically. Public cases are the ones your notebook tests; hidden cases use '
                'other inputs to check the same function.</footer>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{_text(title)}</title><style>{STYLE}</style></head>\n'
            f'<body><main>\n' + "\n".join(body) + "\n</main></body></html>\n")


def _score_table(report: GradeReport) -> str:
    rows = "".join(
        f'<tr class="{e.status}"><td>{e.number}</td><td><a href="#exercise-{e.number}"><code>{_text(e.name)}</code>'
        f'</a></td><td class="num">{e.passed}/{len(e.cases)}</td><td class="num">{e.score:.2f} / {e.points:g}</td>'
        f'<td><span class="badge">{STATUS_WORDS[e.status]}</span></td></tr>' for e in report.exercises)
    return ('<section class="card"><h2>Scores</h2><table><thead><tr><th>#</th><th>exercise</th>'
            '<th class="num">cases</th><th class="num">points</th><th>status</th></tr></thead>'
            f'<tbody>{rows}</tbody><tfoot><tr><th></th><th>total</th><th></th>'
            f'<th class="num">{report.score:.2f} / {report.max_score:g}</th><th></th></tr></tfoot></table></section>')


def _exercise_section(exercise: ExerciseResult, settings: FeedbackSettings) -> str:
    parts = [f'<section class="card {exercise.status}" id="exercise-{exercise.number}">'
             f'<div class="exercise-head"><h2>Exercise {exercise.number}: <code>{_text(exercise.name)}</code> '
             f'<span class="badge">{STATUS_WORDS[exercise.status]}</span></h2>'
             f'<span class="points">{exercise.score:.2f} / {exercise.points:g}</span></div>']
    if exercise.problem:
        parts.append(f'<pre class="problem">{_text(exercise.problem, MESSAGE_LIMIT)}</pre>')
    shown = shown_cases(exercise, settings)
    if shown:
        named: set[str] = set()  # misconceptions already explained in this exercise
        items = f'<ul class="cases">{"".join(_case_item(case, number, settings, named) for number, case in shown)}</ul>'
        everything = "" if len(shown) == len(exercise.cases) else " shown"
        parts.append(f"<details><summary>All {len(shown)} cases{everything} passed</summary>{items}</details>"
                     if all(case.passed for _, case in shown) else items)
    withheld = [case for case in exercise.cases if case.hidden and not settings.shows_hidden_cases]
    if withheld:
        passed = sum(case.passed for case in withheld)
        parts.append(f'<p class="note">{len(withheld)} hidden cases are not shown: {passed} of them passed.</p>')
    if exercise.output:
        parts.append(f'<details><summary>What your code printed</summary>'
                     f'<pre class="output">{_text(exercise.output, OUTPUT_LIMIT)}</pre></details>')
    return "".join(parts) + "</section>"


def _case_item(case: CaseResult, number: int, settings: FeedbackSettings, named: set[str]) -> str:
    name = f'{_text(case_name(case, number, settings))}<span class="kind">{"hidden" if case.hidden else "public"}' \
           f' case</span>'
    if case.passed:
        return f'<li class="pass">&#10003; {name}</li>'
    lines = [f'<li class="fail">&#10007; {name}<pre>{_text(case.feedback, MESSAGE_LIMIT)}</pre>']
    if case.misconception in named:
        lines.append('<p class="hint">The same mistake as above.</p>')
    elif case.misconception:
        named.add(case.misconception)
        lines.append(f'<p class="mistake">{_text(MISTAKE + case.misconception, MESSAGE_LIMIT)}</p>')
    hint = shown_hint(case, settings)
    if hint:
        lines.append(f'<p class="hint">Hint: {_text(hint, MESSAGE_LIMIT)}</p>')
    return "".join(lines) + "</li>"


def _text(text: str, limit: int = 200) -> str:
    return escape(printable(text, limit), quote=True)


def _component(name: str) -> str:
    """``name`` as one folder name, refusing anything that would leave the feedback folder."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\0") or name != name.strip():
        raise ValueError(f"not usable as a folder name: {name!r}")
    return name
