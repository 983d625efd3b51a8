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

This module is the client's side; what travels and what a worker does with it are in
:mod:`autograder.engine.cluster_tasks`.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.engine.base import Engine
from autograder.engine.cluster_tasks import (
    NamedEngine,
    SandboxRefused,
    ShippedJob,
    grade_shipped,
    host_problems,
    ship,
)
from autograder.engine.job import Job
from autograder.engine.runner import Graded, grade_to_data
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

    Its worker processes come from a fork server: a process started clean, which imports the
    grader once and forks a worker whenever a nanny asks, so that each worker starts with the
    grader already imported (a spawned worker imports it again: 10 s and more on a busy 2-core
    machine, per worker, per batch). They are never forked from this process itself: its
    nannies fork from a thread while the event loop's thread logs, and a child forked while
    another thread held a stream's lock waits for that lock forever. No memory limit of
    Dask's: the sandbox bounds each notebook in its own cgroup, and a nanny that killed a
    worker for its children's memory would only make the task run again elsewhere.
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        _preload_the_grader()
        with LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            resources={SANDBOX_RESOURCE: 1},
            memory_limit=0,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster:
            yield cluster


#: What the fork server imports before its first fork: Dask's worker, and everything a
#: grading imports on first use (the nngrade engine, the sandbox's host checks and cgroups,
#: the course data's location, the hidden tests' numerical helpers).
FORK_SERVER_PRELOAD = (
    "distributed",
    "autograder.engine.cluster_tasks",
    "autograder.engine.grade",
    "autograder.engine.registry",
    "autograder.engine.sandbox.host",
    "autograder.engine.sandbox.cgroups",
    "nnkit.mnist",
    "reference_impl",
    "scipy.special",
)


def _preload_the_grader() -> None:
    """Have the fork server import :data:`FORK_SERVER_PRELOAD` before its first fork (once
    per process: a fork server already running keeps what it imported)."""
    from distributed.utils import get_mp_context

    get_mp_context().set_forkserver_preload(list(FORK_SERVER_PRELOAD))


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
        from nnkit.mnist import course_data_dir

        data = course_data_dir()
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
