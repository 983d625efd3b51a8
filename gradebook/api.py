"""``Gradebook``: the pandas face of the store.

>>> gb = Gradebook("course/gradebook.db")          # or any SQLAlchemy URL
>>> gb.import_roster("roster.csv")
>>> gb.ingest("nngrade", "results/ps1-perceptron")   # an ``nngrade grade`` results folder
>>> gb.scores()                                      # tidy: one row per test result
>>> gb.matrix("ps1-perceptron")                      # students × questions
>>> gb.totals(Policy.from_yaml("policy.yaml"))       # course percentage and letter
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from gradebook import schema, views
from gradebook.ingest import (
    read_assignments,
    read_classroom50_scores,
    read_classroom_csv,
    read_nbgrader,
    read_nngrade_results,
    read_otter_final_grades,
    read_otter_results,
    read_roster,
)
from gradebook.ingest.errors import IngestError
from gradebook.policy import Policy
from gradebook.store import Recorded, Run, now, open_gradebook, record_run, to_utc_iso
from gradebook.totals import assignment_scores, course_totals

__all__ = ["Gradebook", "SOURCES"]

SOURCES = ("nngrade", "otter-csv", "otter-json", "nbgrader", "classroom", "classroom50")


class Gradebook:
    """A course gradebook at a SQLite path or any SQLAlchemy URL (created on first use)."""

    def __init__(self, url: str | Path) -> None:
        self.engine = open_gradebook(url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def import_roster(self, path: Path) -> int:
        """Add or update the students of a roster CSV; returns how many."""
        return self.add_students(read_roster(path))

    def add_students(self, records: list[dict[str, str]]) -> int:
        table = schema.students
        with self.engine.begin() as conn:
            known = set(conn.execute(sa.select(table.c.id)).scalars())
            for record in records:
                values = {k: record.get(k, "") for k in ("name", "email", "github", "section")}
                if record["id"] in known:
                    conn.execute(
                        table.update()
                        .where(table.c.id == record["id"])
                        .values(**values, in_roster=True)
                    )
                else:
                    conn.execute(table.insert().values(id=record["id"], **values, in_roster=True))
        return len(records)

    def import_assignments(self, path: Path) -> int:
        records = read_assignments(path)
        for record in records:
            self.set_assignment(record["name"], due_at=record["due_at"], title=record["title"])
        return len(records)

    def set_assignment(
        self, name: str, due_at: str | None = None, title: str | None = None
    ) -> None:
        """Create the assignment, or change its due date or title."""
        table = schema.assignments
        with self.engine.begin() as conn:
            exists = conn.execute(sa.select(table.c.name).where(table.c.name == name)).first()
            values: dict[str, object] = {}
            if due_at is not None:
                values["due_at"] = to_utc_iso(due_at)
            if title is not None:
                values["title"] = title
            if exists is None:
                position = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                conn.execute(table.insert().values(name=name, position=position, **values))
            elif values:
                conn.execute(table.update().where(table.c.name == name).values(**values))

    def record(self, run: Run) -> Recorded:
        return record_run(self.engine, run)

    def ingest(self, kind: str, path: Path, assignment: str | None = None) -> list[Recorded]:
        """Read a source of kind ``kind`` (one of :data:`SOURCES`) and record its runs."""
        return [self.record(run) for run in self.read_source(kind, Path(path), assignment)]

    def read_source(self, kind: str, path: Path, assignment: str | None = None) -> list[Run]:
        if kind == "nngrade":
            return [read_nngrade_results(path, assignment)]
        if kind in ("otter-csv", "otter-json"):
            if assignment is None:
                raise IngestError(f"{path}: otter's files do not name the assignment; give it")
            reader = read_otter_final_grades if kind == "otter-csv" else read_otter_results
            return [reader(path, assignment)]
        if kind == "nbgrader":
            return read_nbgrader(path, assignment)
        if kind == "classroom":
            return read_classroom_csv(path, assignment, self._student_lookup())
        if kind == "classroom50":
            return read_classroom50_scores(path, assignment, self._student_lookup())
        raise IngestError(f"unknown source {kind!r}; one of {', '.join(SOURCES)}")

    def _student_lookup(self) -> dict[str, str]:
        lookup = {}
        for row in views.students(self.engine).itertuples():
            for key in (row.github, row.email, row.id):
                if key:
                    lookup[str(key).lower()] = row.id
        return lookup

    def _ensure_student(self, conn: sa.Connection, student: str) -> None:
        table = schema.students
        if conn.execute(sa.select(table.c.id).where(table.c.id == student)).first() is None:
            raise KeyError(f"no student {student!r} in the gradebook")

    def _ensure_assignment(self, conn: sa.Connection, assignment: str) -> None:
        table = schema.assignments
        if conn.execute(sa.select(table.c.name).where(table.c.name == assignment)).first() is None:
            raise KeyError(f"no assignment {assignment!r} in the gradebook")

    def override(
        self,
        student: str,
        assignment: str,
        score: float | None,
        author: str,
        reason: str,
        question: str | None = None,
    ) -> None:
        """Record a manual score (for ``question``) or an assignment override (no question).

        ``score=None`` withdraws the newest override of the same target. Nothing is edited:
        each call adds a row with who, when and why.
        """
        if not author.strip() or not reason.strip():
            raise ValueError("an override needs an author and a reason")
        with self.engine.begin() as conn:
            self._ensure_student(conn, student)
            self._ensure_assignment(conn, assignment)
            if question is not None:
                q = schema.questions
                found = conn.execute(
                    sa.select(q.c.max_points).where(
                        (q.c.assignment == assignment) & (q.c.name == question)
                    )
                ).first()
                if found is None:
                    raise KeyError(f"{assignment} has no question {question!r}")
                if score is not None and not 0 <= score <= found.max_points:
                    raise ValueError(
                        f"{assignment} {question} is worth {found.max_points:g}; "
                        f"a manual score of {score:g} is outside [0, {found.max_points:g}]"
                    )
            conn.execute(
                schema.overrides.insert().values(
                    student=student,
                    assignment=assignment,
                    question=question,
                    score=None if score is None else float(score),
                    author=author,
                    reason=reason,
                    created_at=now(),
                )
            )

    def extend(self, student: str, assignment: str, days: float, author: str, reason: str) -> None:
        """Give ``student`` ``days`` more for ``assignment`` (the newest extension counts)."""
        if days < 0:
            raise ValueError("an extension is a number of days ≥ 0")
        with self.engine.begin() as conn:
            self._ensure_student(conn, student)
            self._ensure_assignment(conn, assignment)
            conn.execute(
                schema.extensions.insert().values(
                    student=student,
                    assignment=assignment,
                    days=float(days),
                    author=author,
                    reason=reason,
                    created_at=now(),
                )
            )

    # ------------------------------------------------------------------ reading

    def students(self) -> pd.DataFrame:
        return views.students(self.engine)

    def assignments(self) -> pd.DataFrame:
        return views.assignments(self.engine)

    def questions(self, assignment: str | None = None) -> pd.DataFrame:
        return views.questions(self.engine, assignment)

    def runs(self) -> pd.DataFrame:
        return views.runs(self.engine)

    def submissions(self) -> pd.DataFrame:
        """The latest submission per student and assignment: status, message, times."""
        return views.latest_submissions(self.engine)

    def overrides(self) -> pd.DataFrame:
        """Overrides in force: the newest per target, withdrawn ones left out."""
        return views.newest_overrides(self.engine)

    def extensions(self) -> pd.DataFrame:
        return views.newest_extensions(self.engine)

    def scores(self, assignment: str | None = None) -> pd.DataFrame:
        """Tidy: one row per test of each student's latest run (student, assignment,
        question, test, score, max_score, status, message, run_id)."""
        return views.test_scores(self.engine, assignment)

    def _student_ids(self) -> list[str]:
        return list(views.students(self.engine)["id"])

    def matrix(self, assignment: str) -> pd.DataFrame:
        """Students × questions of ``assignment``, manual scores included; NaN where a student
        has no submission. Columns are in the assignment's question order."""
        questions = views.questions(self.engine, assignment)
        if questions.empty:
            raise KeyError(f"no assignment {assignment!r} with questions in the gradebook")
        scores = views.question_scores(self.engine, assignment)
        overrides = self.overrides()
        manual = overrides[
            (overrides["assignment"] == assignment) & overrides["question"].notna()
        ]
        table = scores.pivot(index="student", columns="question", values="score")
        for row in manual.itertuples():
            table.loc[row.student, row.question] = row.score
        table = table.reindex(index=self._student_ids(), columns=list(questions["name"]))
        table.index.name, table.columns.name = "student", "question"
        return table

    def assignment_scores(self, policy: Policy | None = None) -> pd.DataFrame:
        """One row per student and assignment: raw points, lateness, penalty, override,
        final points and percentage (see :mod:`gradebook.policy` for the order)."""
        overrides = self.overrides()
        manual = overrides[overrides["question"].notna()][
            ["student", "assignment", "question", "score"]
        ]
        if len(manual):  # what the latest runs gave the questions a person re-scored
            graded = views.question_scores(self.engine, students=list(manual["student"]))
            manual = manual.merge(
                graded.rename(columns={"score": "graded"}),
                on=["student", "assignment", "question"],
                how="left",
            )
        return assignment_scores(
            self._student_ids(),
            views.assignments(self.engine),
            views.latest_submissions(self.engine),
            manual,
            overrides[overrides["question"].isna()],
            self.extensions(),
            policy or Policy(),
        )

    def totals(
        self, policy: Policy | None = None, scores: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Per student: each assignment's percentage after the policy, the assignments
        dropped, the course percentage and the letter. ``scores``: this policy's
        :meth:`assignment_scores`, when the caller has them already."""
        policy = policy or Policy()
        if scores is None:
            scores = self.assignment_scores(policy)
        order = list(views.assignments(self.engine)["name"])
        return course_totals(scores, order, policy)

    def failures(self) -> pd.DataFrame:
        """Latest submissions that could not be graded (malformed, grader error), with why."""
        frame = self.submissions()
        return frame[frame["status"].isin(["malformed", "error"])].reset_index(drop=True)

    def missing(self) -> pd.DataFrame:
        """(student, assignment) for every roster student with no submission to it."""
        students = views.students(self.engine)
        roster = list(students.loc[students["in_roster"].astype(bool), "id"])
        submitted = self.submissions()
        present = set(
            zip(
                submitted.loc[submitted["status"] != "missing", "student"],
                submitted.loc[submitted["status"] != "missing", "assignment"],
                strict=True,
            )
        )
        rows = [
            (student, assignment)
            for assignment in views.assignments(self.engine)["name"]
            for student in roster
            if (student, assignment) not in present
        ]
        return pd.DataFrame(rows, columns=["student", "assignment"])

    def question_points(self) -> Mapping[str, dict[str, float]]:
        """{assignment: {question: points}} in question order."""
        points: dict[str, dict[str, float]] = {}
        for row in views.questions(self.engine).itertuples():
            points.setdefault(row.assignment, {})[row.name] = float(row.max_points)
        return points
