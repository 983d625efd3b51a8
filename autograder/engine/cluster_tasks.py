"""The tasks of a cluster grading (:mod:`autograder.engine.cluster`): what travels to a
worker, and what the worker does with it.

* :class:`ShippedJob` is one submission as bytes, read on the client by the same intake as
  local grading (no link followed, the same caps; only the files the problem set grades),
  with what only the client's copy can tell (the submission digest, the time of submission).
* :class:`NamedEngine` is a registered engine, made on the worker for that host.
* :func:`grade_shipped` runs on the worker: it writes the autograder zip once into the
  worker process's private folder (mode 0700), checked against the client's sha256 and
  fingerprint, grades a private copy of the submission with the engine interface, and
  returns the result, rendered, as data. Under ``--require-sandbox`` a worker that cannot
  sandbox refuses the task with :class:`SandboxRefused`, naming itself.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from autograder.engine.base import Engine, EngineSettings
from autograder.engine.job import Job, ProblemSetTests
from autograder.engine.runner import Graded, grade_job, intake_problem, render
from autograder.engine.submission import (
    MalformedSubmission,
    open_regular,
    read_capped,
    read_notebook_bytes,
)
from autograder.limits import SandboxLimits

__all__ = ["NamedEngine", "SandboxRefused", "ShippedJob", "grade_shipped", "host_problems",
           "ship"]


class SandboxRefused(RuntimeError):
    """A worker cannot sandbox and ``--require-sandbox`` is set: it refuses the task."""


# ------------------------------------------------------------------ what travels


@dataclass(frozen=True)
class NamedEngine:
    """A registered engine, made on the worker for that host: the client's read-only folders
    that exist there, and the worker's own course MNIST file (never the held-back digits)
    where the client bound its own."""

    name: str
    readonly_paths: tuple[Path, ...]
    bind_data: bool
    require_sandbox: bool

    def make(self) -> Engine:
        from autograder.engine.registry import get_engine
        from nnkit.mnist import course_data_dir

        paths = [p for p in self.readonly_paths if p.is_dir()]
        data = course_data_dir()
        if self.bind_data and data.is_dir() and data not in paths:
            paths.append(data)
        return get_engine(self.name, EngineSettings(tuple(paths), self.require_sandbox))


@dataclass(frozen=True)
class ShippedJob:
    """One submission as bytes, read by the client's intake, and what the client knows of it.

    ``notebook`` is None when the notebook vanished before it could be read (the engine then
    says so, as it would locally). ``folder`` is a folder submission's folder name and
    ``notebook_path`` the notebook's path below it (else the notebook's file name); ``files``
    are the files next to the notebook that go into the work folder, ``notes`` what the
    feedback says about them."""

    student: str
    problem_set: ProblemSetTests
    tests_sha256: str
    notebook_path: str
    notebook: bytes | None
    folder: str | None
    files: tuple[tuple[str, bytes], ...]
    notes: tuple[str, ...]
    digest: str
    submitted_at: str | None


def ship(job: Job, tests_sha256: str) -> ShippedJob | None:
    """``job`` as bytes; None when it needs no worker (no notebook, or one the intake
    refuses: its result is made without grading)."""
    from autograder.engine.runner import _submitted_at

    if job.notebook is None or intake_problem(job) is not None:
        return None
    try:
        notebook: bytes | None = read_notebook_bytes(job.notebook, job.within)
    except MalformedSubmission:
        return None  # refused since the check above: the intake's result, made here
    except OSError:
        notebook = None
    files: list[tuple[str, bytes]] = []
    notes: list[str] = []
    if job.files_from is not None and notebook is not None:
        files, notes = _read_files(job.files_from, job.notebook.name, job.within,
                                   job.problem_set.submission_files)
    if job.folder is not None:
        path, folder = job.notebook.relative_to(job.folder).as_posix(), job.folder.name
    else:
        path, folder = job.notebook.name, None
    return ShippedJob(
        job.student, job.problem_set, tests_sha256, path, notebook, folder, tuple(files),
        tuple(notes), job.digest(), _submitted_at(job),
    )  # fmt: skip


def _read_files(
    folder: Path, notebook_name: str, within: Path | None, patterns: tuple[str, ...]
) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The files :func:`~autograder.engine.grade.copy_submission_files` would copy, read
    by the same walk (:func:`~autograder.engine.grade.take_submission_files`), and its
    notes."""
    from autograder.engine.grade import take_submission_files

    read: list[tuple[str, bytes]] = []

    def keep(folder_fd: int, name: str, budget: int) -> int | None:
        data = _read_file(folder_fd, name, budget)
        if data is None:
            return None
        read.append((name, data))
        return len(data)

    notes = take_submission_files(folder, notebook_name, within, patterns, keep)
    return read, notes


def _read_file(folder_fd: int, name: str, budget: int) -> bytes | None:
    try:
        fd = open_regular(folder_fd, name)
    except (MalformedSubmission, OSError):
        return None
    try:
        return read_capped(fd, budget)
    except OSError:
        return None
    finally:
        os.close(fd)


