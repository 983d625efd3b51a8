"""An nbgrader course graded by any engine: its ``submitted/`` layout in, its gradebook out.

nbgrader keeps a course's submissions as ``submitted/<student>/<ps>/<ps>.ipynb``, with the
time of submission in ``timestamp.txt`` beside the notebook. :func:`find_nbgrader_jobs` makes
one job per student from that layout (only the folder of the problem set being graded, so a
student's other assignments never get in), and :func:`nbgrader_timestamp` reads the time.

:func:`write_nbgrader_gradebook` writes graded results back into the course's
``gradebook.db`` through :class:`nbgrader.api.Gradebook`: the student, the submission (with
its timestamp), and each test's score as the ``auto_score`` of the grade cell whose
``grade_id`` is the test function's name (the cells ``nngrade export nbgrader`` writes). The
course keeps nbgrader's formgrader, manual grading and exchange; the scores come from the
sandboxed grading, and the feedback students get is nngrade's, which never shows a hidden
test.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from autograder.engine.job import Job, ProblemSetTests
from autograder.results import SubmissionResult

__all__ = [
    "find_nbgrader_jobs",
    "is_nbgrader_layout",
    "nbgrader_timestamp",
    "write_nbgrader_gradebook",
]

TIMESTAMP = "timestamp.txt"


def is_nbgrader_layout(folder: Path, ps_name: str) -> bool:
    """Whether ``folder`` looks like nbgrader's ``submitted/``: some ``<student>/<ps>/``
    folder and no ``<student>/<ps>.ipynb``."""
    students = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return any((s / ps_name).is_dir() for s in students) and not any(
        (s / f"{ps_name}.ipynb").is_file() for s in students
    )


def find_nbgrader_jobs(submitted: Path, tests: ProblemSetTests) -> list[Job]:
    """One job per ``submitted/<student>/<ps>/`` folder, sorted by student id."""
    jobs = []
    for student in sorted(submitted.iterdir()):
        folder = student / tests.name
        if student.name.startswith(".") or not folder.is_dir():
            continue
        notebook = folder / f"{tests.name}.ipynb"
        jobs.append(Job(student.name, notebook if notebook.is_file() else None, tests,
                        folder=folder))
    return jobs


def nbgrader_timestamp(notebook: Path) -> datetime | None:
    """The time in nbgrader's ``timestamp.txt`` beside ``notebook``, in UTC, or None."""
    path = notebook.parent / TIMESTAMP
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    text = text.removesuffix("UTC").strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def write_nbgrader_gradebook(db: Path, ps_name: str,
                             results: Iterable[SubmissionResult]) -> int:
    """Record ``results`` in the nbgrader gradebook ``db``; returns the submissions written.

    The assignment must be in the gradebook already (``nbgrader generate_assignment`` of the
    exported source); a test without a grade cell of its name raises ``KeyError``.
    """
    from nbgrader.api import Gradebook, MissingEntry

    if not db.is_file():
        raise FileNotFoundError(f"{db}: no nbgrader gradebook there")
    written = 0
    with Gradebook(f"sqlite:///{db.resolve()}") as gradebook:
        for result in results:
            gradebook.update_or_create_student(result.student)
            when = _parse(result.submitted_at)
            gradebook.update_or_create_submission(
                ps_name, result.student, **({"timestamp": when} if when else {}))
            for test in result.tests:
                try:
                    grade = gradebook.find_grade(test.name, ps_name, ps_name, result.student)
                except MissingEntry:
                    raise KeyError(f"{db}: {ps_name} has no grade cell {test.name!r}; "
                                   "export the problem set again") from None
                grade.auto_score = test.score
            gradebook.db.commit()
            written += 1
    return written


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    when = datetime.fromisoformat(value)
    return when.astimezone(UTC).replace(tzinfo=None)
