"""Grade a folder of submissions: in parallel, resumably, one student's failure never another's.

``SUBMISSIONS`` holds either ``<student>.ipynb`` files or ``<student>/`` folders (a clone of the
student's repository) containing the notebook. Each student's results go to
``OUT/<student>/results.json`` and ``feedback.md``; ``OUT/summary.csv`` is rebuilt from all
results at the end, so a resumed batch reports everyone.

Resuming: a student whose ``results.json`` records the same submission digest (the notebook
and any files next to it in a folder submission) and the same tests fingerprint is skipped
(``force`` regrades). Because results.json is replaced atomically and
written last, a batch killed at any moment leaves each student either fully graded or not at
all, never half-written.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import io
import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from autograder.engine.grade import (
    SubmissionResult,
    atomic_write,
    grade_submission,
    submission_files,
    write_results,
)
from autograder.engine.sandbox import SandboxLimits
from autograder.engine.test_files import load_questions, tests_fingerprint
from nnkit.mnist import DATA_ENV_VAR, data_dir

__all__ = ["Job", "BatchReport", "find_submissions", "grade_batch"]


@dataclass(frozen=True)
class Job:
    student: str
    notebook: Path | None  # None: the student's folder holds no notebook
    folder: Path | None = None  # the student's own folder, when the submission is one

    @property
    def files_from(self) -> Path | None:
        """A folder submission's files next to its notebook (a saved model, data) go into the
        sandbox's work folder; a lone notebook brings nothing with it."""
        return self.notebook.parent if self.folder is not None and self.notebook else None


@dataclass
class BatchReport:
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # grader failures, not student ones
    summary_csv: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def find_submissions(folder: Path, ps_name: str) -> list[Job]:
    """One job per student, sorted by student id."""
    jobs = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            jobs.append(Job(entry.stem, entry))
        elif entry.is_dir():
            jobs.append(Job(entry.name, _notebook_in(entry, ps_name), folder=entry))
    return jobs


def _notebook_in(folder: Path, ps_name: str) -> Path | None:
    preferred = folder / f"{ps_name}.ipynb"
    if preferred.is_file():
        return preferred
    candidates = sorted(
        p
        for p in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not any(s.startswith(".") for s in p.parts)
    )
    return candidates[0] if candidates else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _submission_digest(job: Job) -> str:
    """sha256 over everything graded: the notebook and, for a folder submission, the files
    that go into the work folder with it (a saved model). Resuming compares it, so a student
    who changes only a saved model is graded again."""
    digest = hashlib.sha256()
    if job.notebook is None:
        digest.update(b"no notebook")
        return digest.hexdigest()
    digest.update(_sha256(job.notebook).encode())
    if job.files_from is not None:
        try:
            for entry in submission_files(job.files_from, job.notebook):
                digest.update(f"\0{entry.name}\0{_sha256(Path(entry.path))}".encode())
        except OSError:
            digest.update(b"\0unreadable folder")
    return digest.hexdigest()


