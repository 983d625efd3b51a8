"""The sample class's people and dates: a roster of fictional students, each problem set's due
date, and the two course files the gradebook imports (``roster.csv``, ``assignments.csv``).

Everything is deterministic for a seed, so a regenerated class has the same students.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from autograder.atomic import atomic_write

__all__ = ["ABSENT", "FULL_CLASS", "SampleStudent", "due_date", "roster", "write_course_files"]

FULL_CLASS = 30  # submissions per problem set in a full class
ABSENT = 2  # students on the roster beyond the largest class: they hand nothing in

FIRST = ["Ada", "Alan", "Grace", "Claude", "Emmy", "John", "Sofia", "Kurt", "Hedy", "Niels",
         "Rosa", "Carl", "Mary", "Paul", "Lise", "Andre", "Noor", "Ines", "Tomas", "Yuki",
         "Amara", "Diego", "Leila", "Oskar", "Priya", "Mateo", "Zara", "Felix", "Hana", "Ravi",
         "Elena", "Jonas"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Ferreira", "Haddad", "Kowalski",
        "Andersen", "Rossi", "Nguyen", "Schmidt", "Costa", "Ivanova", "Mensah", "Larsen",
        "Duarte", "Yilmaz", "Petrov", "Quispe", "Bauer", "Sato", "Mwangi", "Dubois", "Silva",
        "Horvat", "Kaur", "Berg", "Ortiz", "Walsh", "Nakamura", "Adeyemi"]


@dataclass(frozen=True)
class SampleStudent:
    id: str
    name: str
    email: str
    github: str


def roster(size: int = FULL_CLASS + ABSENT, seed: int = 0) -> list[SampleStudent]:
    """``size`` fictional students with distinct names, ids ``s01-ada-okafor`` and so on."""
    rng = random.Random(seed)
    firsts, lasts = FIRST[:], LAST[:]
    rng.shuffle(firsts)
    rng.shuffle(lasts)
    students = []
    for i in range(size):
        first, last = firsts[i % len(firsts)], lasts[(i * 7) % len(lasts)]
        handle = f"{first}-{last}".lower()
        if i >= len(firsts):  # past the list of names: keep ids, emails and handles distinct
            handle += f"-{i // len(firsts) + 1}"
        students.append(
            SampleStudent(
                id=f"s{i + 1:02d}-{handle}",
                name=f"{first} {last}",
                email=f"{handle}@students.example.edu",
                github=f"{handle}-nn",
            )
        )
    return students


def due_date(index: int) -> datetime:
    """Problem set ``index`` (0, 1, ...) is due at 23:59 UTC on consecutive Mondays."""
    return datetime(2026, 10, 5, 23, 59, tzinfo=UTC) + timedelta(weeks=index)


def write_course_files(out: Path, students: list[SampleStudent], problem_sets: list[str]) -> None:
    """``roster.csv`` and ``assignments.csv`` (due dates) for the gradebook."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "name", "email", "github"])
    for s in students:
        writer.writerow([s.id, s.name, s.email, s.github])
    atomic_write(out / "roster.csv", buffer.getvalue())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "due", "title"])
    for index, name in enumerate(problem_sets):
        writer.writerow([name, due_date(index).isoformat(), name])
    atomic_write(out / "assignments.csv", buffer.getvalue())
