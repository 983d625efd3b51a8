"""Grade one submission with the hardened engine.

1. Read the notebook (:mod:`autograder.engine.submission`); an unreadable one scores 0 with
   the reason in the output.
2. Start a sandboxed kernel in a private work folder and run the student's cells one by one.
   A cell that fails or times out is recorded and the next one still runs. For a folder
   submission, the regular files next to the notebook (a saved Keras model, say) are copied
   into the work folder first (:func:`copy_submission_files`), so the notebook finds them
   where it found them on the student's machine.
3. Install the agent and run every test here, in the grader, with its parameters bound to
   proxies of the student's globals (:mod:`autograder.engine.remote`).
4. Return a :class:`SubmissionResult`; :func:`write_results` turns it into Gradescope's
   ``results.json`` and a ``feedback.md``, each written atomically.

Feedback never contains a test's source, its expected values, or a grader traceback: a failing
test contributes only the message of its ``AssertionError``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.engine.remote import Remote, SubmissionFault
from autograder.engine.sandbox import SandboxedKernel, SandboxLimits
from autograder.engine.submission import MalformedSubmission, read_submission
from autograder.engine.test_files import GradingTest, Question

__all__ = [
    "TestResult",
    "SubmissionResult",
    "grade_submission",
    "write_results",
    "atomic_write",
    "copy_submission_files",
]

MAX_MESSAGE_CHARS = 500
#: Files of a folder submission copied into the work folder: at most this much in total.
MAX_SUBMISSION_FILES_BYTES = 256 * 2**20
MAX_SUBMISSION_FILES = 100


@dataclass
class TestResult:
    question: str
    name: str
    score: float
    max_score: float
    hidden: bool
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.score == self.max_score


@dataclass
class SubmissionResult:
    student: str
    tests: list[TestResult]
    sha256: str = ""
    status: str = "graded"  # graded | malformed | error
    output: list[str] = field(default_factory=list)  # notices for the student and the instructor
    sandboxed: bool = True
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    @classmethod
    def ungraded(
        cls, student: str, questions: Sequence[Question], message: str, status: str = "malformed"
    ) -> SubmissionResult:
        """Every test at zero with ``message``: for a submission that could not be graded."""
        return cls(student, _zero_results(questions, message), status=status, output=[message])

    def question_scores(self) -> dict[str, float]:
        scores: dict[str, float] = {}
        for t in self.tests:
            scores[t.question] = scores.get(t.question, 0.0) + t.score
        return scores


def _zero_results(questions: Sequence[Question], message: str) -> list[TestResult]:
    return [
        TestResult(t.question, t.name, 0.0, t.points, t.hidden, message)
        for q in questions
        for t in q.tests
    ]


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
    with tempfile.TemporaryDirectory(prefix="nngrade-work-") as work:
        if files_from is not None:
            result.output.extend(copy_submission_files(files_from, notebook, Path(work)))
        # SandboxUnavailable (with require_sandbox) propagates: a grader failure, not a student's.
        kernel = SandboxedKernel(
            Path(work),
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
                result.tests = _zero_results(questions, message)
            else:
                result.tests = [run_test(t, remote) for q in questions for t in q.tests]
    result.seconds = time.perf_counter() - start
    return result


def submission_files(folder: Path, notebook: Path) -> list[os.DirEntry]:
    """The files of a folder submission that go with its notebook: the regular files directly
    in ``folder``, sorted by name; not the notebook, not hidden files, not symlinks (they
    could point at the grader's secrets), not subfolders. Raises ``OSError``."""
    return [
        entry
        for entry in sorted(os.scandir(folder), key=lambda e: e.name)
        if not entry.name.startswith(".")
        and entry.name != notebook.name
        and entry.is_file(follow_symlinks=False)
    ]


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


# ------------------------------------------------------------------ writing results


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def gradescope_json(result: SubmissionResult) -> dict:
    """Gradescope's results schema: ``score``, ``output`` and one entry per test."""
    return {
        "score": result.score,
        "output": "\n".join(result.output),
        "tests": [
            {
                "name": f"{t.question}: {t.name}",
                "score": t.score,
                "max_score": t.max_score,
                "status": "passed" if t.passed else "failed",
                "output": t.message,
                "visibility": "after_published" if t.hidden else "visible",
            }
            for t in result.tests
        ],
        "extra_data": {
            "student": result.student,
            "status": result.status,
            "sha256": result.sha256,
            "sandboxed": result.sandboxed,
            "seconds": round(result.seconds, 3),
            "questions": result.question_scores(),
        },
    }


def feedback_markdown(result: SubmissionResult) -> str:
    lines = [
        f"# Feedback for {result.student}",
        "",
        f"**Score: {result.score:g} / {result.max_score:g}**",
        "",
    ]
    if result.output:
        lines += ["## Notes", ""] + [f"- {line}" for line in result.output] + [""]
    lines += ["## Tests", "", "| question | test | points | result |", "|---|---|---|---|"]
    for t in result.tests:
        outcome = "passed" if t.passed else (t.message or "failed").replace("|", "\\|")
        lines.append(f"| {t.question} | {t.name} | {t.score:g} / {t.max_score:g} | {outcome} |")
    return "\n".join(lines) + "\n"


def write_results(
    result: SubmissionResult,
    folder: Path,
    fingerprint: str = "",
    extra: Mapping[str, object] | None = None,
) -> None:
    """``folder/results.json`` and ``folder/feedback.md``, each replaced atomically.

    ``extra`` goes into results.json's ``extra_data`` (the batch records the problem set, the
    engine and when the work was submitted and graded, which the gradebook reads back).
    results.json is written last: its presence marks the submission as graded.
    """
    document = gradescope_json(result)
    document["extra_data"]["tests_fingerprint"] = fingerprint
    document["extra_data"].update(extra or {})
    atomic_write(folder / "feedback.md", feedback_markdown(result))
    atomic_write(folder / "results.json", json.dumps(document, indent=1, sort_keys=True) + "\n")
