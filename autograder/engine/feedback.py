"""What a student reads about a graded submission: ``feedback.md`` and ``feedback.html``.

The feedback is laid out per question: the points earned of those possible, and each failed
check with its whole message, then the questions still to be graded by hand with their
points. The same information is in ``results.json`` (:mod:`autograder.results`), so both
engines' feedback has this one layout.

This module also holds the two text helpers the engines use for what a student reads:
:func:`whole_message` caps a message at a sentence boundary, never mid-sentence, and
:func:`cell_place` names a notebook cell by the question it belongs to and its first line.

Feedback never contains a test's source, its expected values, or a grader traceback: a failing
test contributes only its message.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from autograder.results import SubmissionResult, TestResult

__all__ = [
    "CUT_MARKER",
    "feedback_markdown",
    "feedback_html",
    "manual_questions",
    "whole_message",
    "cell_place",
    "question_label",
]

#: Put where a message too long to show whole was cut, after its last whole sentence.
CUT_MARKER = "[…]"
_SENTENCE_END = re.compile(r"[.!?;:](?=\s)")


def whole_message(text: str, limit: int) -> str:
    """``text`` on one line, whole when it has at most ``limit`` characters; otherwise cut
    after its last whole sentence that fits (or, with none, its last whole word) and marked
    with :data:`CUT_MARKER`."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    room = max(limit - len(CUT_MARKER) - 1, 1)
    head = text[: room + 1]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends:
        cut = head[: ends[-1]]
    else:
        cut = head[:room].rsplit(" ", 1)[0] if " " in head[:room] else head[:room]
    return f"{cut.rstrip()} {CUT_MARKER}"


def question_label(question: str) -> str:
    """``q3a`` becomes ``question 3a``, as the notebook numbers it; other names stay."""
    match = re.fullmatch(r"q(\d\w*)", question)
    return f"question {match.group(1)}" if match else question


def cell_place(question: str | None, source: str, after: bool = False) -> str:
    """A code cell as a student finds it in the notebook: the question it is under and its
    first line, e.g. "the cell under question 4 that starts `or_w, or_b = ...`"."""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    if len(first) > 60:
        first = first[:57].rstrip() + "..."
    first = first.replace("`", "'")
    if question is None:
        where = "the cell"
    elif after:
        where = f"the cell after {question_label(question)}"
    else:
        where = f"the cell under {question_label(question)}"
    return f"{where} that starts `{first}`"


_QUESTION_CELL = re.compile(
    r"^# # BEGIN QUESTION\n(?P<body>(?:# .*\n)+)", re.MULTILINE
)


def manual_questions(master: Path) -> dict[str, float]:
    """The questions of a master notebook (jupytext percent, otter-assign format) that are
    graded by hand, with their points: ``{"q7": 2.0}``."""
    manual: dict[str, float] = {}
    for match in _QUESTION_CELL.finditer(Path(master).read_text(encoding="utf-8")):
        config: dict[str, str] = {}
        for line in match.group("body").splitlines():
            key, _, value = line[2:].partition(":")
            config[key.strip()] = value.strip()
        if config.get("manual", "").lower() == "true" and config.get("name"):
            manual[config["name"]] = float(config.get("points") or 0)
    return manual


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def _score_line(result: SubmissionResult) -> str:
    """"Score: 34 of 38 autograded; 2 more points are graded by hand (q7), 40 in all." """
    line = f"**Score: {result.score:g} of {result.max_score:g} autograded"
    if not result.manual:
        return line + ".**"
    manual = sum(result.manual.values())
    more = f"{manual:g} more point" + (" is" if manual == 1 else "s are")
    names = ", ".join(result.manual)
    return (f"{line}; {more} graded by hand ({names}),"
            f" {result.max_score + manual:g} in all.**")


def _failed(tests: list[TestResult]) -> list[TestResult]:
    return [t for t in tests if t.status == "failed"]


def _by_question(result: SubmissionResult) -> dict[str, list[TestResult]]:
    questions: dict[str, list[TestResult]] = {}
    for t in result.tests:
        questions.setdefault(t.question, []).append(t)
    return questions


def _check_name(test: TestResult) -> str:
    kind = "hidden test" if test.hidden else "check"
    worth = f", {_points(test.max_score)}" if test.max_score else ", 0 points"
    return f"{kind} `{test.name}`{worth}"


def feedback_markdown(result: SubmissionResult) -> str:
    """The feedback as Markdown: score, notes, one line per question, then what to fix."""
    lines = [f"# Feedback for {result.student}", "", _score_line(result), ""]
    if result.output:
        lines += ["## Notes", ""] + [f"- {line}" for line in result.output] + [""]
    questions = _by_question(result)
    lines += ["## Questions", "", "| question | points | checks failed |", "|---|---|---|"]
    for question, tests in questions.items():
        earned, possible = sum(t.score for t in tests), sum(t.max_score for t in tests)
        failed = len(_failed(tests))
        lines.append(f"| {question} | {earned:g} of {possible:g} | {failed or ''} |")
    for question, points in result.manual.items():
        lines.append(f"| {question} | graded by hand ({_points(points)}) | |")
    lines.append("")
    to_fix = {q: _failed(tests) for q, tests in questions.items() if _failed(tests)}
    if to_fix:
        lines += ["## What to fix", ""]
        for question, failed in to_fix.items():
            tests = questions[question]
            earned, possible = sum(t.score for t in tests), sum(t.max_score for t in tests)
            lines += [f"### {question}: {earned:g} of {possible:g}", ""]
            lines += [f"- {_check_name(t)}: {t.message or 'failed'}" for t in failed]
            lines.append("")
    else:
        lines += ["Every autograded check passed.", ""]
    return "\n".join(lines)


def feedback_html(result: SubmissionResult) -> str:
    """The same feedback as one self-contained HTML page (no scripts, no external files)."""
    def text(value: str) -> str:
        escaped = html.escape(value)
        escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)

    body = [
        f"<h1>Feedback for {html.escape(result.student)}</h1>",
        f"<p>{text(_score_line(result))}</p>",
    ]
    if result.output:
        body.append("<h2>Notes</h2><ul>" + "".join(f"<li>{text(n)}</li>" for n in result.output)
                    + "</ul>")
    questions = _by_question(result)
    rows = []
    for question, tests in questions.items():
        earned, possible = sum(t.score for t in tests), sum(t.max_score for t in tests)
        failed = _failed(tests)
        items = "".join(f"<li>{text(_check_name(t))}: {text(t.message or 'failed')}</li>"
                        for t in failed)
        rows.append(f"<tr><td>{html.escape(question)}</td><td>{earned:g} of {possible:g}</td>"
                    f"<td>{'<ul>' + items + '</ul>' if items else ''}</td></tr>")
    for question, points in result.manual.items():
        rows.append(f"<tr><td>{html.escape(question)}</td>"
                    f"<td>graded by hand ({_points(points)})</td><td></td></tr>")
    body.append("<h2>Questions</h2><table><tr><th>question</th><th>points</th>"
                "<th>what to fix</th></tr>" + "".join(rows) + "</table>")
    style = ("body{font-family:sans-serif;max-width:50em;margin:2em auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;"
             "vertical-align:top;text-align:left}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Feedback for "
            f"{html.escape(result.student)}</title><style>{style}</style></head><body>"
            + "".join(body) + "</body></html>\n")
