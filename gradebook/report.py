"""The HTML report: one self-contained page (plots embedded as PNG) an instructor can open or
mail.

For the course: the distribution of course percentages and the letters. For each assignment:
the score distribution, per-question mean, median, difficulty and discrimination (see
:mod:`gradebook.item_analysis`), the submissions that failed to grade and why, and the roster
students with no submission. Statistics are over the submissions that were graded; one that
failed to grade is listed, not averaged in as a zero.
"""

from __future__ import annotations

import base64
import html
import io
import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from gradebook.api import Gradebook
from gradebook.item_analysis import item_statistics
from gradebook.policy import Policy

__all__ = ["build_report"]

BLUE, ORANGE, GREY = "#2b6cb0", "#dd6b20", "#a0aec0"
STYLE = """
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       color: #1a202c; line-height: 1.45; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #e2e8f0; padding-bottom: 0.2rem;
       margin-top: 2.5rem; } h3 { margin-top: 1.5rem; }
.meta { color: #4a5568; margin-top: 0; }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #e2e8f0; padding: 0.3rem 0.7rem; text-align: left; }
th { background: #f7fafc; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flag td { background: #fffaf0; }
figure { margin: 1rem 0; } figure img { max-width: 100%; }
figcaption { color: #4a5568; font-size: 0.9rem; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin: 0.8rem 0; }
.card { background: #f7fafc; border: 1px solid #e2e8f0; border-radius: 6px; padding: 0.5rem 1rem; }
.card b { display: block; font-size: 1.3rem; }
.none { color: #4a5568; font-style: italic; }
"""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(figure: Figure, alt: str, caption: str) -> str:
    return (
        f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{_png(figure)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _number(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def _table(frame: pd.DataFrame, numeric: set[str] = frozenset(), flags=None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for index, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            css = ' class="num"' if column in numeric else ""
            text = value if isinstance(value, str) else _number(value)
            cells.append(f"<td{css}>{html.escape(str(text))}</td>")
        flag = ' class="flag"' if flags is not None and flags[index] else ""
        body.append(f"<tr{flag}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _when(value) -> str:
    if value is None or pd.isna(value) or value == "":
        return "no due date"
    return pd.Timestamp(value).tz_convert("UTC").strftime("due %Y-%m-%d %H:%M UTC")


def _histogram(
    values: np.ndarray, maximum: float, title: str, xlabel: str, ylabel: str = "submissions"
) -> Figure:
    figure = Figure(figsize=(7, 3.2))
    axes = figure.subplots()
    bins = np.linspace(0, maximum, int(min(20, max(maximum, 1))) + 1) if maximum > 0 else 10
    axes.hist(values, bins=bins, color=BLUE, edgecolor="white")
    if len(values):
        axes.axvline(float(np.mean(values)), color=ORANGE, linewidth=2, label="mean")
        axes.axvline(float(np.median(values)), color="#1a202c", linestyle="--", label="median")
        axes.legend(frameon=False)
    axes.set_xlim(0, maximum if maximum > 0 else None)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def _item_chart(stats: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(7, 0.35 * len(stats) + 1.2))
    left, right = figure.subplots(1, 2, sharey=True)
    y = np.arange(len(stats))[::-1]
    left.barh(y, stats["difficulty"].fillna(0), color=BLUE)
    left.set_xlim(0, 1)
    left.set_title("difficulty (mean fraction of points)")
    left.set_yticks(y, stats["question"])
    discrimination = stats["discrimination"].fillna(0)
    colors = [ORANGE if d < 0.2 else BLUE for d in discrimination]
    right.barh(y, discrimination, color=colors)
    right.axvline(0.2, color=GREY, linestyle=":")
    right.set_xlim(min(-0.2, float(discrimination.min()) - 0.05), 1)
    right.set_title("discrimination (r with total)")
    for axes in (left, right):
        axes.spines[["top", "right"]].set_visible(False)
    return figure


def _assignment_section(
    gb: Gradebook,
    row,
    scores: pd.DataFrame,
    missing: pd.DataFrame,
    failures: pd.DataFrame,
    points: dict[str, float],
) -> str:
    name = row.name
    mine = scores[scores["assignment"] == name]
    graded = mine[mine["status"] == "graded"]
    parts = [f'<section id="{html.escape(name)}"><h2>{html.escape(row.title or name)}</h2>']
    parts.append(
        f'<p class="meta">{html.escape(name)} · {row.max_points:g} points · '
        f"{_when(row.due_at)}</p>"
    )
    submitted = int((mine["status"] != "missing").sum())
    cards = [
        ("submitted", f"{submitted} / {len(mine)}"),
        ("graded", str(len(graded))),
        ("mean", f"{graded['points'].mean():.1f}" if len(graded) else "—"),
        ("median", f"{graded['points'].median():.1f}" if len(graded) else "—"),
        ("late", str(int((mine["days_late"] > 0).sum()))),
    ]
    parts.append(
        '<div class="cards">'
        + "".join(f'<div class="card">{k}<b>{html.escape(v)}</b></div>' for k, v in cards)
        + "</div>"
    )
    if len(graded):
        parts.append("<h3>Score distribution</h3>")
        parts.append(
            _img(
                _histogram(
                    graded["points"].to_numpy(), row.max_points, "Score distribution", "points"
                ),
                f"histogram of {name} scores",
                f"Points of the {len(graded)} graded submissions, before late penalties.",
            )
        )
        matrix = gb.matrix(name).loc[graded["student"]].fillna(0.0)
        stats = item_statistics(matrix, points)
        parts.append("<h3>Questions</h3>")
        parts.append(_img(_item_chart(stats), f"item analysis of {name}", (
            "Difficulty is the mean fraction of a question's points earned; discrimination "
            "is the correlation of the question's score with the total (orange: below 0.2)."
        )))
        parts.append(
            _table(
                stats,
                numeric={"points", "mean", "median", "difficulty", "discrimination"},
                flags=list(stats["discrimination"].fillna(0) < 0.2),
            )
        )
    else:
        parts.append('<p class="none">No graded submissions yet.</p>')
    failures = failures[failures["assignment"] == name][["student", "status", "message"]]
    parts.append("<h3>Failed to grade</h3>")
    parts.append(
        _table(failures.reset_index(drop=True))
        if len(failures)
        else '<p class="none">Every submission was graded.</p>'
    )
    absent = sorted(missing.loc[missing["assignment"] == name, "student"])
    parts.append("<h3>No submission</h3>")
    parts.append(
        f"<p>{html.escape(', '.join(absent))}</p>"
        if absent
        else '<p class="none">Every student on the roster submitted.</p>'
    )
    parts.append("</section>")
    return "\n".join(parts)


def build_report(gb: Gradebook, policy: Policy | None = None, title: str = "Gradebook") -> str:
    """The report as one HTML document."""
    policy = policy or Policy()
    assignments = gb.assignments()
    scores = gb.assignment_scores(policy)
    missing = gb.missing()
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{_count(len(gb.students()), "student")} · '
        f'{_count(len(assignments), "assignment")} · '
        f"generated {generated}</p>",
        "<nav>"
        + "".join(
            f'<a href="#{html.escape(a)}">{html.escape(a)}</a>' for a in assignments["name"]
        )
        + "</nav>",
    ]
    if len(assignments):
        totals = gb.totals(policy, scores)
        parts.append('<section id="course"><h2>Course</h2>')
        parts.append(
            _img(
                _histogram(
                    totals["total_percent"].to_numpy(),
                    100.0,
                    "Course percentage",
                    "percent",
                    ylabel="students",
                ),
                "histogram of course percentages",
                "After late penalties, overrides, dropped assignments and weights.",
            )
        )
        letters = (
            totals["letter"].value_counts().reindex(list(policy.letters), fill_value=0)
        )
        parts.append(
            _table(
                pd.DataFrame(
                    {
                        "letter": list(letters.index),
                        "from %": [f"{policy.letters[k]:g}" for k in letters.index],
                        "students": [str(v) for v in letters.to_numpy()],
                    }
                ),
                numeric={"from %", "students"},
            )
        )
        parts.append("</section>")
    failures, points = gb.failures(), gb.question_points()
    for row in assignments.itertuples():
        parts.append(
            _assignment_section(gb, row, scores, missing, failures, points.get(row.name, {}))
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
