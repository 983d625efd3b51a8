"""``--engine otter``: otter's own grading, reported in the same files as the nngrade engine.

otter runs the tests inside the student's kernel (see ``autograder.otter_grading``), so it is
only as trustworthy as the submission; it is here for comparison and for instructors who
already rely on it. Its failure messages quote the failing line of the test, hidden tests
included; only the final assertion message is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from autograder.engine.grade import SubmissionResult, TestResult
from autograder.engine.submission import MalformedSubmission, read_submission
from autograder.engine.test_files import Question
from autograder.otter_grading import OtterGradingError, grade_with_otter

__all__ = ["grade_with_otter_engine"]


def _last_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    return last.split(":", 1)[1].strip() if last.startswith("AssertionError:") else last


def grade_with_otter_engine(
    student: str, notebook: Path, autograder_zip: Path, questions: Sequence[Question]
) -> SubmissionResult:
    def zero(message: str, status: str) -> SubmissionResult:
        result = SubmissionResult.ungraded(student, questions, message, status)
        result.sandboxed = False
        return result

    try:
        submission = read_submission(notebook)
    except MalformedSubmission as error:
        return zero(f"This notebook could not be graded: {error}.", "malformed")
    try:
        grade = grade_with_otter(notebook, autograder_zip)
    except OtterGradingError as error:
        return zero(f"otter could not grade this notebook: {str(error)[-300:]}", "error")
    tests = []
    for question in questions:
        cases = grade["questions"].get(question.name, {}).get("tests", [])
        for index, test in enumerate(question.tests):
            case = cases[index] if index < len(cases) else None
            passed = bool(case and case["passed"])
            tests.append(
                TestResult(
                    test.question,
                    test.name,
                    test.points if passed else 0.0,
                    test.points,
                    test.hidden,
                    "" if passed or case is None else _last_line(case["message"]),
                )
            )
    return SubmissionResult(
        student,
        tests,
        sha256=submission.sha256,
        sandboxed=False,
        output=["Graded by otter inside the submission's own kernel."],
    )
