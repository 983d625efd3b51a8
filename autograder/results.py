"""The results contract: what grading one submission produced, and its files on disk.

Every engine returns a :class:`SubmissionResult`; this module alone turns it into
``<student>/results.json`` and reads it back, and alone writes a batch's ``summary.csv``.
The gradebook reads results through :func:`read_results` too, so writer and reader cannot
drift apart.

``results.json`` is Gradescope's format: ``score``, ``output`` and one entry per test with
``name`` (``"<question>: <test>"``), ``score``, ``max_score``, ``status``, ``output`` and
``visibility``. nngrade's own fields are under ``extra_data``: the student, the problem set,
the engine and its version, the submission's sha256 and digest, the tests' fingerprint, the
submission's status, whether it ran sandboxed, the seconds it took, when it was submitted and
graded, the git commit the submission is (``submission_commit``, for a student's repository),
the commit of the problem set's master (``solutions_commit``), the notices shown in ``output``
as a list, and the points per question.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from autograder.atomic import atomic_write

__all__ = [
    "GRADED",
    "MALFORMED",
    "ERROR",
    "SUBMISSION_STATUSES",
    "RESULTS_FILE",
    "FEEDBACK_FILE",
    "FEEDBACK_HTML_FILE",
    "SUMMARY_FILE",
    "ResultsFormatError",
    "TestResult",
    "SubmissionResult",
    "status_of_test",
    "read_results",
    "write_results",
    "write_summary",
]

#: A submission's status: its notebook ran and was tested ...
GRADED = "graded"
#: ... it is not a notebook that can be graded (the output says why) ...
MALFORMED = "malformed"
#: ... or the engine could not grade it (otter failed on it, say).
ERROR = "error"
SUBMISSION_STATUSES = (GRADED, MALFORMED, ERROR)

RESULTS_FILE = "results.json"
FEEDBACK_FILE = "feedback.md"
FEEDBACK_HTML_FILE = "feedback.html"
SUMMARY_FILE = "summary.csv"
VISIBLE, HIDDEN = "visible", "after_published"


class ResultsFormatError(ValueError):
    """A file or document that is not a results.json this contract can read."""


def status_of_test(score: float, max_score: float, message: str = "") -> str:
    """A test's status, the one definition: ``"failed"`` when it earned less than its maximum
    or left a message (a 0-point check that failed earns its maximum, 0, and still failed),
    else ``"passed"`` (a score above the maximum is extra credit from another source)."""
    return "failed" if score < max_score or message else "passed"


@dataclass
class TestResult:
    """One test's outcome. ``message`` is what the student reads; empty when it passed."""

    __test__ = False  # not a pytest test class

    question: str
    name: str
    score: float
    max_score: float
    hidden: bool
    message: str = ""

    @property
    def status(self) -> str:
        return status_of_test(self.score, self.max_score, self.message)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": f"{self.question}: {self.name}",
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "output": self.message,
            "visibility": HIDDEN if self.hidden else VISIBLE,
        }

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> TestResult:
        question, _, name = str(entry.get("name", "")).partition(": ")
        return cls(
            question=question,
            name=name or question,
            score=float(entry.get("score") or 0.0),
            max_score=float(entry["max_score"]),
            hidden=str(entry.get("visibility", VISIBLE)) != VISIBLE,
            message=str(entry.get("output") or ""),
        )


class _QuestionLike(Protocol):
    name: str

    @property
    def points(self) -> float: ...


