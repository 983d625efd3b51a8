"""Course policies: late penalties, dropping the lowest scores, weights and letter grades.

A policy is plain data, usually read from a YAML file next to the gradebook::

    late:
      percent_per_day: 10    # deducted per day late, as a percentage of the points earned
      max_percent: 50        # the deduction never exceeds this
      grace_hours: 0.25      # lateness up to this is forgiven entirely
    drop_lowest: 1           # each student's N lowest assignment percentages are dropped
    weights:                 # relative weights; rescaled over the assignments kept
      ps1-perceptron: 1
      ps2-backprop: 1
    letters: {A: 90, B: 80, C: 70, D: 60, F: 0}   # lowest percentage for each letter

The order in which :meth:`gradebook.Gradebook.totals` applies them, for each student:

1. points per question, with manual question scores in place of the graded ones;
2. the late penalty: ``d`` days late (a started day counts whole, after the grace period, and
   after the student's extension) multiplies the points by ``1 − min(cap, rate·d)/100``;
3. assignment overrides replace the result of 1–2 outright (applied last, so no penalty or
   later rule changes an instructor's decision about that assignment's points);
4. percentages ``p_a = points / max``; the ``N`` lowest are dropped (ties: the later assignment
   is dropped first), and the course percentage is ``Σ w_a p_a / Σ w_a`` over those kept;
5. the letter is the one with the highest cutoff at or below the course percentage.

Each step is a small pure function here, so that each can be checked against hand-computed
cases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml

__all__ = [
    "LatePolicy",
    "Policy",
    "days_late",
    "late_multiplier",
    "kept_assignments",
    "weighted_percent",
    "letter_for",
]

DEFAULT_LETTERS = {"A": 90.0, "B": 80.0, "C": 70.0, "D": 60.0, "F": 0.0}
EPSILON = 1e-9  # 89.99999999 is 90 for a letter cutoff; sums of floats are not exact


@dataclass(frozen=True)
class LatePolicy:
    percent_per_day: float = 0.0
    max_percent: float = 100.0
    grace_hours: float = 0.0

    def __post_init__(self) -> None:
        if self.percent_per_day < 0 or not 0 <= self.max_percent <= 100 or self.grace_hours < 0:
            raise ValueError(
                "late policy: percent_per_day and grace_hours must be ≥ 0 and max_percent "
                f"within [0, 100], got {self}"
            )


@dataclass(frozen=True)
class Policy:
    late: LatePolicy = field(default_factory=LatePolicy)
    drop_lowest: int = 0
    weights: Mapping[str, float] = field(default_factory=dict)  # empty: all weigh the same
    letters: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LETTERS))

    def __post_init__(self) -> None:
        if self.drop_lowest < 0:
            raise ValueError(f"drop_lowest must be ≥ 0, got {self.drop_lowest}")
        bad = {k: v for k, v in self.weights.items() if not (v >= 0 and math.isfinite(v))}
        if bad:
            raise ValueError(f"weights must be finite and ≥ 0, got {bad}")
        if not self.letters:
            raise ValueError("letters: give at least one letter and its cutoff")

    @classmethod
    def from_dict(cls, data: Mapping | None) -> Policy:
        data = dict(data or {})
        unknown = set(data) - {"late", "drop_lowest", "weights", "letters"}
        if unknown:
            raise ValueError(f"unknown policy keys {sorted(unknown)}")
        late = dict(data.get("late") or {})
        unknown = set(late) - {"percent_per_day", "max_percent", "grace_hours"}
        if unknown:
            raise ValueError(f"unknown late-policy keys {sorted(unknown)}")
        return cls(
            late=LatePolicy(**{k: float(v) for k, v in late.items()}),
            drop_lowest=int(data.get("drop_lowest", 0)),
            weights={str(k): float(v) for k, v in (data.get("weights") or {}).items()},
            letters={
                str(k): float(v)
                for k, v in (data.get("letters") or DEFAULT_LETTERS).items()
            },
        )

    @classmethod
    def from_yaml(cls, path: Path) -> Policy:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise ValueError(f"{path}: not a readable policy file ({error})") from None
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: {error}") from None


def days_late(
    submitted_at: datetime | None,
    due_at: datetime | None,
    extension_days: float = 0.0,
    grace_hours: float = 0.0,
) -> int:
    """Whole days late: 0 up to the (extended) due date plus the grace period, then
    ``ceil(lateness / 1 day)``, so one minute past the grace period is one day late."""
    if submitted_at is None or due_at is None:
        return 0
    lateness = submitted_at - (due_at + timedelta(days=extension_days))
    if lateness <= timedelta(hours=grace_hours):
        return 0
    return math.ceil(lateness / timedelta(days=1))


def late_multiplier(days: int, late: LatePolicy) -> float:
    """The fraction of the points kept: ``1 − min(cap, rate · days) / 100``."""
    return 1.0 - min(late.max_percent, late.percent_per_day * days) / 100.0


def kept_assignments(percent: Mapping[str, float], drop: int, order: Sequence[str]) -> list[str]:
    """The assignments left after dropping the ``drop`` lowest percentages.

    At least one assignment is always kept. Among equal percentages the one later in ``order``
    is dropped first.
    """
    names = [a for a in order if a in percent]
    drop = min(drop, max(0, len(names) - 1))
    position = {a: i for i, a in enumerate(names)}
    lowest_first = sorted(names, key=lambda a: (percent[a], -position[a]))
    dropped = set(lowest_first[:drop])
    return [a for a in names if a not in dropped]


def weighted_percent(
    percent: Mapping[str, float], weights: Mapping[str, float], kept: Sequence[str]
) -> float:
    """``Σ w_a p_a / Σ w_a`` over ``kept`` (every weight 1 when ``weights`` is empty)."""
    w = {a: (weights[a] if weights else 1.0) for a in kept}
    total = sum(w.values())
    if total <= 0:
        return 0.0
    return sum(w[a] * percent[a] for a in kept) / total


def letter_for(percent: float, letters: Mapping[str, float]) -> str:
    """The letter with the highest cutoff at or below ``percent``; the lowest one otherwise."""
    ordered = sorted(letters.items(), key=lambda item: item[1], reverse=True)
    for letter, cutoff in ordered:
        if percent + EPSILON >= cutoff:
            return letter
    return ordered[-1][0]
