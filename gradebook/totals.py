"""From question scores to course grades: the policy steps of :mod:`gradebook.policy`, applied
to DataFrames. Pure functions of their inputs, so the gradebook's answers can be checked by
hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gradebook.policy import (
    Policy,
    days_late,
    kept_assignments,
    late_multiplier,
    letter_for,
    weighted_percent,
)

__all__ = ["assignment_scores", "course_totals"]

SCORE_COLUMNS = [
    "student",
    "assignment",
    "status",
    "points",
    "max_points",
    "submitted_at",
    "days_late",
    "late_penalty_percent",
    "override",
    "final_points",
    "percent",
]


def _time(value) -> pd.Timestamp | None:
    """A UTC timestamp from an ISO string (no offset: UTC), or None for a missing value."""
    if value is None or value == "" or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def assignment_scores(
    student_ids: Sequence[str],
    assignments: pd.DataFrame,
    question_scores: pd.DataFrame,
    submissions: pd.DataFrame,
    overrides: pd.DataFrame,
    extensions: pd.DataFrame,
    policy: Policy,
) -> pd.DataFrame:
    """One row per student and assignment, every student and every assignment.

    ``assignments``: name, due_at, max_points. ``question_scores``: student, assignment,
    question, score. ``submissions``: student, assignment, status, submitted_at (latest runs).
    ``overrides``: student, assignment, question (None for the assignment), score.
    ``extensions``: student, assignment, days.
    """
    names = list(assignments["name"])
    grid = pd.MultiIndex.from_product([list(student_ids), names], names=["student", "assignment"])
    frame = pd.DataFrame(index=grid).reset_index()

    scores = question_scores[["student", "assignment", "question", "score"]]
    manual = overrides[overrides["question"].notna()][
        ["student", "assignment", "question", "score"]
    ]
    if len(manual):
        scores = scores.merge(
            manual.rename(columns={"score": "manual"}),
            on=["student", "assignment", "question"],
            how="outer",
        )
        scores["score"] = scores["manual"].where(scores["manual"].notna(), scores["score"])
        scores = scores.drop(columns="manual")
    points = scores.groupby(["student", "assignment"], as_index=False)["score"].sum()
    frame = frame.merge(points.rename(columns={"score": "points"}), how="left")
    frame = frame.merge(
        submissions[["student", "assignment", "status", "submitted_at"]], how="left"
    )
    frame["status"] = frame["status"].fillna("missing")
    frame["points"] = frame["points"].fillna(0.0)
    maxima = assignments.set_index("name")["max_points"]
    frame["max_points"] = frame["assignment"].map(maxima).astype(float)

    due = {row.name: _time(row.due_at) for row in assignments.itertuples()}
    extra = {
        (row.student, row.assignment): float(row.days) for row in extensions.itertuples()
    }
    frame["days_late"] = [
        days_late(
            _time(submitted),
            due[assignment],
            extra.get((student, assignment), 0.0),
            policy.late.grace_hours,
        )
        for student, assignment, submitted in zip(
            frame["student"], frame["assignment"], frame["submitted_at"], strict=True
        )
    ]
    multiplier = frame["days_late"].map(lambda d: late_multiplier(int(d), policy.late))
    frame["late_penalty_percent"] = (1.0 - multiplier) * 100.0
    frame["final_points"] = frame["points"] * multiplier

    whole = overrides[overrides["question"].isna()][["student", "assignment", "score"]]
    frame = frame.merge(whole.rename(columns={"score": "override"}), how="left")
    frame["override"] = frame["override"].astype(float)
    frame["final_points"] = frame["override"].where(
        frame["override"].notna(), frame["final_points"]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["percent"] = np.where(
            frame["max_points"] > 0, 100.0 * frame["final_points"] / frame["max_points"], 0.0
        )
    return frame[SCORE_COLUMNS]


def course_totals(scores: pd.DataFrame, order: Sequence[str], policy: Policy) -> pd.DataFrame:
    """Per student: each assignment's percentage, what was dropped, the course percentage and
    the letter. ``scores`` is :func:`assignment_scores`' output."""
    present = [a for a in order if a in set(scores["assignment"])]
    if policy.weights:
        unweighted = [a for a in present if a not in policy.weights]
        if unweighted:
            raise ValueError(
                f"the policy's weights do not mention {unweighted}; give every assignment a "
                "weight (0 to leave one out) or give no weights at all"
            )
    wide = scores.pivot(index="student", columns="assignment", values="percent")[present]
    rows = []
    for student, percents in wide.iterrows():
        percent = percents.to_dict()
        kept = kept_assignments(percent, policy.drop_lowest, present)
        total = weighted_percent(percent, policy.weights, kept)
        rows.append(
            {
                "student": student,
                **percent,
                "dropped": ",".join(a for a in present if a not in kept),
                "total_percent": total,
                "letter": letter_for(total, policy.letters),
            }
        )
    columns = ["student", *present, "dropped", "total_percent", "letter"]
    return pd.DataFrame(rows, columns=columns)
