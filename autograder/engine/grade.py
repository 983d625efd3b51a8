"""The hardened nngrade engine: grade one submission in a sandbox, tests on the grader's side.

1. Read the notebook (:mod:`autograder.engine.submission`); an unreadable one scores 0 with
   the reason in the output.
2. Start a sandboxed kernel in a private work folder and run the student's cells one by one.
   A cell that fails or times out is recorded and the next one still runs. For a folder
   submission, the regular files next to the notebook (a saved Keras model, say) are copied
   into the work folder first (:func:`copy_submission_files`), so the notebook finds them
   where it found them on the student's machine.
3. Install the agent and run every test here, in the grader, with its parameters bound to
   proxies of the student's globals (:mod:`autograder.engine.remote`).
4. Return a :class:`~autograder.results.SubmissionResult`.

:class:`NngradeEngine` is this engine behind the common interface
(:mod:`autograder.engine.base`). Feedback never contains a test's source, its expected
values, or a grader traceback: a failing test contributes only the message of its
``AssertionError``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from autograder.engine.base import EngineSettings, installed_version
from autograder.engine.job import Job
from autograder.engine.remote import Remote, SubmissionFault
from autograder.engine.sandbox import SandboxedKernel, SandboxLimits, work_folder
from autograder.engine.submission import MalformedSubmission, read_submission, submission_files
from autograder.engine.test_files import GradingTest, Question
from autograder.results import SubmissionResult, TestResult
from nnkit.mnist import DATA_ENV_VAR, data_dir

__all__ = [
    "NngradeEngine",
    "SandboxLost",
    "grade_submission",
    "run_test",
    "copy_submission_files",
]

MAX_MESSAGE_CHARS = 500
#: Files of a folder submission copied into the work folder: at most this much in total.
MAX_SUBMISSION_FILES_BYTES = 256 * 2**20
MAX_SUBMISSION_FILES = 100


class SandboxLost(RuntimeError):
    """The sandbox was killed by the host, not for a limit of the submission: regrade it."""


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def run_test(test: GradingTest, remote: Remote) -> TestResult:
    """Run one test function here, with its parameters bound to the student's globals."""
    result = TestResult(test.question, test.name, 0.0, test.points, test.hidden)
    try:
        arguments = {name: remote.global_value(name) for name in test.parameters}
        test.function(**arguments)
    except AssertionError as error:
        result.message = _short(error) or "the test failed"
    except Exception as error:  # the test met an answer it could not handle
        result.message = f"the test could not check this answer ({type(error).__name__})"
    else:
        result.score = test.points
    return result


def grade_submission(
    student: str,
    notebook: Path,
    questions: Sequence[Question],
    limits: SandboxLimits | None = None,
    readonly_paths: Sequence[Path] = (),
    require_sandbox: bool = False,
    env: Mapping[str, str] | None = None,
    files_from: Path | None = None,
) -> SubmissionResult:
    """Grade ``notebook`` against ``questions``; never raises for anything the student did.

    ``files_from``: the student's own folder, whose files next to the notebook are copied
    into the work folder (only for folder submissions: never a folder shared by students).
    """
    limits = limits or SandboxLimits()
    start = time.perf_counter()
    try:
        submission = read_submission(notebook)
    except (MalformedSubmission, OSError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        result = SubmissionResult.ungraded(
            student, questions, f"This notebook could not be graded: {reason}."
        )
        result.seconds = time.perf_counter() - start
        return result

    result = SubmissionResult(student, [], sha256=submission.sha256)
    # The sandbox's own work folder (a capped nosuid tmpfs when the grader is root); its
    # clean-up never raises, and a problem with it is a warning in this student's result.
    with work_folder(limits.workdir_mb * 2**20) as folder:
        work = folder.path
        if files_from is not None:
            result.output.extend(copy_submission_files(files_from, notebook, work))
        # SandboxUnavailable (with require_sandbox) propagates: a grader failure, not a student's.
        kernel = SandboxedKernel(
            work,
            limits,
            readonly_paths=readonly_paths,
            require_sandbox=require_sandbox,
            env=env,
        )
        with kernel:  # starts the kernel; leaving the block kills every process it made
            result.sandboxed = kernel.sandboxed
            result.output.extend(kernel.warnings)
            for number, source in enumerate(submission.code_cells, start=1):
                cell = kernel.execute(source)
                if cell.status == "host":  # the host failed the student: a grader failure
                    raise SandboxLost(f"cell {number}: {cell.evalue}")
                if cell.status == "error":
                    result.output.append(
                        _short(f"Cell {number} raised {cell.ename}: {cell.evalue}")
                    )
                elif cell.status != "ok":  # a limit: the sandbox says which, in words
                    result.output.append(_short(f"Cell {number}: {cell.evalue}."))
                if not kernel.alive:
                    result.output.append("The remaining cells were not run.")
                    break
            remote = Remote(kernel, call_timeout=limits.cell_timeout)
            try:
                if not kernel.alive:
                    raise SubmissionFault("the notebook's kernel had stopped")
                remote.install()
            except SubmissionFault as fault:
                message = _short(f"Not graded: {fault}")
                result.tests = SubmissionResult.ungraded(student, questions, message).tests
            else:
                result.tests = [run_test(t, remote) for q in questions for t in q.tests]
    result.output.extend(folder.warnings)
    result.seconds = time.perf_counter() - start
    return result


def copy_submission_files(folder: Path, notebook: Path, work: Path) -> list[str]:
    """Copy :func:`submission_files` into ``work``; return notes for the student's feedback.

    The folder is untrusted: the copy never follows a symlink and stops at
    ``MAX_SUBMISSION_FILES`` files or ``MAX_SUBMISSION_FILES_BYTES`` bytes.
    """
    copied, skipped, total = [], [], 0
    try:
        entries = submission_files(folder, notebook)
    except OSError as error:
        return [f"The files of the submission folder could not be read ({error.strerror})."]
    for entry in entries:
        try:
            size = entry.stat(follow_symlinks=False).st_size
            if len(copied) >= MAX_SUBMISSION_FILES or total + size > MAX_SUBMISSION_FILES_BYTES:
                skipped.append(entry.name)
                continue
            source = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(source, "rb") as src, open(work / entry.name, "xb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except OSError:
            skipped.append(entry.name)
            continue
        total += size
        copied.append(entry.name)
    notes = []
    if copied:
        notes.append("Files from the submission folder: " + ", ".join(copied) + ".")
    if skipped:
        notes.append(
            "Not copied (too many, too large or unreadable): " + ", ".join(skipped) + "."
        )
    return notes


# ------------------------------------------------------------------ behind the interface


class NngradeEngine:
    """The hardened engine as an :class:`~autograder.engine.base.Engine`."""

    name = "nngrade"

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings

    def version(self) -> str:
        return installed_version("nngrade")

    def grade(self, job: Job, limits: SandboxLimits) -> SubmissionResult:
        if job.notebook is None:
            raise ValueError(f"{job.student}: a job without a notebook is the runner's to grade")
        readonly = tuple(self.settings.readonly_paths)
        return grade_submission(
            job.student,
            job.notebook,
            job.problem_set.questions(),
            limits,
            readonly_paths=readonly,
            require_sandbox=self.settings.require_sandbox,
            env=_sandbox_env(readonly),
            files_from=job.files_from,
        )


def _sandbox_env(readonly_paths: tuple[Path, ...]) -> dict[str, str]:
    """Point nnkit inside the sandbox at the data cache, when the cache is bound in."""
    data = data_dir()
    return {DATA_ENV_VAR: str(data)} if data in readonly_paths else {}