def _already_graded(out: Path, job: Job, fingerprint: str) -> bool:
    results = out / job.student / "results.json"
    if not results.is_file():
        return False
    try:
        extra = json.loads(results.read_text(encoding="utf-8"))["extra_data"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (
        extra.get("submission_digest") == _submission_digest(job)
        and extra.get("tests_fingerprint") == fingerprint
    )


# ------------------------------------------------------------------ one worker process


def _sandbox_env(readonly_paths: tuple[Path, ...]) -> dict[str, str]:
    """Point nnkit inside the sandbox at the data cache, when the cache is bound in."""
    data = data_dir()
    return {DATA_ENV_VAR: str(data)} if data in readonly_paths else {}


_QUESTIONS: dict[Path, list] = {}


def _submitted_at(job: Job) -> str | None:
    """When the student submitted: the last commit of a repository clone, else the file's mtime.

    An ISO 8601 time with its UTC offset; None when the submission holds no notebook.
    """
    if job.notebook is None:
        return None
    if job.folder is not None and (job.folder / ".git").exists():
        try:
            done = subprocess.run(
                ["git", "-c", "core.fsmonitor=false", "-C", str(job.folder)]
                + ["log", "-1", "--format=%cI"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if done.returncode == 0 and done.stdout.strip():
                return done.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    mtime = job.notebook.stat().st_mtime
    return datetime.fromtimestamp(mtime, tz=UTC).isoformat(timespec="seconds")


def _engine_version(engine: str) -> str:
    package = "otter-grader" if engine == "otter" else "nngrade"
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _grade_job(
    ps_name: str,
    job: Job,
    autograder_zip: Path,
    fingerprint: str,
    out: Path,
    limits: SandboxLimits,
    readonly_paths: tuple[Path, ...],
    require_sandbox: bool,
    engine: str,
) -> str:
    """Runs in a worker process; returns the student id. Raises only for grader failures."""
    if autograder_zip not in _QUESTIONS:
        _QUESTIONS[autograder_zip] = load_questions(autograder_zip)
    questions = _QUESTIONS[autograder_zip]
    if job.notebook is None:
        result = SubmissionResult.ungraded(
            job.student, questions, "No notebook was found in this submission."
        )
    elif engine == "otter":
        from autograder.engine.otter_engine import grade_with_otter_engine

        result = grade_with_otter_engine(job.student, job.notebook, autograder_zip, questions)
    else:
        result = grade_submission(
            job.student,
            job.notebook,
            questions,
            limits,
            readonly_paths=readonly_paths,
            require_sandbox=require_sandbox,
            env=_sandbox_env(readonly_paths),
            files_from=job.files_from,
        )
    extra = {
        "submission_digest": _submission_digest(job),
        "problem_set": ps_name,
        "engine": engine,
        "engine_version": _engine_version(engine),
        "submitted_at": _submitted_at(job),
        "graded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_results(result, out / job.student, fingerprint, extra)
    return job.student


# ------------------------------------------------------------------ the batch


def grade_batch(
    ps_name: str,
    autograder_zip: Path,
    submissions: Path,
    out: Path,
    workers: int | None = None,
    limits: SandboxLimits | None = None,
    readonly_paths: tuple[Path, ...] = (),
    require_sandbox: bool = False,
    force: bool = False,
    engine: str = "nngrade",
    progress: bool = True,
) -> BatchReport:
    """Grade every submission not already graded; then rewrite ``summary.csv``."""
    limits = limits or SandboxLimits()
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*/.*.json.*"):  # temporaries of a batch that was killed mid-write
        stale.unlink(missing_ok=True)
    for stale in out.glob("*/.*.md.*"):
        stale.unlink(missing_ok=True)
    fingerprint = tests_fingerprint(autograder_zip)
    report = BatchReport()
    jobs = find_submissions(submissions, ps_name)
    todo = []
    for job in jobs:
        if not force and _already_graded(out, job, fingerprint):
            report.skipped.append(job.student)
        else:
            todo.append(job)
    workers = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(todo) or 1))) as pool:
        futures = {
            pool.submit(
                _grade_job,
                ps_name,
                job,
                autograder_zip,
                fingerprint,
                out,
                limits,
                readonly_paths,
                require_sandbox,
                engine,
            ): job
            for job in todo
        }
        bar = tqdm(
            total=len(futures), desc=f"grading {ps_name}", unit="submission", disable=not progress
        )
        for future in as_completed(futures):
            job = futures[future]
            try:
                report.graded.append(future.result())
            except Exception as error:  # a bug or an environment problem in the grader
                report.failed[job.student] = f"{type(error).__name__}: {error}"
            bar.update()
        bar.close()
    report.summary_csv = write_summary(
        out, [j.student for j in jobs], load_questions(autograder_zip)
    )
    return report


def _iter_results(out: Path, students: list[str]) -> Iterator[tuple[str, dict | None]]:
    for student in students:
        path = out / student / "results.json"
        try:
            yield student, json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            yield student, None


def write_summary(out: Path, students: list[str], questions: list) -> Path:
    """``summary.csv``: student, one column per question, total, max, status."""
    names = [q.name for q in questions]
    maximum = sum(q.points for q in questions)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", *names, "total", "max", "status"])
    for student, document in _iter_results(out, students):
        if document is None:
            writer.writerow([student, *[""] * len(names), "", maximum, "not graded"])
            continue
        extra = document.get("extra_data", {})
        scores = extra.get("questions", {})
        writer.writerow(
            [
                student,
                *[scores.get(n, 0.0) for n in names],
                document.get("score"),
                maximum,
                extra.get("status", "graded"),
            ]
        )
    path = out / "summary.csv"
    atomic_write(path, buffer.getvalue())
    return path
