"""A submission's ``feedback.md``: its score, the notices, and one table row per test.

Feedback never contains a test's source, its expected values, or a grader traceback: a failing
test contributes only its message.
"""

from __future__ import annotations

from autograder.results import SubmissionResult

__all__ = ["feedback_markdown"]


def feedback_markdown(result: SubmissionResult) -> str:
    lines = [
        f"# Feedback for {result.student}",
        "",
        f"**Score: {result.score:g} / {result.max_score:g}**",
        "",
    ]
    if result.output:
        lines += ["## Notes", ""] + [f"- {line}" for line in result.output] + [""]
    lines += ["## Tests", "", "| question | test | points | result |", "|---|---|---|---|"]
    for t in result.tests:
        outcome = "passed" if t.passed else (t.message or "failed").replace("|", "\\|")
        lines.append(f"| {t.question} | {t.name} | {t.score:g} / {t.max_score:g} | {outcome} |")
    return "\n".join(lines) + "\n"
