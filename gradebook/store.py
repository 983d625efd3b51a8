"""Opening a gradebook and writing grading runs into it, each in one transaction.

Every source (an nngrade results folder, otter's outputs, nbgrader's database, a GitHub
Classroom points CSV) is first read into a :class:`Run`, plain data, and then written by
:func:`record_run`, the only code that writes grading results. So every source gets the same
guarantees:

- **One transaction per run.** A crash or a ``kill -9`` mid-ingest rolls back to the state
  before it, so nothing half-written is ever visible.
- **Idempotent.** A run is identified by the sha256 of its normalised content; ingesting the
  same content again (after a crash, or twice by mistake) records nothing new. Different
  content, say a regrade, is a new run, and the views read the newest one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from autograder.results import status_of_test
from gradebook import schema

__all__ = [
    "Result",
    "Submission",
    "Run",
    "Recorded",
    "open_gradebook",
    "database_url",
    "record_run",
    "now",
    "to_utc_iso",
]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def to_utc_iso(value: str | datetime | None) -> str | None:
    """An ISO 8601 time in UTC, or None. A time without an offset is taken to be UTC."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class Result:
    """One test's outcome. Sources that score whole questions use the question as the test."""

    question: str
    test: str
    score: float
    max_score: float
    message: str = ""

    @property
    def status(self) -> str:
        return status_of_test(self.score, self.max_score)


@dataclass
class Submission:
    student: str
    results: list[Result]
    status: str = "graded"  # graded | malformed | error | missing
    message: str = ""
    submitted_at: str | None = None
    sha256: str = ""


@dataclass
class Run:
    """Everything one grading run says about one assignment, ready to be recorded."""

    assignment: str
    source_kind: str  # nngrade | otter | nbgrader | classroom
    submissions: list[Submission]
    source: str = ""
    engine: str = ""
    engine_version: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    solutions_commit: str = ""
    questions: dict[str, float] = field(default_factory=dict)  # points per question, in order
    due_at: str | None = None  # recorded for the assignment only if it has none yet
    # Roster details a source knows (nbgrader's names, Classroom's usernames), used only for
    # students the gradebook does not know yet.
    student_details: dict[str, dict[str, str]] = field(default_factory=dict)

    def digest(self) -> str:
        """sha256 of every field but ``source``: the same content read from elsewhere is the
        same run. (Written out field by field, because ``dataclasses.asdict`` is slow on a
        run of a million results; a new field must be added here.)"""
        header = {
            "assignment": self.assignment,
            "source_kind": self.source_kind,
            "engine": self.engine,
            "engine_version": self.engine_version,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "solutions_commit": self.solutions_commit,
            "questions": self.questions,
            "due_at": self.due_at,
            "student_details": self.student_details,
        }
        digest = hashlib.sha256(json.dumps(header, sort_keys=True, default=str).encode())
        for s in self.submissions:
            rows = [(r.question, r.test, float(r.score), float(r.max_score), r.message)
                    for r in s.results]
            entry = (s.student, s.status, s.message, s.submitted_at, s.sha256, rows)
            digest.update(repr(entry).encode())  # repr of str/float/None tuples is stable
        return digest.hexdigest()


