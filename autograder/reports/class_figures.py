"""The class report's figures as PNG bytes (matplotlib's object API with the Agg canvas: no pyplot, no global
backend, nothing set at import)."""

from __future__ import annotations

import io
import textwrap

from autograder.reports.class_stats import ClassSummary

INK, MUTED, GRID = "#1f2430", "#5b6272", "#e3e6ec"
BLUE, GREEN, AMBER = "#3056d3", "#1a7f4b", "#c98a00"
DPI = 110
TOP_MISCONCEPTIONS = 12


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _style(axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(GRID)
    axes.tick_params(colors=MUTED, labelsize=9)
    axes.set_axisbelow(True)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def score_histogram(summary: ClassSummary) -> bytes:
    figure = _figure(7.5, 3.4)
    axes = figure.subplots()
    _style(axes)
    lows = [low for low, _, _ in summary.histogram]
    width = summary.histogram[0][1] - summary.histogram[0][0]
    counts = [count for _, _, count in summary.histogram]
    bars = axes.bar(lows, counts, width=width * 0.92, align="edge", color=BLUE)
    axes.bar_label(bars, labels=[str(c) if c else "" for c in counts], color=INK, fontsize=9, padding=2)
    axes.axvline(summary.mean, color=AMBER, linewidth=2, label=f"mean {summary.mean:.1f}")
    axes.axvline(summary.median, color=GREEN, linewidth=2, linestyle="--", label=f"median {summary.median:.1f}")
    axes.set_xlim(0, summary.max_score)
    axes.set_ylim(0, max([*counts, 1]) * 1.18)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.grid(axis="y", color=GRID)
    axes.set_xlabel(f"total score (of {summary.max_score:g})", color=MUTED)
    axes.set_ylabel("submissions", color=MUTED)
    figure.legend(frameon=False, fontsize=9, loc="outside upper right", ncols=2)
    return _png(figure)


def exercise_scores(summary: ClassSummary) -> bytes:
    exercises = summary.exercises
    figure = _figure(7.5, 0.45 * len(exercises) + 1.2)
    axes = figure.subplots()
    _style(axes)
    rows = list(range(len(exercises)))[::-1]
    height = 0.38
    mean = axes.barh([r + height / 2 for r in rows], [100 * e.mean / e.points for e in exercises], height,
                     color=BLUE, label="mean score (% of the points)")
    passed = axes.barh([r - height / 2 for r in rows], [100 * e.pass_rate for e in exercises], height,
                       color=GREEN, label="passed every case (% of the class)")
    for bars in (mean, passed):
        axes.bar_label(bars, fmt="%.0f%%", fontsize=8, color=MUTED, padding=2)
    axes.set_yticks(rows, [f"{e.number}. {e.name} ({e.points:g})" for e in exercises], fontsize=9, color=INK)
    axes.set_xlim(0, 112)
    axes.grid(axis="x", color=GRID)
    figure.legend(frameon=False, fontsize=9, loc="outside upper center", ncols=2)
    return _png(figure)


def misconceptions(summary: ClassSummary) -> bytes | None:
    """The most frequent named misconceptions of the whole class, or None if none was named."""
    rows = sorted(((count, e.number, text) for e in summary.exercises for text, count in e.misconceptions),
                  key=lambda row: (-row[0], row[1], row[2]))[:TOP_MISCONCEPTIONS]
    if not rows:
        return None
    figure = _figure(7.5, 0.42 * len(rows) + 1.0)
    axes = figure.subplots()
    _style(axes)
    positions = list(range(len(rows)))[::-1]
    bars = axes.barh(positions, [count for count, _, _ in rows], 0.6, color=AMBER)
    axes.bar_label(bars, fontsize=9, color=INK, padding=2)
    labels = [f"Ex {number}: " + textwrap.shorten(text, 62, placeholder="…") for _, number, text in rows]
    axes.set_yticks(positions, labels, fontsize=8.5, color=INK)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlim(0, max(count for count, _, _ in rows) * 1.15)
    axes.grid(axis="x", color=GRID)
    axes.set_xlabel("submissions", color=MUTED)
    return _png(figure)
