"""Read a GitHub Classroom grades CSV: one row per student with the autograding points.

GitHub Classroom's "Download grades" (and ``gh classroom assignment-grades``) writes::

    assignment_name,assignment_url,starter_code_url,github_username,roster_identifier,
    student_repository_name,student_repository_url,submission_timestamp,points_awarded,
    points_available[,group_name]

Only ``github_username`` (or ``roster_identifier``), ``points_awarded`` and
``points_available`` are required, so a hand-made ``github_username,points_awarded,
points_available`` file works too. The points are the public autograding tests' total, so each
row becomes one result, ``autograding``. A student is matched to the roster by GitHub username,
then by roster identifier (id or email); an unknown student is recorded under the username.
A row with no submission timestamp and no points is a student who accepted the assignment but
never pushed: recorded as ``missing``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path

from gradebook.ingest.errors import IngestError
from gradebook.store import Result, Run, Submission

__all__ = ["read_classroom_csv", "read_csv_rows", "QUESTION"]

QUESTION = "autograding"


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV export (a byte-order mark allowed), at least one; raises
    :class:`IngestError` for a file that cannot be read as CSV or holds no row."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise IngestError(f"{path}: not a readable CSV ({error})") from None
    if not rows:
        raise IngestError(f"{path}: no rows")
    return rows

def _points(value: str | None, where: str) -> float:
    text = (value or "").strip()
    if not text:
        return 0.0
    try:
        number = float(text)
    except ValueError:
        raise IngestError(f"{where}: points {text!r} is not a number") from None
    if math.isnan(number) or number < 0:
        raise IngestError(f"{where}: points {text!r} must be a number ≥ 0")
    return number


def read_classroom_csv(
    path: Path,
    assignment: str | None = None,
    known_students: Mapping[str, str] | None = None,
) -> list[Run]:
    """One run per assignment named in the file (or all rows under ``assignment``).

    ``known_students`` maps GitHub usernames, ids and emails (lower case) to student ids.
    """
    path = Path(path)
    known = {k.lower(): v for k, v in (known_students or {}).items()}
    rows = read_csv_rows(path)
    columns = set(rows[0])
    if not {"points_awarded", "points_available"} <= columns or not (
        {"github_username", "roster_identifier"} & columns
    ):
        raise IngestError(
            f"{path}: not a GitHub Classroom grades CSV (needs github_username or "
            "roster_identifier, points_awarded and points_available)"
        )
    by_assignment: dict[str, list[Submission]] = {}
    details: dict[str, dict[str, str]] = {}
    points_available: dict[str, float] = {}
    for number, row in enumerate(rows, start=2):
        where = f"{path}, line {number}"
        username = (row.get("github_username") or "").strip()
        identifier = (row.get("roster_identifier") or "").strip()
        if not username and not identifier:
            raise IngestError(f"{where}: no github_username and no roster_identifier")
        student = known.get(username.lower()) or known.get(identifier.lower()) or (
            username or identifier
        )
        name = assignment or (row.get("assignment_name") or "").strip()
        if not name:
            raise IngestError(f"{where}: no assignment_name; give the assignment explicitly")
        awarded = _points(row.get("points_awarded"), where)
        available = _points(row.get("points_available"), where)
        points_available[name] = max(points_available.get(name, 0.0), available)
        timestamp = (row.get("submission_timestamp") or "").strip() or None
        submitted = timestamp is not None or awarded > 0
        by_assignment.setdefault(name, []).append(
            Submission(
                student=student,
                results=[Result(QUESTION, QUESTION, awarded, available)],
                status="graded" if submitted else "missing",
                message="" if submitted else "No push to the assignment repository.",
                submitted_at=timestamp,
            )
        )
        if username:
            details[student] = {"github": username}
    for name, submissions in by_assignment.items():
        for submission in submissions:  # rows of students who never pushed often say 0 / 0
            for result in submission.results:
                result.max_score = points_available[name]
    return [
        Run(
            assignment=name,
            source_kind="classroom",
            source=str(path.resolve()),
            submissions=submissions,
            engine="github-classroom",
            questions={QUESTION: points_available[name]},
            student_details=details,
        )
        for name, submissions in by_assignment.items()
    ]