@dataclass
class SubmissionResult:
    """Everything grading one submission produced. The engine fills in the grading (tests,
    sha256, status, notices, sandboxed, seconds); the runner adds where it came from."""

    student: str
    tests: list[TestResult]
    sha256: str = ""
    status: str = GRADED
    output: list[str] = field(default_factory=list)  # notices for the student and instructor
    sandboxed: bool = True
    seconds: float = 0.0
    problem_set: str = ""
    engine: str = ""
    engine_version: str = ""
    submission_digest: str = ""  # sha256 over the notebook and the files graded with it
    tests_fingerprint: str = ""
    submitted_at: str | None = None  # ISO 8601 with offset
    submission_commit: str = ""  # the git commit graded, for a student's repository; else ""
    graded_at: str | None = None
    solutions_commit: str = ""  # commit of the problem set's master, "dirty", or ""
    manual: dict[str, float] = field(default_factory=dict)  # hand-graded questions: points
    #: Which limits were enforced and how (``{"memory": "cgroup v1 ...", "user": ...}``).
    enforcement: dict[str, str] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    def question_maxima(self) -> dict[str, float]:
        """The autograded points each question can earn, in the tests' order."""
        maxima: dict[str, float] = {}
        for t in self.tests:
            maxima[t.question] = maxima.get(t.question, 0.0) + t.max_score
        return maxima

    def question_scores(self) -> dict[str, float]:
        scores: dict[str, float] = {}
        for t in self.tests:
            scores[t.question] = scores.get(t.question, 0.0) + t.score
        return scores

    @classmethod
    def ungraded(
        cls,
        student: str,
        questions: Iterable[Any],
        message: str,
        status: str = MALFORMED,
    ) -> SubmissionResult:
        """Every test of ``questions`` at zero with ``message``: for a submission that could
        not be graded."""
        tests = [
            TestResult(t.question, t.name, 0.0, t.points, t.hidden, message)
            for q in questions
            for t in q.tests
        ]
        return cls(student, tests, status=status, output=[message])

    # ---------------------------------------------------------------- results.json

    def to_json(self) -> dict[str, Any]:
        """The results.json document."""
        return {
            "score": self.score,
            "output": "\n".join(self.output),
            "tests": [t.to_json() for t in self.tests],
            "extra_data": {
                "student": self.student,
                "problem_set": self.problem_set,
                "engine": self.engine,
                "engine_version": self.engine_version,
                "status": self.status,
                "sha256": self.sha256,
                "submission_digest": self.submission_digest,
                "tests_fingerprint": self.tests_fingerprint,
                "sandboxed": self.sandboxed,
                "seconds": round(self.seconds, 3),
                "submitted_at": self.submitted_at,
                "submission_commit": self.submission_commit,
                "graded_at": self.graded_at,
                "solutions_commit": self.solutions_commit,
                "notices": list(self.output),
                "questions": self.question_scores(),
                "question_max_scores": self.question_maxima(),
                "manual_questions": dict(self.manual),
                "enforcement": dict(self.enforcement),
            },
        }

    @classmethod
    def from_json(cls, document: Any) -> SubmissionResult:
        """Read a results.json document, including those written before this contract (no
        ``notices``, no ``solutions_commit``, no ``submission_commit``). Entries of ``tests``
        without ``max_score`` are Gradescope notices, not tests, and are skipped. Raises
        :class:`ResultsFormatError`."""
        if not isinstance(document, dict) or not isinstance(document.get("tests"), list):
            raise ResultsFormatError("has no list of tests; is it an nngrade results.json?")
        extra = document.get("extra_data") or {}
        if not isinstance(extra, dict):
            raise ResultsFormatError("its extra_data is not an object")
        try:
            tests = [
                TestResult.from_json(t)
                for t in document["tests"]
                if isinstance(t, dict) and "max_score" in t
            ]
        except (TypeError, ValueError) as error:
            raise ResultsFormatError(f"a test has a score that is not a number ({error})") from None
        notices = extra.get("notices")
        if not isinstance(notices, list):
            text = str(document.get("output") or "")
            notices = text.split("\n") if text else []

        def text_or_none(key: str) -> str | None:
            value = extra.get(key)
            return None if value is None else str(value)

        return cls(
            student=str(extra.get("student", "")),
            tests=tests,
            sha256=str(extra.get("sha256", "")),
            status=str(extra.get("status", GRADED)),
            output=[str(line) for line in notices],
            sandboxed=bool(extra.get("sandboxed", True)),
            seconds=float(extra.get("seconds") or 0.0),
            problem_set=str(extra.get("problem_set", "")),
            engine=str(extra.get("engine", "nngrade")),  # the only engine before the key
            engine_version=str(extra.get("engine_version", "")),
            submission_digest=str(extra.get("submission_digest", "")),
            tests_fingerprint=str(extra.get("tests_fingerprint", "")),
            submitted_at=text_or_none("submitted_at"),
            submission_commit=str(extra.get("submission_commit") or ""),
            graded_at=text_or_none("graded_at"),
            solutions_commit=str(extra.get("solutions_commit", "")),
            manual={str(q): float(p) for q, p in (extra.get("manual_questions") or {}).items()},
            enforcement={str(k): str(v) for k, v in (extra.get("enforcement") or {}).items()},
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n"


# ------------------------------------------------------------------ files


def read_results(path: Path) -> SubmissionResult:
    """A results.json file. Raises :class:`ResultsFormatError` saying what is wrong."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ResultsFormatError(f"not a readable results.json ({error})") from None
    return SubmissionResult.from_json(document)


def write_results(
    result: SubmissionResult, folder: Path, feedback: str, feedback_html: str | None = None
) -> None:
    """``folder/feedback.md`` (the text given), ``folder/feedback.html`` (when given) and
    ``folder/results.json``, each replaced atomically. results.json is written last: its
    presence marks the submission graded."""
    atomic_write(folder / FEEDBACK_FILE, feedback)
    if feedback_html is not None:
        atomic_write(folder / FEEDBACK_HTML_FILE, feedback_html)
    atomic_write(folder / RESULTS_FILE, result.dumps())


def write_summary(out: Path, students: Sequence[str], questions: Sequence[_QuestionLike]) -> Path:
    """``out/summary.csv``: student, one column per question, total, max, status; a student
    without a readable results.json is "not graded"."""
    names = [q.name for q in questions]
    maximum = sum(q.points for q in questions)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", *names, "total", "max", "status"])
    for student in students:
        try:
            result = read_results(out / student / RESULTS_FILE)
        except ResultsFormatError:
            writer.writerow([student, *[""] * len(names), "", maximum, "not graded"])
            continue
        scores = result.question_scores()
        writer.writerow(
            [student, *[scores.get(n, 0.0) for n in names], result.score, maximum, result.status]
        )
    path = out / SUMMARY_FILE
    atomic_write(path, buffer.getvalue())
    return path
