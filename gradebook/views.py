"""Read-only queries: the gradebook's tables as pandas DataFrames, latest run first.

"Latest" means: for each student and assignment, the submission of the run recorded last
(the highest run id). A regrade of some students adds a run holding only them, so everyone
else keeps their earlier result.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gradebook import schema

__all__ = [
    "latest_runs",
    "students",
    "assignments",
    "questions",
    "runs",
    "latest_submissions",
    "test_scores",
    "question_scores",
    "newest_overrides",
    "newest_extensions",
]


def _frame(engine: Engine, query) -> pd.DataFrame:
    """The query's rows as a DataFrame, built column by column from plain tuples (pandas is
    slow to build one from a million SQLAlchemy ``Row`` objects)."""
    with engine.connect() as conn:
        result = conn.execute(query)
        keys = list(result.keys())
        rows = [tuple(row) for row in result]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in keys]
    return pd.DataFrame({k: list(c) for k, c in zip(keys, columns, strict=True)}, columns=keys)


def latest_runs() -> sa.Subquery:
    """(student, assignment, run_id) of each student's newest submission per assignment."""
    s = schema.submissions
    return (
        sa.select(s.c.student, s.c.assignment, sa.func.max(s.c.run_id).label("run_id"))
        .group_by(s.c.student, s.c.assignment)
        .subquery("latest")
    )


def students(engine: Engine) -> pd.DataFrame:
    return _frame(engine, sa.select(schema.students).order_by(schema.students.c.id))


def assignments(engine: Engine) -> pd.DataFrame:
    """name, title, due_at, position and max_points (the sum over its questions)."""
    a, q = schema.assignments, schema.questions
    points = (
        sa.select(q.c.assignment, sa.func.sum(q.c.max_points).label("max_points"))
        .group_by(q.c.assignment)
        .subquery()
    )
    query = (
        sa.select(a, sa.func.coalesce(points.c.max_points, 0.0).label("max_points"))
        .select_from(a.outerjoin(points, points.c.assignment == a.c.name))
        .order_by(a.c.position, a.c.name)
    )
    return _frame(engine, query)


def questions(engine: Engine, assignment: str | None = None) -> pd.DataFrame:
    q = schema.questions
    query = sa.select(q).order_by(q.c.assignment, q.c.position)
    if assignment is not None:
        query = query.where(q.c.assignment == assignment)
    return _frame(engine, query)


def runs(engine: Engine) -> pd.DataFrame:
    return _frame(engine, sa.select(schema.runs).order_by(schema.runs.c.id))


def latest_submissions(engine: Engine) -> pd.DataFrame:
    """One row per student and assignment: the newest run's status, message and times."""
    s, latest = schema.submissions, latest_runs()
    query = sa.select(
        s.c.student,
        s.c.assignment,
        s.c.run_id,
        s.c.status,
        s.c.message,
        s.c.submitted_at,
        s.c.sha256,
        s.c.points,
        s.c.max_points,
    ).select_from(
        s.join(latest, (s.c.run_id == latest.c.run_id) & (s.c.student == latest.c.student))
    )
    return _frame(engine, query.order_by(s.c.assignment, s.c.student))


def test_scores(engine: Engine, assignment: str | None = None) -> pd.DataFrame:
    """Every test result of the latest runs: the tidy table behind ``Gradebook.scores()``."""
    r, latest = schema.results, latest_runs()
    query = sa.select(
        r.c.student,
        r.c.assignment,
        r.c.question,
        r.c.test,
        r.c.score,
        r.c.max_score,
        r.c.status,
        r.c.message,
        r.c.run_id,
    ).select_from(
        r.join(latest, (r.c.run_id == latest.c.run_id) & (r.c.student == latest.c.student))
    )
    if assignment is not None:
        query = query.where(r.c.assignment == assignment)
    return _frame(engine, query.order_by(r.c.assignment, r.c.student, r.c.id))


def question_scores(
    engine: Engine, assignment: str | None = None, students: Sequence[str] | None = None
) -> pd.DataFrame:
    """student, assignment, question, score: tests summed per question in the database, for
    every student or only ``students``."""
    r, latest = schema.results, latest_runs()
    query = (
        sa.select(
            r.c.student,
            r.c.assignment,
            r.c.question,
            sa.func.sum(r.c.score).label("score"),
        )
        .select_from(
            r.join(latest, (r.c.run_id == latest.c.run_id) & (r.c.student == latest.c.student))
        )
        .group_by(r.c.student, r.c.assignment, r.c.question)
    )
    if assignment is not None:
        query = query.where(r.c.assignment == assignment)
    if students is not None:
        query = query.where(r.c.student.in_(sorted(set(students))))
    return _frame(engine, query)


def _newest(table: sa.Table, key: list[str]) -> sa.Select:
    newest = (
        sa.select(*[table.c[k] for k in key], sa.func.max(table.c.id).label("id"))
        .group_by(*[table.c[k] for k in key])
        .subquery()
    )
    return sa.select(table).join(newest, table.c.id == newest.c.id)


def newest_overrides(engine: Engine) -> pd.DataFrame:
    """The newest override per student, assignment and question (None: the assignment)."""
    o = schema.overrides
    frame = _frame(engine, _newest(o, ["student", "assignment", "question"]).order_by(o.c.id))
    return frame[frame["score"].notna()].reset_index(drop=True)


def newest_extensions(engine: Engine) -> pd.DataFrame:
    e = schema.extensions
    return _frame(engine, _newest(e, ["student", "assignment"]).order_by(e.c.id))
