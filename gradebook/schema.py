"""The gradebook's tables (SQLAlchemy Core), for SQLite by default and any SQLAlchemy URL.

History is append-only. Grading never updates or deletes a row: every ingest adds one *run*
with its submissions and results, and the views read, for each student and assignment, the
submission of the run recorded last. Manual scores, overrides and extensions are also added,
never edited: the newest row for the same target wins, so the table is its own audit log
(who, when, why).

::

    students ─┐                    assignments ── questions (points per question)
              ├── submissions ── runs (engine, version, times, solutions commit, source)
              └── results (one row per test: score, max, status, message)
    overrides, extensions: who, when, why; the newest row per target wins
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Times are stored as ISO 8601 text in UTC ("2026-10-05T23:59:00+00:00"): readable in any
# client, identical in SQLite and PostgreSQL, and ordered correctly as text.

students = Table(
    "students",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(300), nullable=False, default=""),
    Column("email", String(300), nullable=False, default=""),
    Column("github", String(200), nullable=False, default=""),
    Column("section", String(200), nullable=False, default=""),
    Column("in_roster", Boolean, nullable=False, default=False),
)

assignments = Table(
    "assignments",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("title", String(300), nullable=False, default=""),
    Column("due_at", String(40), nullable=True),
    Column("position", Integer, nullable=False, default=0),
)

questions = Table(
    "questions",
    metadata,
    Column("assignment", String(200), ForeignKey("assignments.name"), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("max_points", Float, nullable=False),
    Column("position", Integer, nullable=False, default=0),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment", String(200), ForeignKey("assignments.name"), nullable=False),
    Column("source_kind", String(40), nullable=False),  # nngrade, otter, nbgrader, classroom[50]
    Column("source", Text, nullable=False, default=""),  # the path it was read from
    # sha256 of the normalised content: ingesting the same content twice records one run.
    Column("source_digest", String(64), nullable=False, unique=True),
    Column("engine", String(80), nullable=False, default=""),
    Column("engine_version", String(80), nullable=False, default=""),
    Column("started_at", String(40), nullable=True),
    Column("finished_at", String(40), nullable=True),
    Column("solutions_commit", String(64), nullable=False, default=""),
    Column("recorded_at", String(40), nullable=False),
)

submissions = Table(
    "submissions",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("student", String(200), ForeignKey("students.id"), primary_key=True),
    Column("assignment", String(200), ForeignKey("assignments.name"), nullable=False),
    Column("submitted_at", String(40), nullable=True),
    Column("status", String(40), nullable=False),  # graded | malformed | error | missing
    Column("message", Text, nullable=False, default=""),
    Column("sha256", String(64), nullable=False, default=""),
    # The sum of the submission's result scores and maxima, stored once at ingest (results
    # never change), so that totals never scan the results table.
    Column("points", Float, nullable=False, default=0.0),
    Column("max_points", Float, nullable=False, default=0.0),
    Index("ix_submissions_student_assignment", "student", "assignment"),
)

results = Table(
    "results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("student", String(200), nullable=False),
    Column("assignment", String(200), nullable=False),  # the run's, repeated for queries
    Column("question", String(200), nullable=False),
    Column("test", String(300), nullable=False),
    Column("score", Float, nullable=False),
    Column("max_score", Float, nullable=False),
    Column("status", String(20), nullable=False),  # passed | failed
    Column("message", Text, nullable=False, default=""),
    # Every result belongs to a recorded submission: one key to check per row, which keeps
    # bulk ingest fast, and it implies the run, the student and the assignment exist.
    ForeignKeyConstraint(
        ["run_id", "student"], ["submissions.run_id", "submissions.student"]
    ),
    UniqueConstraint("run_id", "student", "test", name="uq_results_run_student_test"),
)

overrides = Table(
    "overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student", String(200), ForeignKey("students.id"), nullable=False),
    Column("assignment", String(200), ForeignKey("assignments.name"), nullable=False),
    # A question: a manual score for it (a written answer, a regrade request). None: the
    # assignment's final points, which no late penalty touches.
    Column("question", String(200), nullable=True),
    Column("score", Float, nullable=True),  # None withdraws an earlier override
    Column("author", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

extensions = Table(
    "extensions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("student", String(200), ForeignKey("students.id"), nullable=False),
    Column("assignment", String(200), ForeignKey("assignments.name"), nullable=False),
    Column("days", Float, nullable=False),  # added to the due date for this student
    Column("author", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)
