"""Read the course's own lists: the roster and the assignments' due dates.

Roster CSV: ``id,name,email,github`` and optionally ``section``. GitHub Classroom's roster
(``identifier,github_username,github_id,name``) and nbgrader's (``id,first_name,last_name,
email``) are accepted as they are.

Assignments CSV: ``name,due`` and optionally ``title``; ``due`` is an ISO 8601 time, with its
UTC offset (``2026-10-05T23:59:00+02:00``) or in UTC when it has none.
"""

from __future__ import annotations

import csv
from pathlib import Path

from gradebook.ingest.errors import IngestError
from gradebook.store import to_utc_iso

__all__ = ["read_roster", "read_assignments"]


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise IngestError(f"{path}: not a readable CSV ({error})") from None
    return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in rows]


def _first(row: dict[str, str], *names: str) -> str:
    for name in names:
        if row.get(name):
            return row[name]
    return ""


def read_roster(path: Path) -> list[dict[str, str]]:
    """Students as dicts with ``id``, ``name``, ``email``, ``github`` and ``section``."""
    students = []
    seen = set()
    for number, row in enumerate(_rows(path), start=2):
        student = _first(row, "id", "student_id", "identifier", "github_username")
        if not student:
            raise IngestError(f"{path}, line {number}: no id (columns: id, name, email, github)")
        if student in seen:
            raise IngestError(f"{path}, line {number}: student {student!r} is listed twice")
        seen.add(student)
        name = _first(row, "name") or " ".join(
            x for x in (row.get("first_name", ""), row.get("last_name", "")) if x
        )
        students.append(
            {
                "id": student,
                "name": name,
                "email": _first(row, "email"),
                "github": _first(row, "github", "github_username"),
                "section": _first(row, "section"),
            }
        )
    return students


def read_assignments(path: Path) -> list[dict[str, str | None]]:
    """Assignments as dicts with ``name``, ``title`` and ``due_at`` (UTC ISO 8601 or None)."""
    assignments = []
    for number, row in enumerate(_rows(path), start=2):
        name = _first(row, "name", "assignment")
        if not name:
            raise IngestError(f"{path}, line {number}: no assignment name (columns: name, due)")
        due = _first(row, "due", "due_at", "duedate")
        try:
            due_at = to_utc_iso(due) if due else None
        except ValueError:
            raise IngestError(
                f"{path}, line {number}: due {due!r} is not an ISO 8601 time "
                "(e.g. 2026-10-05T23:59:00+02:00)"
            ) from None
        assignments.append({"name": name, "title": row.get("title", ""), "due_at": due_at})
    return assignments
