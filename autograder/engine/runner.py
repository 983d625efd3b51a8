"""Grade one job with any engine and write its files: the step every runner repeats.

The local process pool (:mod:`autograder.engine.batch`) calls :func:`grade_and_write` in each
worker; a distributed runner calls the same function on its workers. It knows engines only
through their interface: a job without a notebook, and one whose notebook the intake refuses
(a symbolic link, a device or FIFO, a file too large: :mod:`autograder.engine.submission`), is
recorded here as malformed, for every engine alike, before any engine reads it; and the
result gets its provenance (problem set, engine and version, digests, when it was
submitted and graded, the solutions commit) before it is written.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from autograder.engine.base import Engine
from autograder.engine.feedback import feedback_html, feedback_markdown
from autograder.engine.job import Job
from autograder.engine.provenance import submitted_at
from autograder.engine.sandbox import SandboxLimits
from autograder.engine.submission import MalformedSubmission, read_notebook_bytes
from autograder.results import MALFORMED, SubmissionResult, write_results

__all__ = ["NO_NOTEBOOK", "grade_job", "grade_and_write", "intake_problem"]

NO_NOTEBOOK = "No notebook was found in this submission."


def grade_job(engine: Engine, job: Job, limits: SandboxLimits) -> SubmissionResult:
    """``engine``'s result for ``job``, with its provenance. Raises only for grader failures."""
    refused = intake_problem(job)
    if job.notebook is None:
        result = SubmissionResult.ungraded(
            job.student, job.problem_set.questions(), NO_NOTEBOOK, MALFORMED
        )
    elif refused is not None:
        message = f"This notebook could not be graded: {refused}."
        result = SubmissionResult.ungraded(
            job.student, job.problem_set.questions(), message, MALFORMED
        )
    else:
        result = engine.grade(job, limits)
    return replace(
        result,
        problem_set=job.problem_set.name,
        engine=engine.name,
        engine_version=engine.version(),
        submission_digest=job.digest(),
        tests_fingerprint=job.problem_set.fingerprint,
        # Nothing is read through a refused notebook's links, not even its git history.
        submitted_at=None if refused is not None else _submitted_at(job),
        graded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        solutions_commit=job.problem_set.solutions_commit,
        manual=dict(job.problem_set.manual),
    )


def _submitted_at(job: Job) -> str | None:
    try:
        return submitted_at(job)
    except OSError:  # the notebook vanished since it was graded
        return None


def intake_problem(job: Job) -> str | None:
    """Why the intake refuses ``job``'s notebook, or None (also when it is simply missing:
    the engine reports that)."""
    if job.notebook is None:
        return None
    try:
        read_notebook_bytes(job.notebook, job.within)
    except MalformedSubmission as error:
        return str(error)
    except OSError:
        return None
    return None


def grade_and_write(engine: Engine, job: Job, limits: SandboxLimits, out: Path) -> str:
    """Grade ``job`` and write ``out/<student>/feedback.md``, ``feedback.html`` and
    ``results.json``; returns
    the student id."""
    result = grade_job(engine, job, limits)
    write_results(
        result, out / job.student, feedback_markdown(result), feedback_html(result)
    )
    return job.student
