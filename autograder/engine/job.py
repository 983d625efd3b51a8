"""A grading job: one student's submission and the problem set it is graded against.

A :class:`Job` is plain, picklable data, so a runner can ship it to a worker process or to
another machine: the student, the notebook, the student's folder, and the problem set's
:class:`ProblemSetTests` (its name, its autograder zip, the tests' fingerprint and the commit
of its master). The tests themselves travel as the zip: the compiled test functions are not
picklable, so each process loads them from the zip once (:meth:`ProblemSetTests.questions`).

:func:`find_submissions` lists what is in a submissions folder without following links: a
``<student>.ipynb`` or ``<student>/`` that is a symbolic link still becomes a job (so that the
student gets a zero with the reason, not silence), whose notebook the intake then refuses
(:mod:`autograder.engine.submission`); a linked folder is never looked into.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from autograder.engine.submission import (
    MAX_SUBMISSION_FILES,
    MAX_SUBMISSION_FILES_BYTES,
    MalformedSubmission,
    graded_file,
    open_folder,
    open_regular,
    read_notebook_bytes,
    regular_files,
)
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
    kernel_setup: str = ""  # grading.yaml's code run before the student's first cell
    #: The questions graded by hand, with their points: ``(("q7", 2.0),)``.
    manual: tuple[tuple[str, float], ...] = ()
    #: Patterns of the files next to a folder submission's notebook that are graded with it
    #: (``grading.yaml``'s ``submission_files:``, plus ``saved_models:`` when trusted).
    submission_files: tuple[str, ...] = ()

    @classmethod
    def from_zip(
        cls,
        name: str,
        autograder_zip: Path,
        solutions_commit: str = "",
        kernel_setup: str = "",
        manual: tuple[tuple[str, float], ...] = (),
        submission_files: tuple[str, ...] = (),
    ) -> ProblemSetTests:
        """The problem set ``name`` as tested by ``autograder_zip``.

        A kernel setup and the submission files graded are part of the fingerprint: changing
        either (trusting saved models, say) regrades everyone."""
        fingerprint = tests_fingerprint(autograder_zip)
        if kernel_setup:
            mixed = f"{fingerprint}\0kernel_setup\0{kernel_setup}".encode()
            fingerprint = hashlib.sha256(mixed).hexdigest()
        if submission_files:
            mixed = f"{fingerprint}\0submission_files\0{submission_files}".encode()
            fingerprint = hashlib.sha256(mixed).hexdigest()
        return cls(name, autograder_zip, fingerprint, solutions_commit, kernel_setup, manual,
                   submission_files)

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
    #: When it was submitted (ISO 8601), when the collector knows it better than the folder
    #: (a push time recorded by the platform); None: read from the submission
    #: (:func:`autograder.engine.provenance.submitted_at`).
    submitted_at: str | None = None
    #: The git commit it is, when the collector checked one out; "": read from the folder.
    commit: str = ""

    @property
    def files_from(self) -> Path | None:
        """A folder submission's files next to its notebook that the problem set grades
        (``submission_files``) go into the sandbox's work folder; a lone notebook brings
        nothing with it."""
        return self.notebook.parent if self.folder is not None and self.notebook else None

    def graded_file(self, name: str) -> bool:
        """Whether the file ``name`` next to the notebook is graded with it."""
        return graded_file(name, self.problem_set.submission_files)

    @property
    def within(self) -> Path | None:
        """The submissions folder: the notebook must be reached from it without a link."""
        if self.notebook is None:
            return None
        return self.folder.parent if self.folder is not None else self.notebook.parent

    def digest(self) -> str:
        """sha256 over everything graded: the notebook and, for a folder submission, the files
        that go into the work folder with it (a saved model). Resuming compares it, so a
        student who changes only a saved model is graded again. Read like the grader reads
        them: never through a link, never more than the caps."""
        digest = hashlib.sha256()
        if self.notebook is None:
            digest.update(b"no notebook")
            return digest.hexdigest()
        try:
            raw = read_notebook_bytes(self.notebook, self.within)
            digest.update(hashlib.sha256(raw).hexdigest().encode())  # as before: resumes hold
        except (MalformedSubmission, OSError) as error:
            digest.update(f"unreadable notebook: {error}".encode())
            return digest.hexdigest()
        if self.files_from is not None:
            assert self.within is not None
            try:
                folder = open_folder(self.files_from, self.within)
            except (MalformedSubmission, OSError):
                digest.update(b"\0unreadable folder")
                return digest.hexdigest()
            try:
                budget = MAX_SUBMISSION_FILES_BYTES
                names = [n for n in regular_files(folder, self.notebook.name)
                         if self.graded_file(n)]
                for name in names[:MAX_SUBMISSION_FILES]:
                    hashed, budget = _hash_file(folder, name, budget)
                    digest.update(f"\0{name}\0{hashed}".encode())
            except OSError:
                digest.update(b"\0unreadable folder")
            finally:
                os.close(folder)
        return digest.hexdigest()


def _hash_file(folder: int, name: str, budget: int) -> tuple[str, int]:
    """The file's sha256 (or why it is not read) and what is left of the byte budget."""
    try:
        fd = open_regular(folder, name)
    except (MalformedSubmission, OSError) as error:
        return f"unreadable ({error})", budget
    digest = hashlib.sha256()
    try:
        while block := os.read(fd, min(1 << 20, budget + 1)):
            digest.update(block)
            budget -= len(block)
            if budget < 0:
                return "over the size cap", 0
    finally:
        os.close(fd)
    return digest.hexdigest(), budget


def find_submissions(folder: Path, problem_set: ProblemSetTests) -> list[Job]:
    """One job per student in ``folder``, sorted by student id: ``<student>.ipynb`` files and
    ``<student>/`` folders (the notebook inside is ``<ps>.ipynb``, else the first one).
    Links are listed, never followed into (see the module)."""
    jobs = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            if entry.suffix == ".ipynb":
                jobs.append(Job(entry.stem, entry, problem_set))
            elif entry.is_dir():  # a stat of the target, nothing read from it
                notebook = entry / f"{problem_set.name}.ipynb"
                jobs.append(Job(entry.name, notebook, problem_set, folder=entry))
        elif entry.is_dir():
            notebook = _notebook_in(entry, problem_set.name)
            jobs.append(Job(entry.name, notebook, problem_set, folder=entry))
        elif entry.suffix == ".ipynb":  # a FIFO or device too: refused, with the reason
            jobs.append(Job(entry.stem, entry, problem_set))
    return jobs


#: A student's folder is searched for its notebook among at most this many entries.
MAX_FOLDER_ENTRIES = 20_000


def _notebook_in(folder: Path, ps_name: str) -> Path | None:
    """``<ps>.ipynb`` directly in ``folder`` (a link too: the intake refuses it with a
    reason), else the first notebook below it, not in hidden folders or checkpoints. Linked
    folders are not descended into."""
    preferred = folder / f"{ps_name}.ipynb"
    if preferred.is_symlink() or preferred.is_file():
        return preferred
    candidates, seen = [], 0
    for parent, folders, files in os.walk(folder):  # followlinks=False
        seen += len(folders) + len(files)
        if seen > MAX_FOLDER_ENTRIES:
            break
        folders[:] = [f for f in folders if not f.startswith(".")]
        candidates += [Path(parent, f) for f in files if f.endswith(".ipynb") and f[0] != "."]
    return min(candidates, default=None)
