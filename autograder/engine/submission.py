"""Reading a submitted notebook, which is untrusted input like everything else a student sends.

**Intake.** A notebook is graded only when it is a regular file inside the submissions folder
and is reached without following a symbolic link: a link to a classmate's notebook, to the
solution under ``dist/``, or to ``/dev/zero`` would otherwise be graded (or read) as this
student's work. :func:`read_notebook_bytes` walks from the submissions folder down to the
notebook one folder at a time, each opened with ``O_NOFOLLOW`` relative to the one before, so
no component can be a link, even if one is swapped in while the grader reads. The notebook is
opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO cannot block the open), its type is checked on
the open descriptor (``S_ISREG``: not a device, FIFO or socket), and at most ``max_bytes + 1``
bytes are read whatever ``stat`` says. The files next to a folder submission's notebook are
read the same way (:func:`open_folder`, :func:`regular_files`, :func:`open_regular`).

A notebook that cannot be read (a link, not a regular file, not UTF-8, not JSON, not a
notebook, too large) raises :class:`MalformedSubmission` with a message for the student; the
batch records a zero for that student and goes on. Old nbformat versions are converted by
``nbformat`` itself.

The cells the release template adds for otter (``grader = otter.Notebook(...)``,
``grader.check("q1")``, ``grader.export()``) are not the student's code and are not run.
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import json
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.engine.feedback import cell_place
from autograder.limits import (
    MAX_NOTEBOOK_BYTES,
    MAX_SUBMISSION_FILES,
    MAX_SUBMISSION_FILES_BYTES,
)

__all__ = [
    "MalformedSubmission",
    "Submission",
    "read_submission",
    "read_notebook_bytes",
    "open_folder",
    "open_regular",
    "graded_file",
    "regular_files",
    "submission_files",
    "MAX_NOTEBOOK_BYTES",
    "MAX_SUBMISSION_FILES",
    "MAX_SUBMISSION_FILES_BYTES",
]


_TEMPLATE_LINE = re.compile(
    r"""^\s*(
        \#.*                                        # comments
      | import\s+otter
      | grader\s*=\s*otter\.Notebook\(.*\)
      | grader\.(check|check_all|export|to_pdf)\(.*\)
    )?\s*$""",
    re.VERBOSE,
)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
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


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


# ------------------------------------------------------------------ opening without links


def open_folder(folder: Path, within: Path) -> int:
    """A descriptor of ``folder``, reached from ``within`` without following any link.

    ``within`` (the submissions folder, the instructor's) is opened as it is; every folder
    below it on the way to ``folder`` must be a real folder, never a symbolic link. Raises
    :class:`MalformedSubmission` for a link or a path outside ``within``, ``OSError`` for
    the rest (a missing folder). The caller closes the descriptor.
    """
    within, folder = Path(os.path.abspath(within)), Path(os.path.abspath(folder))
    try:
        parts = folder.relative_to(within).parts
    except ValueError:
        raise MalformedSubmission("the notebook is not inside the submissions folder") from None
    fd = os.open(within, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts:
            info = os.stat(part, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                raise MalformedSubmission(
                    f"the folder {part!r} is a symbolic link; submit the files themselves"
                )
            if not stat.S_ISDIR(info.st_mode):
                raise MalformedSubmission(f"{part!r} is not a folder")
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped for a link meanwhile
                    raise MalformedSubmission(
                        f"the folder {part!r} is a symbolic link; submit the files themselves"
                    ) from None
                raise
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(dir_fd: int, name: str, what: str = "the file") -> int:
    """A descriptor of the regular file ``name`` in the folder ``dir_fd``, never through a
    link, never a device, FIFO or socket (checked before opening and again on the open
    descriptor). Raises :class:`MalformedSubmission` saying what ``what`` is instead."""
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        raise MalformedSubmission(f"{what} is a symbolic link; submit the file itself")
    if not stat.S_ISREG(info.st_mode):
        raise MalformedSubmission(f"{what} is {_kind(info.st_mode)}, not a regular file")
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:  # swapped for a link since the stat
            message = f"{what} is a symbolic link; submit the file itself"
            raise MalformedSubmission(message) from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise MalformedSubmission(f"{what} is {_kind(mode)}, not a regular file")
    return fd


def read_capped(fd: int, max_bytes: int) -> bytes | None:
    """At most ``max_bytes`` from ``fd``; None when there is more (``max_bytes + 1`` read)."""
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    return None


def read_notebook_bytes(
    path: Path, within: Path | None = None, max_bytes: int = MAX_NOTEBOOK_BYTES
) -> bytes:
    """The notebook's bytes, read as the module says: a regular file below ``within``
    (default: the notebook's own folder), no link on the way, at most ``max_bytes``.

    Raises :class:`MalformedSubmission` with the reason, or ``OSError`` (a missing file)."""
    path = Path(os.path.abspath(path))
    folder = open_folder(path.parent, path.parent if within is None else within)
    try:
        fd = open_regular(folder, path.name, "the notebook")
    finally:
        os.close(folder)
    try:
        raw = read_capped(fd, max_bytes)
        if raw is None:
            size = max(os.fstat(fd).st_size, max_bytes + 1)
            raise MalformedSubmission(
                f"the notebook is {size / 2**20:.1f} MB; notebooks over "
                f"{max_bytes / 2**20:.0f} MB are not graded (clear the outputs and resubmit)"
            )
        return raw
    finally:
        os.close(fd)


def graded_file(name: str, patterns: Sequence[str]) -> bool:
    """Whether the file ``name`` next to a folder submission's notebook is graded with it:
    it matches one of the problem set's ``submission_files`` patterns."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def regular_files(dir_fd: int, exclude: str) -> list[str]:
    """The names of the regular files in the folder ``dir_fd``, sorted: not ``exclude`` (the
    notebook), not hidden files, not symlinks, devices or subfolders."""
    names = []
    with os.scandir(dir_fd) as entries:
        for entry in entries:
            if entry.name.startswith(".") or entry.name == exclude:
                continue
            if entry.is_file(follow_symlinks=False):
                names.append(entry.name)
    return sorted(names)


def submission_files(folder: Path, notebook: Path) -> list[os.DirEntry]:
    """The files of a folder submission that go with its notebook: the regular files directly
    in ``folder``, sorted by name; not the notebook, not hidden files, not symlinks (they
    could point at the grader's secrets), not subfolders. Raises ``OSError``. Read them with
    :func:`open_regular`: an entry may have been replaced since it was listed."""
    return [
        entry
        for entry in sorted(os.scandir(folder), key=lambda e: e.name)
        if not entry.name.startswith(".")
        and entry.name != notebook.name
        and entry.is_file(follow_symlinks=False)
    ]


# ------------------------------------------------------------------ the notebook's cells


def _is_nbgrader_test_cell(cell: dict) -> bool:
    """A test cell of an nbgrader release (graded, not an answer). Skipping one only takes
    away a check the student could run themselves; it never earns a point."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return isinstance(meta, dict) and meta.get("grade") is True and meta.get("solution") is False


def _is_template_cell(source: str) -> bool:
    return all(_TEMPLATE_LINE.match(line) for line in source.splitlines())


def read_submission(
    path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES, within: Path | None = None
) -> Submission:
    """The student's code cells, in order, and the file's sha256 (see the module for
    ``within``)."""
    raw = read_notebook_bytes(path, within, max_bytes)
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
        if _is_nbgrader_test_cell(cell):
            continue  # nbgrader's own check: the grader runs the real tests itself
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
