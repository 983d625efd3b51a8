"""Gradebook at scale: 10,000 students × 4 assignments × 20 questions, ingested, then totals.

Target: ingest plus totals in under 5 s on the course machine (2 cores). Each stage is timed
on its own, and the ingest is compared side by side with the plain SQLAlchemy Core insert
the store used before (dicts through ``conn.execute(table.insert(), rows)``), so the figure
is a ratio measured in the same run, not a number to trust across machines.

    .venv/bin/python benchmarks/gradebook_ingest.py [--students 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from gradebook import Gradebook, Policy, schema
from gradebook.store import Result, Run, Submission

ASSIGNMENTS, QUESTIONS = 4, 20
POLICY = Policy.from_dict(
    {"late": {"percent_per_day": 10, "max_percent": 50, "grace_hours": 0.25}, "drop_lowest": 1}
)


def make_runs(students: int, seed: int = 0) -> list[Run]:
    rng = np.random.default_rng(seed)
    due = datetime(2026, 10, 5, 23, 59, tzinfo=UTC)
    runs = []
    for a in range(ASSIGNMENTS):
        scores = rng.integers(0, 3, size=(students, QUESTIONS)).astype(float)
        lateness = rng.normal(-24, 30, size=students)
        runs.append(
            Run(
                f"ps{a + 1}",
                "nngrade",
                [
                    Submission(
                        f"s{i:05d}",
                        [Result(f"q{j + 1}", f"q{j + 1}", scores[i, j], 2.0)
                         for j in range(QUESTIONS)],
                        submitted_at=(due + timedelta(weeks=a, hours=float(lateness[i]))
                                      ).isoformat(),
                    )
                    for i in range(students)
                ],
                questions={f"q{j + 1}": 2.0 for j in range(QUESTIONS)},
            )
        )
    return runs


def core_insert(url: str, runs: list[Run]) -> float:
    """The same rows through SQLAlchemy Core's executemany of dicts, for comparison (into
    bare tables: no foreign keys to satisfy, so this is the insert alone)."""
    engine = sa.create_engine(url)
    schema.metadata.create_all(engine)
    start = time.perf_counter()
    for run_id, run in enumerate(runs, start=1):
        with engine.begin() as conn:
            conn.execute(
                schema.results.insert(),
                [
                    {"run_id": run_id, "student": s.student, "assignment": run.assignment,
                     "question": r.question, "test": r.test, "score": r.score,
                     "max_score": r.max_score, "status": r.status, "message": r.message}
                    for s in run.submissions
                    for r in s.results
                ],
            )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    args = parser.parse_args()
    runs = make_runs(args.students)
    n = sum(len(s.results) for run in runs for s in run.submissions)
    print(f"{args.students:,} students × {ASSIGNMENTS} assignments × {QUESTIONS} questions "
          f"= {n:,} results")
    with tempfile.TemporaryDirectory() as folder:
        gb = Gradebook(Path(folder) / "gradebook.db")
        for a in range(ASSIGNMENTS):
            due = datetime(2026, 10, 5, 23, 59, tzinfo=UTC) + timedelta(weeks=a)
            gb.set_assignment(f"ps{a + 1}", due_at=due.isoformat())
        start = time.perf_counter()
        for run in runs:
            gb.record(run)
        ingest = time.perf_counter() - start
        start = time.perf_counter()
        totals = gb.totals(POLICY)
        total_time = time.perf_counter() - start
        start = time.perf_counter()
        again = [gb.record(run) for run in runs]
        reingest = time.perf_counter() - start
        assert not any(r.created for r in again)
        with gb.engine.connect() as conn:
            stored = conn.execute(sa.text("select count(*) from results")).scalar()
        assert stored == n and len(totals) == args.students
        core = core_insert(f"sqlite:///{Path(folder) / 'core.db'}", runs)
    print(f"ingest (4 runs, one transaction each): {ingest:6.2f} s  ({n / ingest:,.0f} rows/s)")
    print(f"totals (late, drop lowest, letters):   {total_time:6.2f} s")
    print(f"ingest + totals:                        {ingest + total_time:6.2f} s  (target < 5 s)")
    print(f"re-ingest of the same 4 runs (no-op):   {reingest:6.2f} s")
    print(f"results insert alone, Core dicts:       {core:6.2f} s  "
          f"(store's whole ingest / Core insert alone = {ingest / core:.2f}×)")


if __name__ == "__main__":
    main()
