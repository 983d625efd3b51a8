"""The hardened nngrade engine: grade one submission in a sandbox, tests on the grader's side.

1. Read the notebook (:mod:`autograder.engine.submission`): a regular file reached from the
   submissions folder without a link, at most 20 MB. An unreadable one scores 0 with the
   reason in the output.
2. Start a sandboxed kernel in a private work folder and run the student's cells one by one.
   A cell that fails or times out is recorded and the next one still runs. For a folder
   submission, the regular files next to the notebook that the problem set's ``grading.yaml``
   lists (``submission_files:``, and ``saved_models:`` when the instructor trusts them) are
   copied into the work folder first (:func:`copy_submission_files`), so the notebook finds
   them where it found them on the student's machine; every other file stays out.
3. Install the agent and run every test here, in the grader, with its parameters bound to
   proxies of the student's globals (:mod:`autograder.engine.remote`). The public tests run
   first, then the hidden ones, so that no hidden input has reached the kernel while a public
   test's messages (which may quote the student's exceptions) are made; results keep the
   problem set's order.
4. Return a :class:`~autograder.results.SubmissionResult`.

All of it runs under one wall-clock :class:`~autograder.engine.deadline.Deadline` per
submission (``total_timeout + grader_margin``): past it no more cells run, and the remaining
tests score 0 with a message that names the deadline.

:class:`NngradeEngine` is this engine behind the common interface
(:mod:`autograder.engine.base`). Feedback never contains a test's source, its expected
values, or a grader traceback: a failing test contributes only the message of its
``AssertionError``, and for a hidden test no text from the student's process
(:mod:`autograder.engine.remote`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from autograder.engine.base import EngineSettings, installed_version
from autograder.engine.deadline import Deadline
from autograder.engine.feedback import whole_message
from autograder.engine.job import Job
from autograder.engine.remote import DeadlineExceeded, Remote, SubmissionFault
from autograder.engine.sandbox import SandboxedKernel, SandboxLimits, work_folder
from autograder.engine.submission import (
    MAX_SUBMISSION_FILES,
    MAX_SUBMISSION_FILES_BYTES,
    MalformedSubmission,
    graded_file,
    open_folder,
    open_regular,
    read_submission,
    regular_files,
)
from autograder.engine.test_files import GradingTest, Question
from autograder.limits import MAX_MESSAGE_CHARS
from autograder.results import SubmissionResult, TestResult
from nnkit.mnist import DATA_ENV_VAR, cache_path, course_data_dir

__all__ = [
    "NngradeEngine",
    "SandboxLost",
    "grade_submission",
    "run_test",
    "run_tests",
    "copy_submission_files",
    "copy_notes",
    "folder_unreadable_note",
    "MAX_SUBMISSION_FILES",
    "MAX_SUBMISSION_FILES_BYTES",
]



class SandboxLost(RuntimeError):
    """The sandbox was killed by the host, not for a limit of the submission: regrade it."""


def _short(text: str) -> str:
    """``text`` on one line, cut (if at all) after a whole sentence, with a marker."""
    return whole_message(text, MAX_MESSAGE_CHARS)


def run_test(test: GradingTest, remote: Remote) -> TestResult:
    """Run one test function here, with its parameters bound to the student's globals.

    A hidden test first makes ``remote`` withhold the student's text for good. A test that
    starts or ends past ``remote.deadline`` scores 0 with the deadline's message."""
    result = TestResult(test.question, test.name, 0.0, test.points, test.hidden)
    deadline = remote.deadline
    if deadline is not None and deadline.expired:
        result.message = deadline.message()
        return result
    try:
        if test.hidden:
            remote.withhold_student_text()
        arguments = {name: remote.global_value(name) for name in test.parameters}
        test.function(**arguments)
    except AssertionError as error:
        result.message = _short(error) or "the test failed"
    except Exception as error:  # the test met an answer it could not handle
        result.message = f"the test could not check this answer ({type(error).__name__})"
    else:
        result.score = test.points
    if deadline is not None and deadline.expired:
        result.score, result.message = 0.0, deadline.message()
    return result


def run_tests(questions: Sequence[Question], remote: Remote) -> list[TestResult]:
    """Every test, the public ones first (see the module); results in the questions' order."""
    tests = [t for q in questions for t in q.tests]
    results: list[TestResult | None] = [None] * len(tests)
    for index in sorted(range(len(tests)), key=lambda i: tests[i].hidden):
        results[index] = run_test(tests[index], remote)
    return [r for r in results if r is not None]


