"""Realistic wrong submissions, declared next to each problem set.

``solutions/<ps>/mistakes.yaml`` lists mistakes students really make (the lectures' own among
them). Each one is a set of exact text edits to the solution notebook plus the points it must
cost, question by question::

    - name: dropped-factor-2
      description: dl/dp written as (p - y) instead of 2 (p - y).
      edits:
        - find: "return 2.0 * (np.asarray(p, dtype=float) - np.asarray(y, dtype=float))"
          replace: "return np.asarray(p, dtype=float) - np.asarray(y, dtype=float)"
      loses: {q3a: 1, q3b: 3, q3c: 1, q3d: 1}

The test suite grades every mistake and checks that it loses exactly ``loses``; the sample
class generator uses the same list to make partially correct submissions.

``solutions/<ps>/alternatives.yaml`` has the same form without ``loses``: correct answers
written differently from the solution (loops instead of vectorised code, float32, lists). Each
must get full marks, and the sample class uses them as its "correct, written differently"
students.

A malformed file, or an edit whose text is missing or ambiguous, raises :class:`MistakeError`
(a ``ValueError``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from autograder.errors import MistakeError
from autograder.problem_sets import ProblemSet

__all__ = ["Edit", "Mistake", "MistakeError", "load_mistakes", "load_alternatives", "apply_mistake"]


@dataclass(frozen=True)
class Edit:
    """Replace the text ``find``, which must occur exactly once in the notebook's code cells."""

    find: str
    replace: str


@dataclass(frozen=True)
class Mistake:
    name: str
    description: str
    edits: tuple[Edit, ...]
    loses: dict[str, float] = field(default_factory=dict)

    @property
    def points_lost(self) -> float:
        return float(sum(self.loses.values()))


def load_mistakes(ps: ProblemSet) -> list[Mistake]:
    """The problem set's declared mistakes (an empty list when it declares none)."""
    return _load_edit_list(ps.mistakes)


def load_alternatives(ps: ProblemSet) -> list[Mistake]:
    """Correct answers written differently; each must lose nothing (``loses`` is refused)."""
    alternatives = _load_edit_list(ps.alternatives)
    for alternative in alternatives:
        if alternative.loses:
            raise MistakeError(
                f"{ps.alternatives}: {alternative.name!r} is a correct alternative, "
                "so it cannot declare points lost (put it in mistakes.yaml)"
            )
    return alternatives


def _load_edit_list(path: Path) -> list[Mistake]:
    if not path.exists():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    mistakes = []
    for entry in entries:
        try:
            mistakes.append(
                Mistake(
                    name=str(entry["name"]),
                    description=str(entry.get("description", "")).strip(),
                    edits=tuple(Edit(str(e["find"]), str(e["replace"])) for e in entry["edits"]),
                    loses={str(q): float(p) for q, p in (entry.get("loses") or {}).items()},
                )
            )
        except (KeyError, TypeError) as error:
            raise MistakeError(f"{path}: malformed mistake {entry!r} ({error})") from None
    names = [m.name for m in mistakes]
    if len(set(names)) != len(names):
        raise MistakeError(f"{path}: mistake names must be unique, got {names}")
    return mistakes


def apply_mistake(notebook: nbformat.NotebookNode, mistake: Mistake) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with the mistake's edits made in its code cells.

    Raises ``ValueError`` when an edit's text is missing or ambiguous, so that a change to the
    master that invalidates a mistake is noticed instead of silently grading the solution.
    """
    nb = copy.deepcopy(notebook)
    for edit in mistake.edits:
        hits = [c for c in nb.cells if c.cell_type == "code" and edit.find in c.source]
        count = sum(c.source.count(edit.find) for c in hits)
        if count != 1:
            raise MistakeError(
                f"mistake {mistake.name!r}: the text to replace occurs {count} times, not once: "
                f"{edit.find!r}"
            )
        hits[0].source = hits[0].source.replace(edit.find, edit.replace)
    return nb
