"""A grading job: one student's submission and the problem set it is graded against.

A :class:`Job` is plain, picklable data, so a runner can ship it to a worker process or to
another machine: the student, the notebook, the student's folder, and the problem set's
:class:`ProblemSetTests` (its name, its autograder zip, the tests' fingerprint and the commit
of its master). The tests themselves travel as the zip: the compiled test functions are not
picklable, so each process loads them from the zip once (:meth:`ProblemSetTests.questions`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from autograder.engine.submission import submission_files
from autograder.engine.test_files import Question, load_questions, tests_fingerprint

__all__ = ["ProblemSetTests", "Job", "find_submissions"]

_QUESTIONS: dict[tuple[Path, str], list[Question]] = {}


@dataclass(frozen=True)
class ProblemSetTests:
    """What every engine needs to know about the problem set a job is graded against."""

    name: str
    autograder_zip: Path
    fingerprint: str
    solutions_commit: str = ""
    #: The questions graded by hand, with their points: ``(("q7", 2.0),)``.
    manual: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_zip(
        cls,
        name: str,
        autograder_zip: Path,
        solutions_commit: str = "",
        manual: tuple[tuple[str, float], ...] = (),
    ) -> ProblemSetTests:
        """The problem set ``name`` as tested by ``autograder_zip``."""
        return cls(
            name, autograder_zip, tests_fingerprint(autograder_zip), solutions_commit, manual
        )

    def questions(self) -> list[Question]:
        """The questions and their tests, loaded once per process (and per fingerprint)."""
        key = (self.autograder_zip, self.fingerprint)
        if key not in _QUESTIONS:
            _QUESTIONS[key] = load_questions(self.autograder_zip)
        return _QUESTIONS[key]


@dataclass(frozen=True)
class Job:
    """One student's submission: a lone notebook, or a folder (a clone of their repository)."""

    student: str
    notebook: Path | None  # None: the student's folder holds no notebook
    problem_set: ProblemSetTests
    folder: Path | None = None  # the student's own folder, when the submission is one

    @property
    def files_from(self) -> Path | None:
        """A folder submission's files next to its notebook (a saved model, data) go into the
        sandbox's work folder; a lone notebook brings nothing with it."""
        return self.notebook.parent if self.folder is not None and self.notebook else None

    def digest(self) -> str:
        """sha256 over everything graded: the notebook and, for a folder submission, the files
        that go into the work folder with it (a saved model). Resuming compares it, so a
        student who changes only a saved model is graded again."""
        digest = hashlib.sha256()
        if self.notebook is None:
            digest.update(b"no notebook")
            return digest.hexdigest()
        digest.update(_sha256(self.notebook).encode())
        if self.files_from is not None:
            try:
                for entry in submission_files(self.files_from, self.notebook):
                    digest.update(f"\0{entry.name}\0{_sha256(Path(entry.path))}".encode())
            except OSError:
                digest.update(b"\0unreadable folder")
        return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_submissions(folder: Path, problem_set: ProblemSetTests) -> list[Job]:
    """One job per student in ``folder``, sorted by student id: ``<student>.ipynb`` files and
    ``<student>/`` folders (the notebook inside is ``<ps>.ipynb``, else the first one)."""
    jobs = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            jobs.append(Job(entry.stem, entry, problem_set))
        elif entry.is_dir():
            notebook = _notebook_in(entry, problem_set.name)
            jobs.append(Job(entry.name, notebook, problem_set, folder=entry))
    return jobs


def _notebook_in(folder: Path, ps_name: str) -> Path | None:
    preferred = folder / f"{ps_name}.ipynb"
    if preferred.is_file():
        return preferred
    candidates = sorted(
        p
        for p in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not any(s.startswith(".") for s in p.parts)
    )
    return candidates[0] if candidates else None