def grade_submission(
    student: str,
    notebook: Path,
    questions: Sequence[Question],
    limits: SandboxLimits | None = None,
    readonly_paths: Sequence[Path] = (),
    require_sandbox: bool = False,
    env: Mapping[str, str] | None = None,
    files_from: Path | None = None,
    within: Path | None = None,
    setup: str = "",
    submission_files: tuple[str, ...] = (),
) -> SubmissionResult:
    """Grade ``notebook`` against ``questions``; never raises for anything the student did.

    ``setup``: the problem set's own code (its ``grading.yaml``'s ``kernel_setup``), run in
    the kernel before the student's first cell: seeds and deterministic ops, so that a
    notebook that trains gets the same scores every time it is graded.

    ``files_from``: the student's own folder, whose files next to the notebook that match
    ``submission_files`` are copied into the work folder (only for folder submissions: never a
    folder shared by students).
    ``within``: the submissions folder, from which the notebook (and ``files_from``) must be
    reached without a link; by default the notebook's own folder.
    """
    limits = limits or SandboxLimits()
    deadline = Deadline(limits.deadline_seconds)
    start = time.perf_counter()
    try:
        submission = read_submission(notebook, within=within)
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
            result.output.extend(
                copy_submission_files(files_from, notebook, work, within=within,
                                      patterns=submission_files)
            )
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
            if setup:
                prepared = kernel.execute(setup)
                if prepared.status != "ok":
                    result.output.append(
                        _short(f"The grader's kernel setup failed ({prepared.status}).")
                    )
            places = submission.code_cell_places
            for number, source in enumerate(submission.code_cells):
                place = places[number] if number < len(places) else f"Cell {number + 1}"
                place = place[:1].upper() + place[1:]
                if deadline.expired:
                    result.output.append(_short(f"{place}: {deadline.message()}."))
                    break
                cell = kernel.execute(source, min(limits.cell_timeout, deadline.remaining()))
                if cell.status == "host":  # the host failed the student: a grader failure
                    raise SandboxLost(f"{place}: {cell.evalue}")
                if cell.status == "error":
                    result.output.append(_short(f"{place} raised {cell.ename}: {cell.evalue}"))
                elif cell.status != "ok":  # a limit: the sandbox says which, in words
                    result.output.append(_short(f"{place}: {cell.evalue}."))
                if not kernel.alive:
                    result.output.append("The remaining cells were not run.")
                    break
            remote = Remote(kernel, call_timeout=limits.cell_timeout, deadline=deadline)
            try:
                if not kernel.alive:
                    raise SubmissionFault("the notebook's kernel had stopped")
                remote.install()
            except DeadlineExceeded:
                message = deadline.message()
                result.tests = SubmissionResult.ungraded(student, questions, message).tests
            except SubmissionFault as fault:
                message = _short(f"Not graded: {fault}")
                result.tests = SubmissionResult.ungraded(student, questions, message).tests
            else:
                result.tests = run_tests(questions, remote)
            if deadline.expired:
                result.output.append(
                    f"Grading stopped at this submission's deadline of {deadline.seconds:g} s "
                    "(the notebook's time limit and a margin for the grader's work); the tests "
                    "not finished by then score 0."
                )
        result.enforcement = dict(kernel.enforcement)  # complete once the kernel has ended
    result.output.extend(folder.warnings)
    result.seconds = time.perf_counter() - start
    return result


def copy_submission_files(
    folder: Path, notebook: Path, work: Path, within: Path | None = None,
    patterns: tuple[str, ...] = (),
) -> list[str]:
    """Copy the regular files next to the notebook whose names match one of ``patterns``
    (the problem set's ``submission_files``) into ``work``; return notes for the student's
    feedback, which name the files left out.

    The folder is untrusted: it is reached from ``within`` (default: itself) without a link,
    each file is opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked to be a regular file on
    the open descriptor (an entry swapped for a link or a FIFO after the listing is skipped),
    and the copy stops at ``MAX_SUBMISSION_FILES`` files or ``MAX_SUBMISSION_FILES_BYTES``
    bytes, counted as read, not as ``stat`` says.
    """
    def copy(folder_fd: int, name: str, budget: int) -> int | None:
        return _copy_file(folder_fd, name, work / name, budget)

    return take_submission_files(folder, notebook.name, within, patterns, copy)