@dataclass(frozen=True)
class Recorded:
    assignment: str
    run_id: int
    created: bool  # False: this content was already recorded as run_id
    submissions: int
    results: int


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a path to a SQLite file."""
    text = str(target)
    return text if "://" in text else f"sqlite:///{Path(text).expanduser().resolve()}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")  # wait for another writer, don't fail
    cursor.close()


def open_gradebook(target: str | Path) -> Engine:
    """Connect to (and, the first time, create) the gradebook at a path or SQLAlchemy URL."""
    url = database_url(target)
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    schema.metadata.create_all(engine)
    return engine


def _ensure_students(conn: sa.Connection, ids: Iterable[str], details: dict) -> None:
    wanted = set(ids)
    known = set(conn.execute(sa.select(schema.students.c.id)).scalars())
    missing = sorted(wanted - known)
    if missing:
        rows = []
        for student in missing:
            extra = details.get(student, {})
            rows.append(
                {
                    "id": student,
                    "name": extra.get("name", ""),
                    "email": extra.get("email", ""),
                    "github": extra.get("github", ""),
                    "section": extra.get("section", ""),
                    "in_roster": False,
                }
            )
        conn.execute(schema.students.insert(), rows)


def _ensure_assignment(conn: sa.Connection, run: Run) -> None:
    table = schema.assignments
    row = conn.execute(sa.select(table).where(table.c.name == run.assignment)).first()
    if row is None:
        position = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        conn.execute(
            table.insert().values(
                name=run.assignment, title="", due_at=to_utc_iso(run.due_at), position=position
            )
        )
    elif row.due_at is None and run.due_at:
        conn.execute(
            table.update()
            .where(table.c.name == run.assignment)
            .values(due_at=to_utc_iso(run.due_at))
        )
    table = schema.questions
    known = {
        r.name: r
        for r in conn.execute(sa.select(table).where(table.c.assignment == run.assignment))
    }
    for position, (name, points) in enumerate(run.questions.items()):
        if name not in known:
            conn.execute(
                table.insert().values(
                    assignment=run.assignment,
                    name=name,
                    max_points=float(points),
                    position=position,
                )
            )
        elif known[name].max_points != float(points) or known[name].position != position:
            # Points per question describe the assignment as it is graded now.
            conn.execute(
                table.update()
                .where((table.c.assignment == run.assignment) & (table.c.name == name))
                .values(max_points=float(points), position=position)
            )


RESULT_COLUMNS = (
    "run_id", "student", "assignment", "question", "test", "score", "max_score", "status",
    "message",
)
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _insert_results(conn: sa.Connection, run_id: int, run: Run) -> None:
    """Insert the run's results with the driver's ``executemany`` on plain tuples.

    SQLAlchemy's Core insert spends most of its time turning a million dicts into
    parameters; tuples handed to the driver are several times faster (see
    ``benchmarks/gradebook_ingest.py``). Drivers with another parameter style get the Core
    insert.
    """
    rows = [
        (run_id, s.student, run.assignment, r.question, r.test, float(r.score),
         float(r.max_score), r.status, r.message)
        for s in run.submissions
        for r in s.results
    ]
    if not rows:
        return
    mark = _PLACEHOLDERS.get(conn.dialect.paramstyle)
    if mark is None:
        conn.execute(schema.results.insert(), [dict(zip(RESULT_COLUMNS, r, strict=True))
                                              for r in rows])
        return
    sql = (
        f"INSERT INTO {schema.results.name} ({', '.join(RESULT_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(RESULT_COLUMNS))})"
    )
    conn.exec_driver_sql(sql, rows)


def record_run(engine: Engine, run: Run) -> Recorded:
    """Write ``run`` in one transaction, unless the same content is already recorded."""
    digest = run.digest()
    n_results = sum(len(s.results) for s in run.submissions)
    try:
        with engine.begin() as conn:
            existing = conn.execute(
                sa.select(schema.runs.c.id).where(schema.runs.c.source_digest == digest)
            ).scalar()
            if existing is not None:
                return Recorded(
                    run.assignment, existing, False, len(run.submissions), n_results
                )
            _ensure_assignment(conn, run)
            _ensure_students(conn, (s.student for s in run.submissions), run.student_details)
            run_id = conn.execute(
                schema.runs.insert().values(
                    assignment=run.assignment,
                    source_kind=run.source_kind,
                    source=run.source,
                    source_digest=digest,
                    engine=run.engine,
                    engine_version=run.engine_version,
                    started_at=to_utc_iso(run.started_at),
                    finished_at=to_utc_iso(run.finished_at),
                    solutions_commit=run.solutions_commit,
                    recorded_at=now(),
                )
            ).inserted_primary_key[0]
            if run.submissions:
                conn.execute(
                    schema.submissions.insert(),
                    [
                        {
                            "run_id": run_id,
                            "student": s.student,
                            "assignment": run.assignment,
                            "submitted_at": to_utc_iso(s.submitted_at),
                            "status": s.status,
                            "message": s.message,
                            "sha256": s.sha256,
                            "points": float(sum(r.score for r in s.results)),
                            "max_points": float(sum(r.max_score for r in s.results)),
                        }
                        for s in run.submissions
                    ],
                )
            _insert_results(conn, run_id, run)
    except sa.exc.IntegrityError:
        # Another process recorded the same content between our check and our insert.
        with engine.connect() as conn:
            existing = conn.execute(
                sa.select(schema.runs.c.id).where(schema.runs.c.source_digest == digest)
            ).scalar()
        if existing is None:
            raise
        return Recorded(run.assignment, existing, False, len(run.submissions), n_results)
    return Recorded(run.assignment, run_id, True, len(run.submissions), n_results)
