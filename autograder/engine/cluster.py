"""Grade a batch on a Dask cluster (``dask.distributed``): the runner behind ``--cluster``.

``tcp://HOST:PORT`` connects to a running scheduler; ``local:N`` starts a ``LocalCluster`` of
N single-threaded worker processes for the batch. Each task grades one submission, on one
worker, with the same engine interface and the same :func:`grade_to_data` as the local pool,
and returns a :class:`~autograder.engine.runner.Graded` as data; the client alone writes it
(:mod:`autograder.engine.batch`), so resuming, the progress bar and the summary are unchanged.

What crosses to a worker, and what it trusts:

* **the tests** travel as the autograder zip's bytes (tens of kB) with each task, so that no
  task depends on data held by one worker: a task that depended on it would be placed on the
  worker holding it, next to others, and share their fate when it died. A worker writes the
  zip once into a private folder of its own (mode 0700) and grades only if its sha256 and the
  tests' fingerprint are the ones the client computed: it never reads it from a shared path.
* **the submission** travels as bytes too: the client reads the notebook, and a folder
  submission's files, through the same intake as local grading (no link followed, the same
  caps), and the worker grades a private copy. The client keeps what only its copy can tell
  (the submission digest, the time of submission) and the result carries those.
* **the engine**: a named engine is made on the worker for that host (its own MNIST cache);
  an engine object is shipped as it is.

Dask cannot interrupt a running task, so each task bounds itself: the sandbox's deadline
does (``total_timeout`` + the grader's margin). Tasks get explicit keys, unique per batch,
so that regrading the same submission never returns a cached result. A worker that dies
mid-task makes the scheduler run the task elsewhere; after ``allowed-failures`` deaths
(Dask's setting, 3) it gives up with ``KilledWorker``, which is that student's grader failure
with the reason, and the rest of the batch goes on. When the workers declare a ``sandbox``
resource (``dask worker ... --resources "sandbox=1"``) each task takes one.

Under ``--require-sandbox`` a worker that cannot give every sandbox guarantee refuses its
tasks, naming itself; the client asks every worker first, says which cannot, and sends the
tasks only to those that can (when there are any).
"""

from __future__ import annotations

import atexit
import fnmatch
import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.engine.base import Engine, EngineSettings
from autograder.engine.job import Job, ProblemSetTests
from autograder.engine.runner import Graded, grade_job, grade_to_data, intake_problem, render
from autograder.engine.submission import (
    MAX_SUBMISSION_FILES,
    MAX_SUBMISSION_FILES_BYTES,
    MalformedSubmission,
    open_folder,
    open_regular,
    read_capped,
    read_notebook_bytes,
    regular_files,
)
from autograder.errors import NngradeError
from autograder.limits import SandboxLimits

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "LOCAL",
    "ClusterError",
    "SandboxRefused",
    "NamedEngine",
    "ShippedJob",
    "connect",
    "local_cluster",
    "grade_on_cluster",
    "parse_local",
]

#: ``local:N``: a LocalCluster of N worker processes for this batch.
LOCAL = "local:"
#: The worker resource a sandboxed grading takes, when the workers declare it.
SANDBOX_RESOURCE = "sandbox"
CONNECT_TIMEOUT = "30s"


class ClusterError(NngradeError):
    """``--cluster`` names no cluster this client can use."""


class SandboxRefused(RuntimeError):
    """A worker cannot sandbox and ``--require-sandbox`` is set: it refuses the task."""


def parse_local(spec: str) -> int | None:
    """N for ``local:N``; None for a scheduler's address. Raises :class:`ClusterError`."""
    if not spec.startswith(LOCAL):
        if "://" not in spec:
            raise ClusterError(
                f"--cluster {spec!r}: give a scheduler's address (tcp://HOST:8786) or local:N"
            )
        return None
    count = spec[len(LOCAL):]
    if not count.isdigit() or int(count) < 1:
        raise ClusterError(f"--cluster {spec!r}: local:N needs a number of workers N >= 1")
    return int(count)


