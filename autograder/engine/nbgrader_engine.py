"""``--engine nbgrader``: nbgrader's own ``autograde``, reported in the same contract.

Each worker process keeps one scratch nbgrader course per problem set: the problem set is
exported into it (:mod:`autograder.nbgrader_export`) and ``generate_assignment`` runs once.
The course (the last student's notebook and gradebook included) is removed when the process
that made it exits, a pool worker too, or when nothing refers to it any more.
A job's notebook, converted to nbgrader's cells, is put in ``submitted/<student>/<ps>/``,
``autograde`` runs through :class:`nbgrader.apps.NbGraderAPI`, and the score of every test
cell is read back from the course's gradebook by its ``grade_id`` (the test function's name).

Like otter, nbgrader runs the tests in the student's kernel, without a sandbox: a
submission can rewrite the test functions' globals or the grader's process state, so this
engine is for comparison and for courses already on nbgrader. One job at a time, one kernel
per notebook, no parallelism inside nbgrader (its issue #174).
"""

from __future__ import annotations

import contextlib
import multiprocessing.util
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path

import nbformat

from autograder.engine.base import EngineSettings, installed_version
from autograder.engine.job import Job
from autograder.engine.sandbox import SandboxLimits
from autograder.engine.submission import MalformedSubmission, read_submission
from autograder.nbgrader_export import (
    SUPPORT_DIR,
    export_assignment,
    manual_questions,
    nbgrader_tests,
    to_nbgrader,
)
from autograder.results import ERROR, MALFORMED, SubmissionResult, TestResult

__all__ = ["NbgraderEngine", "ScratchCourse"]

_COURSES: dict[tuple[Path, str, float, tuple[tuple[str, str], ...]], ScratchCourse] = {}
# A worker forked from a process that already graded would inherit its courses and share
# their folders and gradebook with its sibling workers: one job's autograde would remove
# another's output. Each process makes its own.
os.register_at_fork(after_in_child=_COURSES.clear)
_STUDENT = "student"


class ScratchCourse:
    """A throw-away nbgrader course holding one problem set, generated once."""

    def __init__(self, ps_name: str, autograder_zip: Path, timeout: float,
                 threads: Mapping[str, str] | None = None) -> None:
        self.ps = ps_name
        self.threads = dict(threads or {})
        self.root = Path(tempfile.mkdtemp(prefix=f"nngrade-nbgrader-{ps_name}-"))
        # multiprocessing runs this when the object goes or at the exit of the process that
        # made it (a pool worker's exit included, where atexit does not run); never in a child
        # forked from that process, which makes its own course.
        multiprocessing.util.Finalize(self, shutil.rmtree, args=(str(self.root),),
                                      kwargs={"ignore_errors": True}, exitpriority=0)
        dist = autograder_zip.parent
        self.source = export_assignment(
            ps_name, dist / f"{ps_name}.ipynb", dist.parent / "master" / f"{ps_name}.ipynb",
            autograder_zip, self.root, timeout)
        self.tests = nbgrader_tests(autograder_zip)
        self.manual = manual_questions(
            nbformat.read(dist.parent / "master" / f"{ps_name}.ipynb", as_version=4))
        self.timeout = timeout
        with _kernel_environment(self.root, self.threads), contextlib.chdir(self.root):
            result = self._api().generate_assignment(ps_name, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment failed: {result.get('log')}")

    def _api(self):  # noqa: ANN202 - nbgrader is untyped
        from nbgrader.apps import NbGraderAPI
        from traitlets.config import Config

        config = Config()
        config.CourseDirectory.root = str(self.root)
        config.ExecutePreprocessor.timeout = int(self.timeout)
        return NbGraderAPI(config=config)

    def submit(self, student: str, notebook: nbformat.NotebookNode) -> None:
        """Place ``notebook`` as ``submitted/<student>/<ps>/<ps>.ipynb``."""
        folder = self.root / "submitted" / student / self.ps
        if folder.parent.exists():
            shutil.rmtree(folder.parent)
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{self.ps}.ipynb")

    def autograde(self, student: str) -> dict[str, tuple[float, str]]:
        """Run ``autograde`` for ``student``: each test cell's ``grade_id`` with its score
        and the error it raised (empty when it passed)."""
        from nbgrader.api import Gradebook

        autograded = self.root / "autograded" / student
        if autograded.exists():
            shutil.rmtree(autograded)
        # nbgrader changes into folders by relative names; start from the course, never from a
        # folder an earlier job removed.
        with _kernel_environment(self.root, self.threads), contextlib.chdir(self.root), \
                warnings.catch_warnings():
            # nbgrader's gradebook adds objects through SQLAlchemy's legacy backref cascade,
            # and SQLAlchemy 2 says so for each submission: a warning about nbgrader's code
            # that says nothing about the student's notebook; kept off the grader's terminal.
            warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session",
                                    module=r"nbgrader\.api")
            result = self._api().autograde(self.ps, student, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader autograde failed: {str(result.get('log'))[-2000:]}")
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            notebook = gradebook.find_submission_notebook(self.ps, self.ps, student)
            scores = {g.name: float(g.score) for g in notebook.grades}
        try:
            graded = nbformat.read(autograded / self.ps / f"{self.ps}.ipynb", as_version=4)
        except (OSError, ValueError) as error:
            raise RuntimeError(f"nbgrader wrote no autograded notebook: {error}") from error
        messages = {}
        for cell in graded.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id and cell.cell_type == "code":
                messages[grade_id] = _error_of(cell)
        return {name: (score, messages.get(name, "")) for name, score in scores.items()}


def _error_of(cell: nbformat.NotebookNode) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}".removeprefix(
                "AssertionError: ")
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return "the test wrote to stderr, which nbgrader counts as a failure"
    return ""


