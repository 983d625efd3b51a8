"""``--engine otter``: otter's own grading, reported in the same contract as the nngrade engine.

otter runs the tests inside the student's kernel (see :mod:`autograder.engine.otter_runner`),
so it is only as trustworthy as the submission; it is here for comparison and for instructors
who already rely on it. Its failure messages quote the failing line of the test, hidden tests
included; only the final assertion message is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from autograder.engine.base import EngineSettings, installed_version
from autograder.engine.job import Job
from autograder.engine.otter_runner import OtterGradingError, grade_with_otter
from autograder.engine.sandbox import SandboxLimits
from autograder.engine.submission import MalformedSubmission, read_submission
from autograder.engine.test_files import Question
from autograder.results import ERROR, MALFORMED, SubmissionResult, TestResult

__all__ = ["OtterEngine", "grade_with_otter_engine"]


class OtterEngine:
    """otter's ``grade_submission`` as an :class:`~autograder.engine.base.Engine`. It runs
    no sandbox, so the machine's sandbox settings and the limits do not apply to it, except
    ``compute_threads`` (the kernel's numeric-library threads)."""

    name = "otter"

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings

    def version(self) -> str:
        return installed_version("otter-grader")

    def host_problems(self) -> list[str]:
        return ["otter runs the tests inside the student's kernel, with no sandbox and no limits"]

    def grade(self, job: Job, limits: SandboxLimits) -> SubmissionResult:
        if job.notebook is None:
            raise ValueError(f"{job.student}: a job without a notebook is the runner's to grade")
        tests = job.problem_set
        return grade_with_otter_engine(
            job.student, job.notebook, tests.autograder_zip, tests.questions(), limits.thread_env
        )


def _last_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    return last.split(":", 1)[1].strip() if last.startswith("AssertionError:") else last


def _message(case: dict | None, passed: bool) -> str:
    """What the student reads for one otter test case: nothing when it passed, its final
    assertion message when it failed (so a failed 0-point check reads as failed too)."""
    if passed:
        return ""
    if case is None:
        return "otter did not run this check"
    return _last_line(case.get("message") or "") or "the check failed"


def grade_with_otter_engine(
    student: str, notebook: Path, autograder_zip: Path, questions: Sequence[Question],
    env: Mapping[str, str] | None = None,
) -> SubmissionResult:
    """Grade ``notebook`` with otter; one result per test of ``questions``, in their order.
    ``env``: variables for otter's kernel (:func:`grade_with_otter`)."""

    def zero(message: str, status: str) -> SubmissionResult:
        result = SubmissionResult.ungraded(student, questions, message, status)
        result.sandboxed = False
        return result

    try:
        submission = read_submission(notebook)
    except MalformedSubmission as error:
        return zero(f"This notebook could not be graded: {error}.", MALFORMED)
    try:
        grade = grade_with_otter(notebook, autograder_zip, env=env)
    except OtterGradingError as error:
        return zero(f"otter could not grade this notebook: {str(error)[-300:]}", ERROR)
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
                    _message(case, passed),
                )
            )
    return SubmissionResult(
        student,
        tests,
        sha256=submission.sha256,
        sandboxed=False,
        output=["Graded by otter inside the submission's own kernel."],
    )