@contextmanager
def connect(spec: str) -> Iterator[Client]:
    """A client of the cluster ``spec`` (see :func:`parse_local`); a local cluster is
    started here and stopped on leaving."""
    from distributed import Client

    workers = parse_local(spec)
    if workers is None:
        try:
            client = Client(spec, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except OSError as error:
            raise ClusterError(f"--cluster {spec}: cannot reach the scheduler ({error})") from None
        with client:
            yield client
        return
    with local_cluster(workers) as cluster, Client(cluster, set_as_default=False) as client:
        yield client


@contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes, each with one
    ``sandbox`` slot, running while in the block.

    Its worker processes are forked from this one, as the local pool's are, so that they
    start with the grader already imported (a spawned worker imports it again: 10 s and more
    on a busy 2-core machine, per worker, per batch); a worker the nanny restarts after a
    death is forked too. No memory limit of Dask's: the sandbox bounds each notebook in its
    own cgroup, and a nanny that killed a worker for its children's memory would only make
    the task run again elsewhere.
    """
    import dask
    from distributed import LocalCluster

    import autograder.engine.grade  # noqa: F401  (imported before the workers fork)

    with (
        dask.config.set({"distributed.worker.multiprocessing-method": "fork"}),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            resources={SANDBOX_RESOURCE: 1},
            memory_limit=0,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
    ):
        yield cluster


# ------------------------------------------------------------------ what travels


@dataclass(frozen=True)
class NamedEngine:
    """A registered engine, made on the worker for that host: the client's read-only folders
    that exist there, and the worker's own MNIST cache where the client bound its own."""

    name: str
    readonly_paths: tuple[Path, ...]
    bind_data: bool
    require_sandbox: bool

    def make(self) -> Engine:
        from autograder.engine.registry import get_engine
        from nnkit.mnist import data_dir

        paths = [p for p in self.readonly_paths if p.is_dir()]
        data = data_dir()
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
    """The files :func:`~autograder.engine.grade.copy_submission_files` would copy (those
    matching ``patterns``), read the same way (no link, ``O_NONBLOCK``, the same caps), and
    its notes."""
    from autograder.engine.grade import copy_notes, folder_unreadable_note

    copied: list[tuple[str, bytes]] = []
    skipped: list[str] = []
    unused: list[str] = []
    total = 0
    try:
        folder_fd = open_folder(folder, folder if within is None else within)
    except (MalformedSubmission, OSError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        return [], [folder_unreadable_note(str(reason))]
    try:
        for name in regular_files(folder_fd, notebook_name):
            if not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
                unused.append(name)
                continue
            if len(copied) >= MAX_SUBMISSION_FILES:
                skipped.append(name)
                continue
            data = _read_file(folder_fd, name, MAX_SUBMISSION_FILES_BYTES - total)
            if data is None:
                skipped.append(name)
            else:
                total += len(data)
                copied.append((name, data))
    except OSError as error:
        return [], [folder_unreadable_note(str(error.strerror))]
    finally:
        os.close(folder_fd)
    return copied, copy_notes([name for name, _ in copied], skipped, unused, patterns)


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


# ------------------------------------------------------------------ on the client


def grade_on_cluster(
    spec: str,
    requested: str | Engine,
    engine: Engine,
    limits: SandboxLimits,
    todo: list[Job],
    require_sandbox: bool,
    readonly_paths: tuple[Path, ...],
    say: Callable[[str], None] | None = None,
) -> Generator[tuple[Job, Graded | str]]:
    """Grade ``todo`` on the cluster ``spec``; yields each job with its :class:`Graded` or the
    reason of its grader failure, as they finish. ``requested``: the engine's name (made on
    each worker) or an engine object (shipped); ``engine``: the same, made here, for the
    jobs that need no worker."""
    from distributed import as_completed

    say = say or (lambda message: None)
    # Jobs without a gradable notebook: their result is the intake's, made here.
    shipped: list[tuple[Job, ShippedJob]] = []
    tests_zip: bytes | None = None
    sha = ""
    for job in todo:
        if tests_zip is None:
            tests_zip = job.problem_set.autograder_zip.read_bytes()
            sha = hashlib.sha256(tests_zip).hexdigest()
        try:
            packed = ship(job, sha)
        except Exception as error:
            yield job, f"{type(error).__name__}: {error}"
            continue
        if packed is None:
            try:
                yield job, grade_to_data(engine, job, limits)
            except Exception as error:
                yield job, f"{type(error).__name__}: {error}"
        else:
            shipped.append((job, packed))
    if not shipped:
        return
    if isinstance(requested, str):
        from nnkit.mnist import data_dir

        data = data_dir()
        others = tuple(p for p in readonly_paths if p != data)
        remote: NamedEngine | Engine = NamedEngine(
            requested, others, data in readonly_paths, require_sandbox
        )
    else:
        remote = requested
    with connect(spec) as client:
        placement = _placement(client, remote, require_sandbox, say)
        batch = uuid.uuid4().hex[:12]
        # At most as many tasks in flight as the workers have sandbox slots: a worker that
        # dies then takes only the task it was running with it (Dask counts a death against
        # every task assigned to the worker), and the submissions wait here, not in the
        # scheduler's memory.
        waiting = list(enumerate(shipped))[::-1]
        running: dict[Any, Job] = {}

        def top_up() -> list[Any]:
            added = []
            room = _slots(client, placement) - len(running)
            while waiting and room > 0:
                number, (job, packed) = waiting.pop()
                future = client.submit(
                    grade_shipped, remote, packed, tests_zip, limits, require_sandbox,
                    key=f"nngrade-grade-{batch}-{number}", pure=False, **placement,
                )  # fmt: skip
                running[future] = job
                added.append(future)
                room -= 1
            return added

        done = as_completed(top_up(), loop=client.loop)
        for future in done:
            job = running.pop(future)
            for more in top_up():
                done.add(more)
            try:
                outcome: Graded | str = future.result()
            except Exception as error:
                outcome = _failure(error)
            finally:
                future.release()
            yield job, outcome
            if not running and not waiting:
                break


def _slots(client: Client, placement: dict[str, Any]) -> int:
    """How many gradings the workers the tasks may go to can run at once (at least 1)."""
    allowed = placement.get("workers")
    total = 0.0
    for address, worker in client.scheduler_info(n_workers=-1)["workers"].items():
        if allowed is not None and address not in allowed:
            continue
        if "resources" in placement:
            total += (worker.get("resources") or {}).get(SANDBOX_RESOURCE, 0)
        else:
            total += worker.get("nthreads", 1)
    return max(1, int(total))


def _placement(
    client: Client, engine: NamedEngine | Engine, require_sandbox: bool, say: Callable[[str], None]
) -> dict[str, Any]:
    """Where the tasks may run: what each worker cannot guarantee is said; with
    ``require_sandbox`` only the workers that can sandbox get tasks (if any can: else each
    refuses them, naming itself); each task takes one ``sandbox`` resource when the workers
    declare it."""
    problems = client.run(host_problems, engine, on_error="return")
    able = []
    for address, found in sorted(problems.items()):
        if isinstance(found, BaseException):
            say(f"worker {address}: could not say what it guarantees ({found})")
            continue
        for problem in found:
            say(f"worker {address}: {problem}")
        if not found:
            able.append(address)
    placement: dict[str, Any] = {}
    if require_sandbox and able and len(able) < len(problems):
        say(f"--require-sandbox: grading only on the workers that can sandbox: {', '.join(able)}")
        placement["workers"] = able
    workers = client.scheduler_info(n_workers=-1)["workers"]
    if any(SANDBOX_RESOURCE in (w.get("resources") or {}) for w in workers.values()):
        placement["resources"] = {SANDBOX_RESOURCE: 1}
    return placement


def _failure(error: BaseException) -> str:
    """A grader failure's reason, for the report."""
    from distributed.scheduler import KilledWorker

    if isinstance(error, KilledWorker):
        try:
            last = getattr(error.last_worker, "address", error.last_worker)
            count = error.allowed_failures + 1
        except (IndexError, AttributeError):
            return f"KilledWorker: {error}"
        return (
            f"KilledWorker: every worker that graded it died while grading it ({count} in "
            f"turn, the last {last}); Dask gave up on it"
        )
    return f"{type(error).__name__}: {error}"
