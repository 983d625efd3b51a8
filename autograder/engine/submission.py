"""Reading a submitted notebook, which is untrusted input like everything else a student sends.

A notebook that cannot be read (not UTF-8, not JSON, not a notebook, too large) raises
:class:`MalformedSubmission` with a message for the student; the batch records a zero for that
student and goes on. Old nbformat versions are converted by ``nbformat`` itself.

The cells the release template adds for otter (``grader = otter.Notebook(...)``,
``grader.check("q1")``, ``grader.export()``) are not the student's code and are not run.

A folder submission (a clone of the student's repository) also brings the regular files next
to its notebook (:func:`submission_files`), such as a saved model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.engine.feedback import cell_place

__all__ = [
    "MalformedSubmission",
    "Submission",
    "read_submission",
    "submission_files",
    "MAX_NOTEBOOK_BYTES",
]

MAX_NOTEBOOK_BYTES = 20 * 2**20

_TEMPLATE_LINE = re.compile(
    r"""^\s*(
        \#.*                                        # comments
      | import\s+otter
      | grader\s*=\s*otter\.Notebook\(.*\)
      | grader\.(check|check_all|export|to_pdf)\(.*\)
    )?\s*$""",
    re.VERBOSE,
)


class MalformedSubmission(ValueError):
    """The file is not a notebook we can grade; the message says why."""


_CHECK_CALL = re.compile(r"""grader\.check\(\s*["'](?P<question>[^"']+)["']""")


@dataclass(frozen=True)
class Submission:
    path: Path
    sha256: str
    code_cells: tuple[str, ...]
    #: Where each of ``code_cells`` is, in words a student can find in the notebook.
    code_cell_places: tuple[str, ...] = ()


def _is_template_cell(source: str) -> bool:
    return all(_TEMPLATE_LINE.match(line) for line in source.splitlines())


def read_submission(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> Submission:
    """The student's code cells, in order, and the file's sha256."""
    size = path.stat().st_size
    if size > max_bytes:
        raise MalformedSubmission(
            f"the notebook is {size / 2**20:.1f} MB; notebooks over {max_bytes / 2**20:.0f} MB "
            "are not graded (clear the outputs and resubmit)"
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise MalformedSubmission("the notebook file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedSubmission(f"the notebook is not UTF-8 text (byte {error.start})") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedSubmission(
            f"the notebook is not valid JSON (line {error.lineno}, column {error.colno})"
        ) from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises a variety of errors for non-notebooks
        raise MalformedSubmission(f"the file is not a Jupyter notebook ({error})") from None
    cells: list[str] = []
    questions: list[str | None] = []  # the question whose check follows each student cell
    pending = 0  # student cells not yet followed by a question's check
    last_question: str | None = None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if not isinstance(source, str):
            raise MalformedSubmission("a code cell's source is not text")
        check = _CHECK_CALL.search(source)
        if check and _is_template_cell(source):
            last_question = check.group("question")
            questions[len(questions) - pending:] = [last_question] * pending
            pending = 0
        if source.strip() and not _is_template_cell(source):
            cells.append(source)
            questions.append(None)
            pending += 1
    places = tuple(
        cell_place(question or last_question, source, after=question is None)
        if question or last_question
        else cell_place(None, source)
        for source, question in zip(cells, questions, strict=True)
    )
    return Submission(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        code_cells=tuple(cells),
        code_cell_places=places,
    )


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
