"""Grades out of the gradebook: Canvas's import CSV, a plain wide CSV, Gradescope-style JSON.

Every export reports points *after* the policy (late penalties, overrides); the plain CSV and
the JSON add the course percentage and letter. Files are replaced atomically.

**Canvas.** Canvas's gradebook import reads a CSV whose first five columns are ``Student``,
``ID``, ``SIS User ID``, ``SIS Login ID`` and ``Section``, followed by one column per
assignment; a second row whose ``Student`` cell reads ``Points Possible`` gives each
assignment's maximum, so that Canvas can create assignments it does not have yet. Canvas
matches a row to a student by ``ID`` (Canvas's own user id), ``SIS User ID`` or ``SIS Login
ID``; we fill ``SIS User ID`` with the roster id and ``SIS Login ID`` with the email, and leave
``ID`` empty because the roster does not know Canvas's internal ids. An assignment column
named ``<title> (<canvas id>)`` updates that existing assignment; we write the plain title,
which Canvas matches by name or creates. Students with no submission get 0, as in the totals.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from autograder.atomic import atomic_write
from gradebook.api import Gradebook
from gradebook.policy import Policy

__all__ = ["canvas_csv", "wide_csv", "gradescope_json", "write_export", "FORMATS"]

FORMATS = ("canvas", "csv", "json")
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _points(value: float) -> str:
    return f"{round(float(value), 2):g}"


def _final_points(scores: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Students × assignments of final points, in course order."""
    wide = scores.pivot(index="student", columns="assignment", values="final_points")
    return wide[list(assignments["name"])]


def canvas_csv(gb: Gradebook, policy: Policy | None = None) -> str:
    """Canvas's gradebook-import CSV, as text."""
    assignments = gb.assignments()
    points = _final_points(gb.assignment_scores(policy or Policy()), assignments)
    titles = [row.title or row.name for row in assignments.itertuples()]
    students = gb.students().set_index("id")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CANVAS_IDENTITY + titles)
    maxima = [_points(m) for m in assignments["max_points"]]
    writer.writerow(["Points Possible", "", "", "", "", *maxima])
    for student, row in points.iterrows():
        info = students.loc[student]
        writer.writerow(
            [info["name"] or student, "", student, info["email"], info["section"]]
            + [_points(row[a]) for a in assignments["name"]]
        )
    return buffer.getvalue()


def wide_csv(gb: Gradebook, policy: Policy | None = None) -> str:
    """One row per student: identity, final points per assignment, percentage, letter."""
    policy = policy or Policy()
    scores, assignments = gb.assignment_scores(policy), gb.assignments()
    points = _final_points(scores, assignments)
    totals = gb.totals(policy, scores).set_index("student")
    students = gb.students().set_index("id")
    table = pd.DataFrame(
        {
            "student": points.index,
            "name": students.loc[points.index, "name"].to_numpy(),
            "email": students.loc[points.index, "email"].to_numpy(),
            "github": students.loc[points.index, "github"].to_numpy(),
        }
    )
    for name in assignments["name"]:
        table[name] = points[name].round(2).to_numpy()
    table["total_percent"] = totals.loc[points.index, "total_percent"].round(2).to_numpy()
    table["letter"] = totals.loc[points.index, "letter"].to_numpy()
    table["dropped"] = totals.loc[points.index, "dropped"].to_numpy()
    return table.to_csv(index=False, lineterminator="\n")


def gradescope_json(gb: Gradebook, policy: Policy | None = None) -> dict[str, dict]:
    """{student: document}: Gradescope's results schema (``score``, ``tests`` with ``name``,
    ``score``, ``max_score``, ``output``) over the whole course, one test per question."""
    policy = policy or Policy()
    scores = gb.assignment_scores(policy)
    totals = gb.totals(policy, scores).set_index("student")
    tests = gb.scores()
    points = gb.question_points()
    matrix_by_assignment = {a: gb.matrix(a) for a in points}
    messages = (
        tests[tests["message"] != ""]
        .groupby(["student", "assignment", "question"])["message"]
        .agg(lambda m: " ".join(dict.fromkeys(m)))
    )
    students = gb.students().set_index("id")
    documents = {}
    for student, rows in scores.groupby("student", sort=True):
        entries = []
        for row in rows.itertuples():
            for question, maximum in points.get(row.assignment, {}).items():
                value = matrix_by_assignment[row.assignment].loc[student, question]
                entries.append(
                    {
                        "name": f"{row.assignment}: {question}",
                        "score": 0.0 if pd.isna(value) else float(value),
                        "max_score": maximum,
                        "output": messages.get((student, row.assignment, question), ""),
                    }
                )
        documents[student] = {
            "score": round(float(rows["final_points"].sum()), 4),
            "tests": entries,
            "extra_data": {
                "student": student,
                "name": students.loc[student, "name"],
                "email": students.loc[student, "email"],
                "assignments": {
                    row.assignment: {
                        "status": row.status,
                        "points": row.points,
                        "days_late": int(row.days_late),
                        "late_penalty_percent": row.late_penalty_percent,
                        "final_points": row.final_points,
                        "max_points": row.max_points,
                    }
                    for row in rows.itertuples()
                },
                "total_percent": round(float(totals.loc[student, "total_percent"]), 4),
                "letter": totals.loc[student, "letter"],
            },
        }
    return documents


def _file_name(student: str) -> str:
    """A file name for a student id: ids come from rosters, so keep path separators out."""
    name = "".join(c if c.isalnum() or c in "-_.@+" else "_" for c in student)
    return name if name.strip(".") else f"_{name}"


def write_export(gb: Gradebook, kind: str, out: Path, policy: Policy | None = None) -> list[Path]:
    """Write an export: a CSV file for ``canvas`` and ``csv``, a folder of
    ``<student>.json`` files for ``json``. Returns the paths written."""
    out = Path(out)
    if kind == "canvas":
        atomic_write(out, canvas_csv(gb, policy))
        return [out]
    if kind == "csv":
        atomic_write(out, wide_csv(gb, policy))
        return [out]
    if kind == "json":
        written = []
        for student, document in gradescope_json(gb, policy).items():
            path = out / f"{_file_name(student)}.json"
            atomic_write(path, json.dumps(document, indent=1, sort_keys=True, default=float) + "\n")
            written.append(path)
        return written
    raise ValueError(f"unknown export format {kind!r}; one of {', '.join(FORMATS)}")
