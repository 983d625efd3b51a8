"""Read otter-grader's outputs: ``final_grades.csv`` and per-student ``results.json``.

``otter grade`` writes ``final_grades.csv``: a ``file`` column (the submission's file name,
whose stem is taken as the student id), one column per question, then
``total_points_earned``, ``percent_correct`` and ``grading_status`` ("Completed" or the error).
Its first row, with ``file`` = ``points-per-question``, holds each question's points.

``otter run`` (and otter on Gradescope) writes ``results.json`` in Gradescope's format: one
entry per question with ``score`` and ``max_score``, plus entries without a score ("Public
Tests", "Autograder Failed") that are notices. Give a folder holding ``<student>/results.json``
or ``<student>.json`` files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from gradebook.ingest.errors import IngestError
from gradebook.store import Result, Run, Submission

__all__ = ["read_otter_final_grades", "read_otter_results"]

POINTS_ROW = "points-per-question"
SUMMARY_COLUMNS = {"file", "total_points_earned", "percent_correct", "grading_status"}


def _otter_version() -> str:
    try:
        import otter

        return str(otter.__version__)
    except Exception:  # otter is optional for reading its files
        return ""


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(number) else number


def read_otter_final_grades(path: Path, assignment: str) -> Run:
    """One run from otter's ``final_grades.csv``."""
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"file": str})
    except (OSError, ValueError) as error:
        raise IngestError(f"{path}: not a readable CSV ({error})") from None
    missing = SUMMARY_COLUMNS - set(table.columns)
    if missing:
        raise IngestError(f"{path}: not otter's final_grades.csv (no {sorted(missing)} column)")
    question_columns = [c for c in table.columns if c not in SUMMARY_COLUMNS]
    points_rows = table[table["file"] == POINTS_ROW]
    if points_rows.empty:
        raise IngestError(
            f"{path}: no '{POINTS_ROW}' row, so the points per question are unknown "
            "(otter omits it when every submission failed to grade)"
        )
    points = {q: _number(points_rows.iloc[0][q]) for q in question_columns}
    submissions = []
    for _, row in table[table["file"] != POINTS_ROW].iterrows():
        status_text = str(row["grading_status"])
        completed = status_text == "Completed"
        results = [
            Result(q, q, _number(row[q]) if completed else 0.0, points[q])
            for q in question_columns
        ]
        submissions.append(
            Submission(
                student=Path(str(row["file"])).stem,
                results=results,
                status="graded" if completed else "error",
                message="" if completed else status_text[:500],
            )
        )
    return Run(
        assignment=assignment,
        source_kind="otter",
        source=str(path.resolve()),
        submissions=submissions,
        engine="otter",
        engine_version=_otter_version(),
        questions=points,
    )


def _results_files(folder: Path) -> list[tuple[str, Path]]:
    found = [(p.parent.name, p) for p in sorted(folder.glob("*/results.json"))]
    found += [(p.stem, p) for p in sorted(folder.glob("*.json"))]
    return found


def read_otter_results(folder: Path, assignment: str) -> Run:
    """One run from otter's Gradescope-format ``results.json`` files, one per student."""
    folder = Path(folder)
    files = _results_files(folder)
    if not files:
        raise IngestError(f"{folder}: no <student>/results.json or <student>.json inside")
    submissions = []
    questions: dict[str, float] = {}
    for student, path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            tests = document["tests"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise IngestError(f"{path}: not an otter results.json ({error})") from None
        results = []
        notices = []
        for test in tests:
            if "max_score" in test:
                name = str(test["name"])
                max_score = _number(test["max_score"])
                results.append(Result(name, name, _number(test.get("score")), max_score))
                questions.setdefault(name, max_score)
            elif test.get("name") not in (None, "Public Tests"):
                notices.append(f"{test['name']}: {str(test.get('output', ''))[:300]}")
        submissions.append(
            Submission(
                student=student,
                results=results,
                status="graded" if results else "error",
                message="\n".join(notices),
            )
        )
    # A student whose grading failed has no per-question entries: zero on every question.
    for submission in submissions:
        if not submission.results:
            submission.results = [Result(q, q, 0.0, p) for q, p in questions.items()]
    return Run(
        assignment=assignment,
        source_kind="otter",
        source=str(folder.resolve()),
        submissions=submissions,
        engine="otter",
        engine_version=_otter_version(),
        questions=questions,
    )
