"""Read an ``nngrade grade`` results folder: ``<student>/results.json`` for every student.

Each file is read through the results contract (:mod:`autograder.results`), the same code
that writes it: Gradescope's format with nngrade's ``extra_data`` (the problem set, the engine
and its version, the submission's status and sha256, when it was submitted and graded, and
the commit of the problem set's master).
"""

from __future__ import annotations

from pathlib import Path

from autograder.results import ResultsFormatError, SubmissionResult, read_results
from gradebook.ingest.errors import IngestError
from gradebook.store import Result, Run, Submission

__all__ = ["read_nngrade_results"]


def _read_one(path: Path) -> SubmissionResult:
    try:
        return read_results(path)
    except ResultsFormatError as error:
        raise IngestError(f"{path}: {error}") from None


def _submission(student: str, result: SubmissionResult) -> Submission:
    return Submission(
        student=student,
        results=[
            Result(
                question=t.question,
                test=t.name,
                score=t.score,
                max_score=t.max_score,
                message=t.message,
            )
            for t in result.tests
        ],
        status=result.status,
        message="\n".join(result.output),
        submitted_at=result.submitted_at,
        sha256=result.sha256,
    )


def read_nngrade_results(folder: Path, assignment: str | None = None) -> Run:
    """One run from ``folder``; ``assignment`` defaults to the problem set the files name."""
    folder = Path(folder)
    paths = sorted(folder.glob("*/results.json"))
    if not paths:
        raise IngestError(f"{folder}: no <student>/results.json inside; is it a results folder?")
    submissions: list[Submission] = []
    questions: dict[str, float] = {}
    problem_sets: set[str] = set()
    engines: set[tuple[str, str]] = set()
    graded_times: list[str] = []
    commits: set[str] = set()
    for path in paths:
        result = _read_one(path)
        if not questions:
            for t in result.tests:
                questions[t.question] = questions.get(t.question, 0.0) + t.max_score
        submissions.append(_submission(path.parent.name, result))
        if result.problem_set:
            problem_sets.add(result.problem_set)
        engines.add((result.engine, result.engine_version))
        if result.graded_at:
            graded_times.append(result.graded_at)
        if result.solutions_commit:
            commits.add(result.solutions_commit)
    if assignment is None:
        if len(problem_sets) != 1:
            raise IngestError(
                f"{folder}: results name problem sets {sorted(problem_sets) or 'none'}; "
                "say which assignment they are with --assignment"
            )
        (assignment,) = problem_sets
    engine, version = sorted(engines)[0] if len(engines) == 1 else ("mixed", "")
    return Run(
        assignment=assignment,
        source_kind="nngrade",
        source=str(folder.resolve()),
        submissions=submissions,
        engine=engine,
        engine_version=version,
        started_at=min(graded_times) if graded_times else None,
        finished_at=max(graded_times) if graded_times else None,
        solutions_commit=commits.pop() if len(commits) == 1 else "",
        questions=questions,
    )
