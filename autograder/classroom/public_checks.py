"""Run a problem set's public checks on the notebook, one question at a time.

This file is shipped in the template repository as ``tests/public_checks.py`` and runs on the
student's side (their machine, or the GitHub Actions runner of their repository): it uses only
the standard library and otter-grader, never nngrade.

``check("q1a")`` (what ``tests/test_q1a.py`` calls, so ``pytest tests/test_q1a.py`` runs it)
passes when every public check of ``q1a`` passes, and fails with otter's summary of what did
not. The checks are the public test files ``tests/<question>.py``, the same ones
``grader.check("q1a")`` runs inside the notebook.

The notebook is executed once for all questions, by otter's own grading of a notebook against
test files (:func:`otter.execute.grade_notebook`, what ``otter check`` uses), and the result of
every question is kept in ``.nngrade-public/<key>.json`` in the repository, where ``key`` is the
sha256 of the notebook, the test files and this file. The next question's command finds it
there: a workflow run, whose steps share one workspace, executes the notebook (and trains
problem set 3's networks) once, not once per question. Editing the notebook or a test changes
the key, so nothing stale is ever reused.

Passing the public checks is necessary, not sufficient: the hidden tests that grade the work
run on the instructor's side after the deadline.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["CACHE_DIR", "MANIFEST", "QuestionResult", "check", "question_result", "state_key"]

#: The template's description of its questions: the notebook and each question's points.
MANIFEST = "questions.json"
#: Where the results of one execution of the notebook are kept, in the repository's root.
CACHE_DIR = ".nngrade-public"


@dataclass(frozen=True)
class QuestionResult:
    """One question's public checks: passed or not, points earned of those possible, and
    otter's summary (what failed, with each check's message)."""

    question: str
    passed: bool
    score: float
    possible: float
    summary: str


def tests_dir() -> Path:
    """The folder holding this file, the manifest and the public test files."""
    return Path(__file__).resolve().parent


def repository_root() -> Path:
    """The template repository's root: the notebook's folder."""
    return tests_dir().parent


def read_manifest() -> dict[str, Any]:
    return json.loads((tests_dir() / MANIFEST).read_text(encoding="utf-8"))


def _questions(manifest: dict[str, Any]) -> list[str]:
    return [str(q["name"]) for q in manifest["questions"]]


def state_key(manifest: dict[str, Any]) -> str:
    """sha256 of everything the results depend on: the notebook, every public test file and
    this runner. A missing file counts as its absence."""
    digest = hashlib.sha256()
    paths = [
        repository_root() / manifest["notebook"],
        *(tests_dir() / f"{q}.py" for q in _questions(manifest)),
        Path(__file__).resolve(),
    ]
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"-")
    return digest.hexdigest()


def _failed_everywhere(questions: list[str], message: str) -> dict[str, dict[str, Any]]:
    return {
        q: asdict(QuestionResult(q, False, 0.0, 0.0, f"{q} results:\n    {message}"))
        for q in questions
    }


def run_every_question(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Execute the notebook once with otter and run every question's public test file."""
    questions = _questions(manifest)
    notebook = repository_root() / manifest["notebook"]
    if not notebook.is_file():
        return _failed_everywhere(questions, f"there is no notebook named {notebook.name}")
    from otter.execute import grade_notebook

    paths = [str(tests_dir() / f"{q}.py") for q in questions]
    before = os.getcwd()
    os.chdir(repository_root())  # the kernel runs where the notebook is, as in Jupyter
    try:
        results = grade_notebook(
            str(notebook), tests_glob=paths, test_dir=str(tests_dir()),
            cwd=str(repository_root()),
        )  # fmt: skip
    except Exception as error:  # a notebook that is not one, a kernel that died
        return _failed_everywhere(
            questions, f"the notebook could not be run ({type(error).__name__}: {error})"
        )
    finally:
        os.chdir(before)
    out: dict[str, dict[str, Any]] = {}
    for q in questions:
        test_file = results.results.get(q)
        if test_file is None:
            out.update(_failed_everywhere([q], "its public checks did not run"))
            continue
        out[q] = asdict(
            QuestionResult(
                q,
                bool(test_file.passed_all),
                float(test_file.score),
                float(test_file.possible),
                test_file.summary(),
            )
        )
    return out


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def question_result(question: str) -> QuestionResult:
    """The public checks of ``question``: from this state's cache file, else by executing the
    notebook once (and caching every question's result)."""
    manifest = read_manifest()
    if question not in _questions(manifest):
        raise KeyError(f"no question {question!r}; the questions are {_questions(manifest)}")
    cache = repository_root() / CACHE_DIR / f"{state_key(manifest)}.json"
    try:
        results = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        results = run_every_question(manifest)
        _write_atomically(cache, json.dumps(results, indent=1, sort_keys=True) + "\n")
    return QuestionResult(**results[question])


def check(question: str) -> QuestionResult:
    """Pass when every public check of ``question`` passes; otherwise raise AssertionError
    with otter's summary of what failed."""
    __tracebackhide__ = True  # pytest shows the message, not this function
    result = question_result(question)
    print(result.summary)
    if not result.passed:
        raise AssertionError(
            f"{result.summary}\n\n(public checks only: the hidden tests are run by the "
            "instructor after the deadline)"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    """``python tests/public_checks.py q1a [q1b ...]``: exit 0 when all of them pass."""
    questions = argv if argv is not None else sys.argv[1:]
    if not questions:
        questions = _questions(read_manifest())
    failed = 0
    for question in questions:
        result = question_result(question)
        print(result.summary)
        failed += not result.passed
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
