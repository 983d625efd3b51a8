"""Grading on a Dask cluster (``--cluster``): the same results as the local pool, and faults.

One small problem set 1 class (one submission of each kind: correct, an alternative, a
mistake, partial, blank, hostile, and both malformed ones) is graded once with the local
pool; each cluster grading is compared with it, every field of every results.json but the
times. Faults are real: a worker process is SIGKILLed while it grades, and a test-only engine
kills the worker of one student's task every time it runs, until Dask gives up on it.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sys
import threading
from collections import Counter
from pathlib import Path

import cloudpickle
import dask
import pytest
from click.testing import CliRunner
from distributed import Client

import autograder.engine.batch as batch
from autograder.cli import main
from autograder.engine.base import EngineSettings
from autograder.engine.batch import grade_batch
from autograder.engine.cluster import local_cluster
from autograder.engine.grade import NngradeEngine
from autograder.engine.test_files import load_questions
from autograder.problem_sets import grading_limits
from autograder.sample_class import make_sample_class
from autograder.sample_roster import roster
from nnkit.mnist import course_data_dir

# The test-only engines and helpers below run on the workers: send them by value, since a
# worker process need not be able to import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

#: One submission of each kind; the class's others are left out to keep the suite quick.
KINDS = ("correct", "alternative", "mistake", "partial", "blank", "hostile", "malformed")
TIMES = ("graded_at", "seconds")


@pytest.fixture(scope="module")
def ps1_class(ps1_built, tmp_path_factory) -> Path:
    """The submissions folder: the smallest sample class, one of each kind (two malformed)."""
    ps, build = ps1_built
    folder = tmp_path_factory.mktemp("ps1-cluster-class")
    total = sum(q.points for q in load_questions(build.autograder_zip))
    samples = make_sample_class(ps, 0, folder, ps.solution_notebook, roster(), total)
    keep, seen = set(), Counter()
    for sample in samples:
        if sample.kind in KINDS and (seen[sample.kind] == 0 or sample.kind == "malformed"):
            seen[sample.kind] += 1
            keep.add(sample.student.id)
    assert set(seen) == set(KINDS) and seen["malformed"] == 2, seen
    submissions = folder / "submissions"
    for entry in submissions.iterdir():
        if entry.name.removesuffix(".ipynb") not in keep:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return submissions


def _grade(ps1_built, submissions: Path, out: Path, **kwargs) -> batch.BatchReport:
    ps, build = ps1_built
    return grade_batch(
        ps.name, build.autograder_zip, submissions, out, limits=grading_limits(ps),
        readonly_paths=(course_data_dir(),), progress=False, master=ps.master, **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def local_grading(ps1_built, ps1_class, tmp_path_factory) -> Path:
    """The class graded with the local pool of 2 workers: the results to match."""
    out = tmp_path_factory.mktemp("ps1-cluster-local")
    report = _grade(ps1_built, ps1_class, out, workers=2)
    assert report.ok, report.failed
    return out


def _students(submissions: Path) -> list[str]:
    return sorted(entry.name.removesuffix(".ipynb") for entry in submissions.iterdir())


def _results(out: Path, student: str) -> dict:
    document = json.loads((out / student / "results.json").read_text())
    for key in TIMES:
        document["extra_data"].pop(key)
    return document


def _assert_same_results(out: Path, expected: Path, students: list[str]) -> None:
    assert (out / "summary.csv").read_text() == (expected / "summary.csv").read_text()
    for student in students:
        assert _results(out, student) == _results(expected, student), student
        for name in ("feedback.md", "feedback.html"):
            assert (out / student / name).read_text() == (expected / student / name).read_text()


def test_local_cluster_grades_as_the_local_pool(ps1_built, ps1_class, local_grading, tmp_path):
    students = _students(ps1_class)
    notices: list[str] = []
    report = _grade(ps1_built, ps1_class, tmp_path, cluster="local:2", say=notices.append)
    assert report.ok, report.failed
    assert sorted(report.graded) == students
    assert notices == []  # this host can sandbox: no worker said otherwise
    _assert_same_results(tmp_path, local_grading, students)
    graded = [_results(tmp_path, s)["extra_data"] for s in students]
    assert {e["status"] for e in graded} == {"graded", "malformed"}
    assert all(e["sandboxed"] for e in graded if e["status"] == "graded")
    # Resumable as before: a second run on the cluster grades nobody.
    again = _grade(ps1_built, ps1_class, tmp_path, cluster="local:2")
    assert again.graded == [] and sorted(again.skipped) == students


def _executing(dask_worker) -> int:
    """How many tasks ``dask_worker`` is running at this moment."""
    return len(dask_worker.state.executing)


def test_a_worker_killed_mid_task_costs_nothing(
    ps1_built, ps1_class, local_grading, tmp_path, monkeypatch
):
    students = _students(ps1_class)
    writes: Counter[str] = Counter()
    write = batch.write_graded

    def counted(graded, out):
        writes[graded.student] += 1
        return write(graded, out)

    monkeypatch.setattr(batch, "write_graded", counted)
    killed: list[str] = []
    stop = threading.Event()
    with local_cluster(2) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        victim = sorted(pids)[0]
        # Workers come from a fork server, never forked from this multi-threaded process,
        # whose threads' locks (a log stream's, for one) a forked child could wait on forever.
        assert os.getpid() not in client.run(os.getppid).values()

        def kill_when_busy() -> None:
            # Poll the worker's own state until a grading is running on it, then kill it.
            while not stop.is_set():
                if client.run(_executing, workers=[victim]).get(victim):
                    os.kill(pids[victim], signal.SIGKILL)
                    killed.append(victim)
                    return
                stop.wait(0.05)

        killer = threading.Thread(target=kill_when_busy, daemon=True)
        killer.start()
        try:
            report = _grade(ps1_built, ps1_class, tmp_path, cluster=cluster.scheduler_address)
        finally:
            stop.set()
            killer.join()
    assert killed == [victim]
    assert report.ok, report.failed  # the batch's exit code is a normal run's
    assert sorted(report.graded) == students
    assert writes == Counter(students), writes  # every student's results written exactly once
    _assert_same_results(tmp_path, local_grading, students)


class KillsItsWorker:
    """A test-only engine: the nngrade engine, except that grading ``victim`` kills the
    worker process grading it, every time."""

    name = "nngrade"

    def __init__(self, victim: str, settings: EngineSettings) -> None:
        self.victim = victim
        self.inner = NngradeEngine(settings)

    def version(self) -> str:
        return self.inner.version()

    def host_problems(self) -> list[str]:
        return self.inner.host_problems()

    def grade(self, job, limits):
        if job.student == self.victim:
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.grade(job, limits)


class CannotSandbox(KillsItsWorker):
    """A test-only engine for a host without bubblewrap (as it says; it grades nobody)."""

    def host_problems(self) -> list[str]:
        return ["no sandbox: bubblewrap (bwrap) is not installed"]


@pytest.fixture(scope="module")
def fragile_cluster():
    """Two workers; Dask gives up on a task after it killed 2 (instead of 4) of them."""
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        local_cluster(2) as cluster,
    ):
        yield cluster


def _three(ps1_class: Path, folder: Path) -> list[str]:
    """Three gradable students of the class, copied to ``folder``."""
    folder.mkdir()
    chosen = [p for p in sorted(ps1_class.glob("*.ipynb"))][:3]
    for path in chosen:
        shutil.copy2(path, folder / path.name)  # the same time of submission
    return [p.stem for p in chosen]


def test_a_worker_that_cannot_sandbox_refuses_and_is_named(
    ps1_built, ps1_class, fragile_cluster, tmp_path
):
    students = _three(ps1_class, tmp_path / "in")
    engine = CannotSandbox("nobody", EngineSettings((course_data_dir(),), require_sandbox=True))
    notices: list[str] = []
    report = _grade(
        ps1_built, tmp_path / "in", tmp_path / "out", engine=engine, require_sandbox=True,
        cluster=fragile_cluster.scheduler_address, say=notices.append,
    )  # fmt: skip
    addresses = sorted(w.worker_address for w in fragile_cluster.workers.values())
    assert notices == [f"worker {a}: no sandbox: bubblewrap (bwrap) is not installed"
                       for a in addresses]
    assert sorted(report.failed) == students and report.graded == []
    for reason in report.failed.values():
        assert reason.startswith("SandboxRefused: worker tcp://")
        assert reason.split()[2] in addresses
        assert "cannot sandbox and --require-sandbox is set" in reason


def test_a_task_that_keeps_killing_workers_is_that_students_failure(
    ps1_built, ps1_class, local_grading, fragile_cluster, tmp_path
):
    students = _three(ps1_class, tmp_path / "in")
    victim = students[1]
    engine = KillsItsWorker(victim, EngineSettings((course_data_dir(),)))
    out = tmp_path / "out"
    report = _grade(
        ps1_built, tmp_path / "in", out, cluster=fragile_cluster.scheduler_address, engine=engine
    )
    assert list(report.failed) == [victim]
    assert report.failed[victim].startswith("KilledWorker: every worker that graded it died")
    assert "2 in turn" in report.failed[victim]
    assert sorted(report.graded) == [s for s in students if s != victim]
    for student in report.graded:
        assert _results(out, student) == _results(local_grading, student)
    assert not (out / victim / "results.json").exists()
    rows = {row["student"]: row for row in csv.DictReader((out / "summary.csv").open())}
    assert rows[victim]["status"] == "not graded"
    # The next run grades only the student the grader failed (and fails it again).
    again = _grade(
        ps1_built, tmp_path / "in", out, cluster=fragile_cluster.scheduler_address, engine=engine
    )
    assert list(again.failed) == [victim] and sorted(again.skipped) == report.graded


def test_cli_help_names_the_cluster_option():
    text = CliRunner().invoke(main, ["grade", "--help"]).output
    assert "--cluster" in text and "local:N" in text
    bad = CliRunner().invoke(main, ["grade", "ps1-perceptron", ".", "--out", "x",
                                    "--cluster", "somewhere"])
    assert bad.exit_code != 0 and "tcp://HOST:8786" in bad.output


def test_a_folder_submission_ships_exactly_what_local_grading_copies(tmp_path):
    """The files next to the notebook travel to a worker by the same walk as a local copy:
    the same files, the same bytes, the same notes for the student."""
    from autograder.engine.cluster_tasks import _read_files
    from autograder.engine.grade import copy_submission_files

    folder, work = tmp_path / "student", tmp_path / "work"
    folder.mkdir()
    work.mkdir()
    (folder / "nb.ipynb").write_text("{}")
    (folder / "mlp.keras").write_bytes(b"model")
    (folder / "notes.txt").write_text("not graded")
    (folder / "link.keras").symlink_to(folder / "notes.txt")
    shipped, notes = _read_files(folder, "nb.ipynb", None, ("*.keras",))
    assert notes == copy_submission_files(folder, folder / "nb.ipynb", work, patterns=("*.keras",))
    assert shipped == [(p.name, p.read_bytes()) for p in sorted(work.iterdir())]
    assert shipped == [("mlp.keras", b"model")]
