"""Read nbgrader's ``gradebook.db``, cell by cell, through ``nbgrader.api.Gradebook``.

One run per nbgrader assignment. Every graded cell (autograded tests, manually graded
answers, tasks) becomes a result whose question is the cell's name (prefixed by the notebook
name when the assignment has several notebooks). A cell's score is nbgrader's own: the manual
score when a grader gave one, else the autograder's, plus any extra credit. nbgrader's students
without a submission are recorded as ``missing``; its due dates, submission timestamps and
students' names come along.
"""

from __future__ import annotations

from pathlib import Path

from gradebook.ingest.errors import IngestError
from gradebook.store import Result, Run, Submission, to_utc_iso

__all__ = ["read_nbgrader"]


def _version() -> str:
    import nbgrader

    return str(nbgrader.__version__)


def read_nbgrader(database: str | Path, assignment: str | None = None) -> list[Run]:
    """Runs for every assignment in ``database`` (a path or a SQLAlchemy URL), or just one."""
    from nbgrader.api import Gradebook, MissingEntry

    text = str(database)
    if "://" not in text:
        path = Path(text)
        if not path.is_file():  # nbgrader would quietly create an empty database there
            raise IngestError(f"{path}: no such nbgrader gradebook")
        text = f"sqlite:///{path.resolve()}"
    runs = []
    with Gradebook(text) as gb:
        students = gb.students
        details = {
            s.id: {
                "name": " ".join(x for x in (s.first_name, s.last_name) if x),
                "email": s.email or "",
            }
            for s in students
        }
        chosen = [a for a in gb.assignments if assignment is None or a.name == assignment]
        if not chosen:
            raise IngestError(f"{database}: no nbgrader assignment {assignment!r}")
        for master in chosen:
            several = len(master.notebooks) > 1
            questions: dict[str, float] = {}
            for notebook in master.notebooks:
                for cell in sorted(notebook.grade_cells, key=lambda c: c.name):
                    key = f"{notebook.name}/{cell.name}" if several else cell.name
                    questions[key] = float(cell.max_score)
            submissions = []
            for student in students:
                try:
                    submitted = gb.find_submission(master.name, student.id)
                except MissingEntry:
                    submissions.append(
                        Submission(
                            student=student.id,
                            results=[Result(q, q, 0.0, p) for q, p in questions.items()],
                            status="missing",
                            message="No submission in nbgrader.",
                        )
                    )
                    continue
                results = []
                pending = []
                for notebook in submitted.notebooks:
                    for grade in notebook.grades:
                        key = f"{notebook.name}/{grade.name}" if several else grade.name
                        message = ""
                        if grade.needs_manual_grade:
                            message = "waiting for manual grading"
                            pending.append(key)
                        results.append(
                            Result(key, key, float(grade.score), float(grade.max_score), message)
                        )
                order = {q: i for i, q in enumerate(questions)}
                results.sort(key=lambda r: order.get(r.question, len(order)))
                submissions.append(
                    Submission(
                        student=student.id,
                        results=results,
                        status="graded",
                        message=("Needs manual grading: " + ", ".join(pending)) if pending else "",
                        submitted_at=to_utc_iso(submitted.timestamp),
                    )
                )
            runs.append(
                Run(
                    assignment=master.name,
                    source_kind="nbgrader",
                    source=text,
                    submissions=submissions,
                    engine="nbgrader",
                    engine_version=_version(),
                    questions=questions,
                    due_at=to_utc_iso(master.duedate),
                    student_details=details,
                )
            )
    return runs
