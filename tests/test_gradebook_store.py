"""The store's promises: append-only history, latest run wins, one transaction per run, and
re-ingesting never duplicates, even after a ``kill -9`` in the middle of an ingest."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from gradebook import Gradebook
from gradebook.store import Result, Run, Submission


def run_of(scores: dict[str, float], assignment="ps1", engine="nngrade") -> Run:
    return Run(
        assignment,
        "nngrade",
        [Submission(s, [Result("q1", "q1", v, 5.0)]) for s, v in scores.items()],
        engine=engine,
        questions={"q1": 5.0},
    )


def test_the_same_content_is_recorded_once(tmp_path):
    gb = Gradebook(tmp_path / "gb.db")
    first = gb.record(run_of({"ann": 5, "bob": 2}))
    again = gb.record(run_of({"ann": 5, "bob": 2}))
    assert first.created and not again.created and again.run_id == first.run_id
    assert len(gb.runs()) == 1 and len(gb.scores()) == 2


def test_a_regrade_adds_a_run_and_the_views_read_the_latest(tmp_path):
    gb = Gradebook(tmp_path / "gb.db")
    gb.record(run_of({"ann": 5, "bob": 2}))
    gb.record(run_of({"bob": 4}))  # only bob regraded
    scores = gb.scores().set_index("student")["score"]
    assert scores.to_dict() == {"ann": 5.0, "bob": 4.0}
    with gb.engine.connect() as conn:  # the old result is still there: history is kept
        assert conn.execute(sa.text("select count(*) from results")).scalar() == 3


def test_a_gradebook_is_one_sqlite_file_readable_without_us(tmp_path):
    path = tmp_path / "gb.db"
    Gradebook(path).record(run_of({"ann": 5}))
    rows = sqlite3.connect(path).execute("select student, score from results").fetchall()
    assert rows == [("ann", 5.0)]


INGEST_CHILD = """
import sys
from gradebook import Gradebook
from gradebook.store import Result, Run, Submission
students, tests = int(sys.argv[2]), int(sys.argv[3])
run = Run("big", "nngrade", [
    Submission(f"s{i:05d}", [Result(f"q{j}", f"t{j}", (i + j) % 3, 2.0) for j in range(tests)])
    for i in range(students)
], questions={f"q{j}": 2.0 for j in range(tests)})
print("ready", flush=True)
Gradebook(sys.argv[1]).record(run)
print("done", flush=True)
"""


def _ingest(db: Path, students: int, tests: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", INGEST_CHILD, str(db), str(students), str(tests)],
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.3, 0.6])
def test_sigkill_during_ingest_then_reingest_gives_one_row_per_result(tmp_path, delay):
    """Kill the ingesting process at several moments, from before its transaction to after
    it, then ingest again: every result is there exactly once."""
    students, tests = 3000, 20
    db = tmp_path / "gb.db"
    Gradebook(db).close()  # the schema exists, so the child only writes
    child = _ingest(db, students, tests)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    before = sqlite3.connect(db).execute("select count(*) from results").fetchone()[0]
    assert before in (0, students * tests)  # all or nothing, never part of a run

    again = _ingest(db, students, tests)
    assert again.wait(timeout=120) == 0
    connection = sqlite3.connect(db)
    assert connection.execute("select count(*) from results").fetchone()[0] == students * tests
    assert connection.execute("select count(*) from runs").fetchone()[0] == 1
    duplicates = connection.execute(
        "select count(*) from (select student, test from results "
        "group by student, test having count(*) > 1)"
    ).fetchone()[0]
    assert duplicates == 0
    assert connection.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_two_processes_ingesting_the_same_results_record_them_once(tmp_path):
    db = tmp_path / "gb.db"
    Gradebook(db).close()
    children = [_ingest(db, 500, 10) for _ in range(2)]
    assert [c.wait(timeout=120) for c in children] == [0, 0]
    connection = sqlite3.connect(db)
    assert connection.execute("select count(*) from runs").fetchone()[0] == 1
    assert connection.execute("select count(*) from results").fetchone()[0] == 5000
