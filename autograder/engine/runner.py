"""Grade one job with any engine, and write its files: the two halves every runner repeats.

:func:`grade_to_data` grades a job and renders its feedback, returning :class:`Graded`, plain
data; :func:`write_graded` writes it atomically. A runner calls the first where the grading
happens (a worker of the local process pool, :mod:`autograder.engine.batch`, or a worker of a
Dask cluster, :mod:`autograder.engine.cluster`) and the second in the client, which alone
writes the results folder. It knows engines only through their interface: a job without a
notebook, and one whose notebook the intake refuses (a symbolic link, a device or FIFO, a file
too large: :mod:`autograder.engine.submission`), is recorded here as malformed, for every
engine alike, before any engine reads it; and the result gets its provenance (problem set,
engine and version, digests, when it was submitted and graded, the commit submitted, the
solutions commit).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from autograder.engine.base import Engine
from autograder.engine.feedback import feedback_html, feedback_markdown
from autograder.engine.job import Job
from autograder.engine.provenance import submission_commit, submitted_at
from autograder.engine.sandbox import SandboxLimits
from autograder.engine.submission import MalformedSubmission, read_notebook_bytes
from autograder.results import MALFORMED, SubmissionResult, write_results

__all__ = [
    "NO_NOTEBOOK",
    "Graded",
    "grade_job",
    "grade_to_data",
    "render",
    "write_graded",
    "grade_and_write",
    "intake_problem",
]

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
        submitted_at=None if refused is not None else job.submitted_at or _submitted_at(job),
        submission_commit="" if refused is not None else job.commit or submission_commit(job),
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


@dataclass(frozen=True)
class Graded:
    """One job graded, as data: the result and its feedback, rendered. What a worker sends
    back and the client writes."""

    student: str
    result: SubmissionResult
    feedback_md: str
    feedback_html: str


def render(student: str, result: SubmissionResult) -> Graded:
    """``result`` with its feedback rendered, ready to write under ``student``."""
    return Graded(student, result, feedback_markdown(result), feedback_html(result))


def grade_to_data(engine: Engine, job: Job, limits: SandboxLimits) -> Graded:
    """Grade ``job`` and render its feedback; nothing is written. Raises only for grader
    failures."""
    return render(job.student, grade_job(engine, job, limits))


def write_graded(graded: Graded, out: Path) -> str:
    """Write ``out/<student>/feedback.md``, ``feedback.html`` and, last, ``results.json``,
    each atomically; returns the student id."""
    write_results(graded.result, out / graded.student, graded.feedback_md, graded.feedback_html)
    return graded.student


def grade_and_write(engine: Engine, job: Job, limits: SandboxLimits, out: Path) -> str:
    """Grade ``job`` and write its files in this process; returns the student id."""
    return write_graded(grade_to_data(engine, job, limits), out)