class _kernel_environment:
    """The kernel finds the checks module and nngrade; nbgrader finds ``alembic``; the
    kernel's numeric libraries get ``threads`` (``SandboxLimits.thread_env``)."""

    def __init__(self, course: Path, threads: Mapping[str, str] | None = None) -> None:
        repo = Path(__file__).resolve().parents[2]
        self.updates = {
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(course / SUPPORT_DIR), str(repo), os.environ.get("PYTHONPATH"))
                if p),
            "PATH": os.pathsep.join((str(Path(sys.executable).parent),
                                     os.environ.get("PATH", ""))),
            **(threads or {}),
        }
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for key, value in self.updates.items():
            self.saved[key] = os.environ.get(key)
            os.environ[key] = value

    def __exit__(self, *exc: object) -> None:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def scratch_course(ps_name: str, autograder_zip: Path, fingerprint: str,
                   timeout: float, threads: Mapping[str, str] | None = None) -> ScratchCourse:
    """This process's scratch course for the problem set (made on first use)."""
    key = (autograder_zip, fingerprint, timeout, tuple(sorted((threads or {}).items())))
    if key not in _COURSES:
        _COURSES[key] = ScratchCourse(ps_name, autograder_zip, timeout, threads)
    return _COURSES[key]


class NbgraderEngine:
    """nbgrader's ``autograde`` as an :class:`~autograder.engine.base.Engine`. No sandbox;
    of the limits only the per-cell timeout and ``compute_threads`` apply."""

    name = "nbgrader"

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings

    def version(self) -> str:
        return installed_version("nbgrader")

    def host_problems(self) -> list[str]:
        return ["nbgrader runs the tests inside the student's kernel, with no sandbox"]

    def grade(self, job: Job, limits: SandboxLimits) -> SubmissionResult:
        if job.notebook is None:
            raise ValueError(f"{job.student}: a job without a notebook is the runner's to grade")
        questions = job.problem_set.questions()
        started = time.monotonic()

        def zero(message: str, status: str) -> SubmissionResult:
            result = SubmissionResult.ungraded(job.student, questions, message, status)
            result.sandboxed = False
            return result

        try:
            submission = read_submission(job.notebook)
            notebook = nbformat.read(job.notebook, as_version=4)
        except (MalformedSubmission, ValueError, OSError) as error:
            return zero(f"This notebook could not be graded: {error}.", MALFORMED)
        tests = job.problem_set
        course = scratch_course(tests.name, tests.autograder_zip, tests.fingerprint,
                                limits.cell_timeout, limits.thread_env)
        if not _is_nbgrader(notebook):
            notebook = to_nbgrader(notebook, course.tests, course.manual)
        course.submit(_STUDENT, notebook)
        try:
            scores = course.autograde(_STUDENT)
        except RuntimeError as error:
            return zero(f"nbgrader could not grade this notebook: {str(error)[-300:]}", ERROR)
        results = []
        for question in questions:
            for test in question.tests:
                score, message = scores.get(test.name, (0.0, "the test cell is missing"))
                passed = score >= test.points
                results.append(TestResult(test.question, test.name, min(score, test.points),
                                          test.points, test.hidden,
                                          "" if passed else message or "the test failed"))
        return SubmissionResult(
            job.student, results, sha256=submission.sha256, sandboxed=False,
            seconds=time.monotonic() - started,
            output=["Graded by nbgrader's autograde inside the submission's own kernel."])


def _is_nbgrader(notebook: nbformat.NotebookNode) -> bool:
    return any(c.metadata.get("nbgrader", {}).get("grade") for c in notebook.cells)
