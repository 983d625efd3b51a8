"""Grade a folder of submissions: in parallel, resumably, one student's failure never another's.

``SUBMISSIONS`` holds either ``<student>.ipynb`` files or ``<student>/`` folders (a clone of the
student's repository) containing the notebook. Each student's results go to
``OUT/<student>/results.json`` and ``feedback.md``; ``OUT/summary.csv`` is rebuilt from all
results at the end, so a resumed batch reports everyone.

Two runners grade the jobs: by default a local process pool that ships each :class:`Job`
and the engine to a worker, or, with ``cluster``, the workers of a Dask cluster
(:mod:`autograder.engine.cluster`). Either way a worker calls
:func:`autograder.engine.runner.grade_to_data` and sends the result back as data, and this
process alone writes it (:func:`autograder.engine.runner.write_graded`), so resuming, the
progress bar and the summary are the same for both. It knows engines only through
:mod:`autograder.engine.registry` and their interface.

Resuming: a student whose ``results.json`` records the same submission digest (the notebook
and any files next to it in a folder submission) and the same tests fingerprint is skipped
(``force`` regrades). Because results.json is replaced atomically and
written last, a batch killed at any moment leaves each student either fully graded or not at
all, never half-written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from autograder.engine.base import Engine, EngineSettings
from autograder.engine.feedback import manual_questions
from autograder.engine.job import Job, ProblemSetTests, find_submissions
from autograder.engine.parallelism import workers_that_fit
from autograder.engine.provenance import solutions_commit
from autograder.engine.registry import DEFAULT_ENGINE, get_engine
from autograder.engine.runner import Graded, grade_to_data, write_graded
from autograder.engine.sandbox import SandboxLimits
from autograder.problem_sets import kernel_setup as read_kernel_setup
from autograder.problem_sets import submission_file_patterns
from autograder.results import RESULTS_FILE, ResultsFormatError, read_results, write_summary

__all__ = ["BatchReport", "grade_batch"]


@dataclass
class BatchReport:
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # grader failures, not student ones
    summary_csv: Path | None = None
    #: CPU seconds this process spent running the batch (handing the jobs to the runner,
    #: receiving and writing the results; with ``local:N``, the scheduler too): the client's
    #: overhead, which waiting for the workers does not count.
    client_cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


def _already_graded(out: Path, job: Job) -> bool:
    try:
        previous = read_results(out / job.student / RESULTS_FILE)
    except ResultsFormatError:
        return False
    return (
        previous.submission_digest == job.digest()
        and previous.tests_fingerprint == job.problem_set.fingerprint
    )


def _grading_config(ps_name: str, master: Path | None) -> Path:
    """The ``grading.yaml`` of the problem set graded (it may not exist)."""
    if master is not None:
        return master.parent / "grading.yaml"
    from autograder.errors import ConfigError
    from autograder.problem_sets import repo_root

    try:
        return repo_root() / "solutions" / ps_name / "grading.yaml"
    except ConfigError:  # no checkout: a zip graded on its own
        return Path(os.devnull)


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
    engine: str | Engine = DEFAULT_ENGINE,
    progress: bool = True,
    master: Path | None = None,
    kernel_setup: str | None = None,
    submission_files: tuple[str, ...] | None = None,
    trust_saved_models: bool = False,
    find_jobs: Callable[[Path, ProblemSetTests], list[Job]] = find_submissions,
    cluster: str | None = None,
    say: Callable[[str], None] | None = None,
) -> BatchReport:
    """Grade every submission not already graded; then rewrite ``summary.csv``.

    ``engine`` is an engine's name (made with ``readonly_paths`` and ``require_sandbox``) or
    an engine already made. ``master`` is the problem set's master file, whose commit every
    result records as ``solutions_commit``. ``kernel_setup``: code the engine runs before the
    student's first cell; by default the ``kernel_setup:`` of the ``grading.yaml`` next to
    ``master`` (without ``master``: the problem set ``ps_name`` of this checkout, if any).
    ``submission_files``: the patterns of the files next to a folder submission's notebook
    graded with it; by default that ``grading.yaml``'s ``submission_files:``, plus its
    ``saved_models:`` when ``trust_saved_models``. ``find_jobs`` reads the submissions' layout
    (nbgrader's ``submitted/``: :func:`autograder.engine.nbgrader_course.find_nbgrader_jobs`).

    ``cluster``: grade on a Dask cluster instead of the local pool, ``tcp://HOST:PORT`` (its
    scheduler) or ``local:N`` (a ``LocalCluster`` of N single-threaded worker processes,
    started for this batch); ``workers`` is then unused. The local pool runs fewer workers
    than asked when memory holds fewer kernels of ``limits.memory_mb``
    (:mod:`autograder.engine.parallelism`). ``say`` is told that, and what a cluster's workers
    cannot guarantee (one sentence each), before grading starts.
    """
    limits = limits or SandboxLimits()
    requested = engine  # a cluster's workers make a named engine for their own host
    if isinstance(engine, str):
        engine = get_engine(engine, EngineSettings(tuple(readonly_paths), require_sandbox))
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*/.*.json.*"):  # temporaries of a batch that was killed mid-write
        stale.unlink(missing_ok=True)
    for stale in [*out.glob("*/.*.md.*"), *out.glob("*/.*.html.*")]:
        stale.unlink(missing_ok=True)
    commit = solutions_commit(master) if master is not None else ""
    config = _grading_config(ps_name, master)
    if kernel_setup is None:
        kernel_setup = read_kernel_setup(config)
    if submission_files is None:
        submission_files = submission_file_patterns(config, trust_saved_models)
    manual = tuple(manual_questions(master).items()) if master is not None else ()
    tests = ProblemSetTests.from_zip(ps_name, autograder_zip, commit, kernel_setup, manual,
                                     tuple(submission_files))
    report = BatchReport()
    jobs = find_jobs(submissions, tests)
    todo = []
    for job in jobs:
        if not force and _already_graded(out, job):
            report.skipped.append(job.student)
        else:
            todo.append(job)
    cpu_start = time.process_time()
    if cluster is None:
        count, why = workers_that_fit(workers or os.cpu_count() or 1, limits.memory_mb)
        if why is not None and todo and say is not None:
            say(why)
        outcomes = _local_pool(engine, limits, count, todo)
    else:
        from autograder.engine.cluster import grade_on_cluster

        outcomes = grade_on_cluster(
            cluster, requested, engine, limits, todo, require_sandbox, tuple(readonly_paths), say
        )
    bar = tqdm(total=len(todo), desc=f"grading {ps_name}", unit="submission", disable=not progress)
    try:
        for job, outcome in outcomes:
            try:
                if isinstance(outcome, Graded):
                    report.graded.append(write_graded(outcome, out))
                else:
                    report.failed[job.student] = outcome
            except Exception as error:  # the results folder could not be written
                report.failed[job.student] = f"{type(error).__name__}: {error}"
            bar.update()
    finally:
        outcomes.close()
        bar.close()
    report.client_cpu_seconds = time.process_time() - cpu_start
    report.summary_csv = write_summary(out, [j.student for j in jobs], tests.questions())
    return report


def _local_pool(
    engine: Engine, limits: SandboxLimits, workers: int, todo: list[Job]
) -> Generator[tuple[Job, Graded | str]]:
    """The local runner: a process pool of ``workers`` processes."""
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(todo) or 1))) as pool:
        futures = {pool.submit(grade_to_data, engine, job, limits): job for job in todo}
        for future in as_completed(futures):
            job = futures[future]
            try:
                yield job, future.result()
            except Exception as error:  # a bug or an environment problem in the grader
                yield job, f"{type(error).__name__}: {error}"
