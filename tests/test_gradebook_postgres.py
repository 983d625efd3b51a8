"""The gradebook on PostgreSQL: the same store, views and policies through a real server.

A throwaway PostgreSQL cluster is created with ``initdb`` in a temporary folder, listening on
a unix socket only, and removed afterwards. ``make setup`` installs Debian's ``postgresql``
(as root) and the dev extra installs the ``psycopg`` driver.
"""

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from gradebook import Gradebook, LatePolicy, Policy
from gradebook.store import Result, Run, Submission


def _server_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL is missing: `make setup` installs it (Debian package postgresql)"
    return Path(found[-1]).parent


@pytest.fixture(scope="module")
def postgres_url():
    binaries = _server_binaries()
    folder = Path(tempfile.mkdtemp(prefix="nngrade-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]

    data = folder / "data"
    run(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "nngrade")
    options = f"-k {folder} -c listen_addresses='' -c fsync=off"
    log = str(folder / "server.log")  # the server must not hold our pipes open
    run(str(binaries / "pg_ctl"), "-D", str(data), "-l", log, "-o", options, "-w", "start")
    try:
        yield f"postgresql+psycopg://nngrade@/postgres?host={folder}"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _course(gb: Gradebook) -> None:
    gb.add_students([{"id": s, "name": s.title()} for s in ("ann", "bob", "cat")])
    gb.set_assignment("A", due_at="2026-10-05T23:59:00+00:00")
    gb.record(Run("A", "nngrade", [
        Submission("ann", [Result("q1", "q1", 3, 4), Result("q2", "q2", 5, 6)],
                   submitted_at="2026-10-05T20:00:00+00:00"),
        Submission("bob", [Result("q1", "q1", 4, 4), Result("q2", "q2", 6, 6)],
                   submitted_at="2026-10-06T05:00:00+00:00"),
    ], questions={"q1": 4, "q2": 6}))


def test_postgres_gives_the_same_answers_as_sqlite(postgres_url, tmp_path):
    policy = Policy(late=LatePolicy(percent_per_day=10))
    on_postgres, on_sqlite = Gradebook(postgres_url), Gradebook(tmp_path / "gb.db")
    for gb in (on_postgres, on_sqlite):
        _course(gb)
        gb.override("ann", "A", 4, author="ta", reason="regrade", question="q1")
    pg, lite = on_postgres.totals(policy), on_sqlite.totals(policy)
    assert pg.to_dict("records") == lite.to_dict("records")
    # ann: 4 + 5 = 9 of 10 on time; bob: 10, one day late -> 9; cat: nothing.
    assert pg.set_index("student")["A"].to_dict() == pytest.approx(
        {"ann": 90.0, "bob": 90.0, "cat": 0.0})
    assert on_postgres.matrix("A").loc["ann", "q1"] == 4
    # Re-recording the same run is recognised on PostgreSQL too.
    again = on_postgres.record(Run("A", "nngrade", [
        Submission("ann", [Result("q1", "q1", 3, 4), Result("q2", "q2", 5, 6)],
                   submitted_at="2026-10-05T20:00:00+00:00"),
        Submission("bob", [Result("q1", "q1", 4, 4), Result("q2", "q2", 6, 6)],
                   submitted_at="2026-10-06T05:00:00+00:00"),
    ], questions={"q1": 4, "q2": 6}))
    assert not again.created and len(on_postgres.runs()) == 1
    on_postgres.close()
