"""Read an ``nngrade grade`` results folder: ``<student>/results.json`` for every student.

Each results.json is Gradescope's format with nngrade's ``extra_data``: the problem set, the
engine and its version, the submission's status and sha256, and when it was submitted and
graded. Test names are ``"<question>: <test>"``.
"""

from __future__ import annotations

import json
from pathlib import Path

from gradebook.ingest.errors import IngestError
from gradebook.store import Result, Run, Submission

__all__ = ["read_nngrade_results"]


def _split_name(name: str) -> tuple[str, str]:
    question, _, test = str(name).partition(": ")
    return (question, test) if test else (question, question)


def _read_one(path: Path) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IngestError(f"{path}: not a readable results.json ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("tests"), list):
        raise IngestError(f"{path}: has no list of tests; is it an nngrade results.json?")
    return document


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
        document = _read_one(path)
        extra = document.get("extra_data") or {}
        results = []
        per_question: dict[str, float] = {}
        for test in document["tests"]:
            if "max_score" not in test:
                continue  # a notice, not a scored test
            question, name = _split_name(test.get("name", ""))
            results.append(
                Result(
                    question=question,
                    test=name,
                    score=float(test.get("score") or 0.0),
                    max_score=float(test["max_score"]),
                    message=str(test.get("output") or ""),
                )
            )
            per_question[question] = per_question.get(question, 0.0) + float(test["max_score"])
        if not questions:
            questions = per_question
        submissions.append(
            Submission(
                student=path.parent.name,
                results=results,
                status=str(extra.get("status", "graded")),
                message=str(document.get("output") or ""),
                submitted_at=extra.get("submitted_at"),
                sha256=str(extra.get("sha256", "")),
            )
        )
        if extra.get("problem_set"):
            problem_sets.add(str(extra["problem_set"]))
        engines.add((str(extra.get("engine", "nngrade")), str(extra.get("engine_version", ""))))
        if extra.get("graded_at"):
            graded_times.append(str(extra["graded_at"]))
        if extra.get("solutions_commit"):
            commits.add(str(extra["solutions_commit"]))
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