def take_submission_files(
    folder: Path, notebook_name: str, within: Path | None, patterns: Sequence[str],
    take: Callable[[int, str, int], int | None],
) -> list[str]:
    """The one walk over a folder submission's files, for copying them into a work folder
    here or reading them to ship to a cluster worker: ``take(folder_fd, name, budget)`` is
    called for each regular file next to the notebook that matches ``patterns``, within the
    caps, and returns the bytes it took (None: skipped). Returns the feedback's notes."""
    taken, skipped, unused, total = [], [], [], 0
    try:
        folder_fd = open_folder(folder, folder if within is None else within)
    except (MalformedSubmission, OSError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        return [folder_unreadable_note(reason)]
    try:
        for name in regular_files(folder_fd, notebook_name):
            if not graded_file(name, patterns):
                unused.append(name)
                continue
            if len(taken) >= MAX_SUBMISSION_FILES:
                skipped.append(name)
                continue
            size = take(folder_fd, name, MAX_SUBMISSION_FILES_BYTES - total)
            if size is None:
                skipped.append(name)
            else:
                total += size
                taken.append(name)
    except OSError as error:
        return [folder_unreadable_note(str(error.strerror))]
    finally:
        os.close(folder_fd)
    return copy_notes(taken, skipped, unused, patterns)


def copy_notes(copied: Sequence[str], skipped: Sequence[str], unused: Sequence[str] = (),
               patterns: Sequence[str] = ()) -> list[str]:
    """The feedback's notes on a folder submission's files: those copied, those not, and
    those left out because the problem set does not take them (``patterns``)."""
    notes = []
    if copied:
        notes.append("Files from the submission folder: " + ", ".join(copied) + ".")
    if skipped:
        notes.append(
            "Not copied (too many, too large or unreadable): " + ", ".join(skipped) + "."
        )
    if unused:
        takes = ", ".join(patterns) if patterns else "no files but the notebook"
        notes.append(
            "Not used for grading: " + ", ".join(unused[:20])
            + (f" and {len(unused) - 20} more" if len(unused) > 20 else "")
            + f". The grader runs your notebook's own code; this problem set takes {takes}."
        )
    return notes


def folder_unreadable_note(reason: str) -> str:
    """The note for a submission folder whose files could not be listed or read."""
    return f"The files of the submission folder could not be read ({reason})."


def _copy_file(folder_fd: int, name: str, dest: Path, budget: int) -> int | None:
    """Copy at most ``budget`` bytes of ``name``; its size, or None (and no copy) when it is
    not a regular file, cannot be read, or is larger."""
    try:
        source = open_regular(folder_fd, name)
    except (MalformedSubmission, OSError):
        return None
    size = 0
    try:
        with os.fdopen(source, "rb") as src, open(dest, "xb") as dst:
            while block := src.read(min(1 << 20, budget - size + 1)):
                size += len(block)
                if size > budget:
                    break
                dst.write(block)
    except OSError:
        size = budget + 1
    if size > budget:
        dest.unlink(missing_ok=True)
        return None
    return size


# ------------------------------------------------------------------ behind the interface


class NngradeEngine:
    """The hardened engine as an :class:`~autograder.engine.base.Engine`."""

    name = "nngrade"

    def __init__(self, settings: EngineSettings) -> None:
        _refuse_heldout_digits(settings.readonly_paths)
        self.settings = settings

    def version(self) -> str:
        return installed_version("nngrade")

    def host_problems(self) -> list[str]:
        from autograder.engine.sandbox.host import missing_guarantees

        return missing_guarantees()

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
            within=job.within,
            setup=job.problem_set.kernel_setup,
            submission_files=job.problem_set.submission_files,
        )


def _sandbox_env(readonly_paths: tuple[Path, ...]) -> dict[str, str]:
    """Point nnkit inside the sandbox at the course's MNIST file, when its folder is bound in."""
    data = course_data_dir()
    return {DATA_ENV_VAR: str(data)} if data in readonly_paths else {}


def _refuse_heldout_digits(readonly_paths: Sequence[Path]) -> None:
    """The grader scores models on MNIST digits the sandbox never holds: refuse to lend it a
    folder that holds the full cache (give it :func:`nnkit.mnist.course_data_dir`)."""
    full = cache_path().resolve()
    for path in readonly_paths:
        if full.is_relative_to(Path(path).resolve()):
            raise ValueError(
                f"{path} holds {full}, whose held-back digits are what the grader scores "
                f"models on; lend the sandbox {course_data_dir()} instead"
            )
