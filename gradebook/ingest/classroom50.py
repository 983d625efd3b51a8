"""Read Classroom 50's ``scores.csv``: the points each push earned from the public checks.

``gh teacher download ORG CLASSROOM ASSIGNMENT`` writes, next to the clones::

    username,first_name,last_name,email,section,score,max_score,datetime,submission_tag,
    submitted_by,review_url,late,override

one line per submission, newest first within each student, and one line with empty scores for
a student who never submitted. The file does not name the assignment, so it is given. Each
student's newest submission (the first of their lines) becomes one result, ``autograding``,
as for the GitHub Classroom reader (:mod:`gradebook.ingest.classroom`): these are public
checks only, the hidden tests' grading comes from ``nngrade grade`` or ``nngrade collect``.
Students are matched to the roster by GitHub username, then email; an unknown one is
recorded under the username with the file's name, email and section.

``datetime`` is the commit's committer date, which the student's machine sets; it is recorded
as the time of submission, but lateness that matters should be judged on push times (see the
README, "GitHub Actions and Classroom 50"). A cell the download guarded against spreadsheet
formulas (a leading ``'`` before ``= + - @``) is read back without the guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gradebook.ingest.classroom import QUESTION, _points, read_csv_rows
from gradebook.ingest.errors import IngestError
from gradebook.store import Result, Run, Submission

__all__ = ["read_classroom50_scores", "COLUMNS"]

COLUMNS = ("username", "first_name", "last_name", "email", "section", "score", "max_score",
           "datetime", "submission_tag", "submitted_by", "review_url", "late", "override")
_REQUIRED = {"username", "score", "max_score", "datetime"}


def _cell(row: dict[str, str | None], column: str) -> str:
    text = (row.get(column) or "").strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def read_classroom50_scores(
    path: Path, assignment: str | None, known_students: Mapping[str, str] | None = None
) -> list[Run]:
    """One run for ``assignment`` (required: the file does not name it).

    ``known_students`` maps GitHub usernames, ids and emails (lower case) to student ids."""
    path = Path(path)
    if not assignment:
        raise IngestError(f"{path}: Classroom 50's scores.csv does not name the assignment; "
                          "give it (--assignment)")
    known = {k.lower(): v for k, v in (known_students or {}).items()}
    rows = read_csv_rows(path)
    if not _REQUIRED <= set(rows[0]):
        raise IngestError(f"{path}: not a Classroom 50 scores.csv (needs "
                          f"{', '.join(sorted(_REQUIRED))})")
    newest: dict[str, tuple[int, dict[str, str | None]]] = {}
    for number, row in enumerate(rows, start=2):
        username = _cell(row, "username")
        if not username:
            raise IngestError(f"{path}, line {number}: no username")
        newest.setdefault(username.lower(), (number, row))  # the first line is the newest
    points_available = max(
        (_points(_cell(row, "max_score"), f"{path}, line {n}") for n, row in newest.values()),
        default=0.0,
    )
    submissions, details = [], {}
    for number, row in newest.values():
        where = f"{path}, line {number}"
        username = _cell(row, "username")
        email = _cell(row, "email")
        student = known.get(username.lower()) or (known.get(email.lower()) if email else None)
        student = student or username
        score_text = _cell(row, "score")
        when = _cell(row, "datetime") or None
        submitted = bool(score_text) or when is not None
        notes = []
        if _cell(row, "late").lower() == "true":
            notes.append("Classroom 50 marked this submission late.")
        if _cell(row, "override").lower() == "true":
            notes.append("Its score was overridden in Classroom 50.")
        if tag := _cell(row, "submission_tag"):
            notes.append(f"Submission {tag}.")
        submissions.append(
            Submission(
                student=student,
                results=[Result(QUESTION, QUESTION, _points(score_text, where), points_available)],
                status="graded" if submitted else "missing",
                message=" ".join(notes) if submitted else "No submission in Classroom 50.",
                submitted_at=when,
            )
        )
        name = " ".join(x for x in (_cell(row, "first_name"), _cell(row, "last_name")) if x)
        details[student] = {"github": username, "name": name, "email": email,
                            "section": _cell(row, "section")}  # fmt: skip
    return [
        Run(
            assignment=assignment,
            source_kind="classroom50",
            source=str(path.resolve()),
            submissions=submissions,
            engine="classroom50",
            questions={QUESTION: points_available},
            student_details=details,
        )
    ]