# ------------------------------------------------------------------ on the worker

_lock = threading.Lock()
_private: Path | None = None
_tests: dict[str, Path] = {}
_engines: dict[NamedEngine, Engine] = {}
_host_problems: dict[str, list[str]] = {}
_PRIVATE_PREFIX = "nngrade-worker-"


def _private_folder() -> Path:
    """This worker process's own folder (mode 0700), removed when it exits; folders left by
    workers that were killed are removed when the next one starts."""
    global _private
    with _lock:
        if _private is None:
            _remove_dead_workers_folders()
            _private = Path(tempfile.mkdtemp(prefix=f"{_PRIVATE_PREFIX}{os.getpid()}-"))
            os.chmod(_private, 0o700)
            atexit.register(shutil.rmtree, _private, True)
        return _private


def _remove_dead_workers_folders() -> None:
    pattern = re.compile(rf"{re.escape(_PRIVATE_PREFIX)}(\d+)-")
    for entry in Path(tempfile.gettempdir()).glob(f"{_PRIVATE_PREFIX}*"):
        match = pattern.match(entry.name)
        if match is None or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            pass  # alive, another user's


def _worker_tests(problem_set: ProblemSetTests, sha256: str, data: bytes) -> ProblemSetTests:
    """``problem_set`` with its autograder zip in this worker's private folder, checked."""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise RuntimeError("the autograder zip that reached this worker is not the client's")
    with _lock:
        path = _tests.get(sha256)
    if path is None:
        folder = _private_folder() / "tests"
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"{sha256}.zip"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        with _lock:
            _tests[sha256] = path
    tests = replace(problem_set, autograder_zip=path)
    again = ProblemSetTests.from_zip(
        tests.name, path, tests.solutions_commit, tests.kernel_setup, tests.manual
    )
    if again.fingerprint != problem_set.fingerprint:
        raise RuntimeError("the tests on this worker do not have the client's fingerprint")
    return tests


def _worker_engine(engine: NamedEngine | Engine) -> Engine:
    if not isinstance(engine, NamedEngine):
        return engine
    with _lock:
        if engine not in _engines:
            _engines[engine] = engine.make()
        return _engines[engine]


def host_problems(engine: NamedEngine | Engine) -> list[str]:
    """What ``engine`` cannot guarantee on this host (asked once per worker process)."""
    made = _worker_engine(engine)
    with _lock:
        known = _host_problems.get(made.name)
    if known is None:
        known = list(made.host_problems())
        with _lock:
            _host_problems[made.name] = known
    return known


def _worker_address() -> str:
    from distributed import get_worker

    try:
        return get_worker().address
    except ValueError:
        return f"pid {os.getpid()}"


def grade_shipped(
    engine: NamedEngine | Engine,
    shipped: ShippedJob,
    tests_zip: bytes,
    limits: SandboxLimits,
    require_sandbox: bool,
) -> Graded:
    """The task: grade ``shipped`` on this worker and return it as data."""
    if require_sandbox:
        problems = host_problems(engine)
        if problems:
            raise SandboxRefused(
                f"worker {_worker_address()} cannot sandbox and --require-sandbox is set: "
                + "; ".join(problems)
            )
    made = _worker_engine(engine)
    tests = _worker_tests(shipped.problem_set, shipped.tests_sha256, tests_zip)
    root = Path(tempfile.mkdtemp(prefix="submission-", dir=_private_folder()))
    try:
        job = _materialise(shipped, tests, root)
        result = grade_job(made, job, limits)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if job.files_from is not None:
        result = replace(result, output=_client_notes(shipped, result.output))
    result = replace(
        result, submission_digest=shipped.digest, submitted_at=shipped.submitted_at
    )
    return render(shipped.student, result)


def _materialise(shipped: ShippedJob, tests: ProblemSetTests, root: Path) -> Job:
    """The submission written below ``root`` as the client read it; its job."""
    folder = root / shipped.folder if shipped.folder is not None else None
    base = folder if folder is not None else root
    notebook = (base / shipped.notebook_path).resolve()
    if not notebook.is_relative_to(base.resolve()):
        raise RuntimeError(f"{shipped.student}: a notebook path outside its folder")
    notebook.parent.mkdir(parents=True, exist_ok=True)
    if shipped.notebook is not None:
        notebook.write_bytes(shipped.notebook)
    for name, data in shipped.files:
        if "/" in name or name.startswith("."):
            raise RuntimeError(f"{shipped.student}: a file name that is not a plain name")
        (notebook.parent / name).write_bytes(data)
    return Job(shipped.student, notebook, tests, folder=folder)


def _client_notes(shipped: ShippedJob, output: list[str]) -> list[str]:
    """The feedback's notes on the folder's files as the client read it: the worker's copy
    holds only the files that were shipped, so its notes would miss those that were not."""
    from autograder.engine.grade import copy_notes

    own = copy_notes([name for name, _ in shipped.files], [])
    if output[: len(own)] != own:
        return output
    return [*shipped.notes, *output[len(own):]]
