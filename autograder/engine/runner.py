"""Grade one job with any engine and write its files: the step every runner repeats.

The local process pool (:mod:`autograder.engine.batch`) calls :func:`grade_and_write` in each
worker; a distributed runner calls the same function on its workers. It knows engines only
through their interface: a job without a notebook is recorded here, for every engine alike,
and the result gets its provenance (problem set, engine and version, digests, when it was
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
from autograder.results import MALFORMED, SubmissionResult, write_results

__all__ = ["NO_NOTEBOOK", "grade_job", "grade_and_write"]

NO_NOTEBOOK = "No notebook was found in this submission."


def grade_job(engine: Engine, job: Job, limits: SandboxLimits) -> SubmissionResult:
    """``engine``'s result for ``job``, with its provenance. Raises only for grader failures."""
    if job.notebook is None:
        result = SubmissionResult.ungraded(
            job.student, job.problem_set.questions(), NO_NOTEBOOK, MALFORMED
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
        submitted_at=submitted_at(job),
        graded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        solutions_commit=job.problem_set.solutions_commit,
        manual=dict(job.problem_set.manual),
    )


def grade_and_write(engine: Engine, job: Job, limits: SandboxLimits, out: Path) -> str:
    """Grade ``job`` and write ``out/<student>/feedback.md``, ``feedback.html`` and
    ``results.json``; returns
    the student id."""
    result = grade_job(engine, job, limits)
    write_results(
        result, out / job.student, feedback_markdown(result), feedback_html(result)
    )
    return job.student
