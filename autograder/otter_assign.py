"""Running otter assign on a problem set's master, quietly, with its checks module shipped.

otter assign splits a master into a student notebook (public tests only) and an autograder
notebook and zip (all tests), and runs the solution against every test. When the problem set
has a checks module (``ProblemSet.checks_module``), it is copied next to the notebook
otter reads and added to the assignment config's ``autograder_files``, so otter puts it in the
autograder folder and in the zip (``files/``), never in the student release. otter's own
grading of the solution (and ``--engine otter`` later) then imports it from the zip inside the
kernel, and the nngrade engine's test loader imports the same copy in the grader.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import yaml

from autograder.errors import BuildError
from autograder.problem_sets import ProblemSet

__all__ = ["prepare_assign_input", "run_otter_assign"]

ASSIGNMENT_CONFIG = "# ASSIGNMENT CONFIG"


def prepare_assign_input(ps: ProblemSet, master_nb: nbformat.NotebookNode, folder: Path) -> Path:
    """Write what otter assign reads into ``folder``: the master notebook, plus the checks
    module (when there is one) beside it and named in ``autograder_files``. Returns the
    notebook's path."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = master_nb
    if ps.checks_module.is_file():
        shutil.copy2(ps.checks_module, folder / ps.checks_module.name)
        nb = with_autograder_file(ps, master_nb, ps.checks_module.name)
    notebook = folder / f"{ps.name}.ipynb"
    nbformat.write(nb, notebook)
    return notebook


def with_autograder_file(
    ps: ProblemSet, master_nb: nbformat.NotebookNode, filename: str
) -> nbformat.NotebookNode:
    """A copy of the master whose assignment config lists ``filename`` in ``autograder_files``.

    Raises :class:`BuildError` when the master has no readable ``# ASSIGNMENT CONFIG`` cell.
    """
    nb = copy.deepcopy(master_nb)
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.lstrip().startswith(ASSIGNMENT_CONFIG):
            try:
                config = yaml.safe_load(cell.source) or {}
            except yaml.YAMLError as exc:
                raise BuildError(
                    f"{ps.name}: the ASSIGNMENT CONFIG of {ps.relative(ps.master)} is not "
                    f"valid YAML: {exc}"
                ) from exc
            files = list(config.get("autograder_files") or [])
            if filename not in files:
                files.append(filename)
            config["autograder_files"] = files
            cell.source = f"{ASSIGNMENT_CONFIG}\n" + yaml.safe_dump(config, sort_keys=False)
            return nb
    raise BuildError(
        f"{ps.name}: {ps.relative(ps.master)} has no ASSIGNMENT CONFIG cell to ship "
        f"{filename} with"
    )


def run_otter_assign(ps: ProblemSet, master_ipynb: Path, out: Path, run_tests: bool) -> None:
    """``otter.assign.main(master, result, no_pdfs=True, no_run_tests=...)``, quietly.

    otter prints progress, and the kernel it starts to run the tests writes to the process's
    stderr; all of it is captured and only shown, in the error, when the build fails.
    """
    captured = ""
    try:
        with _captured_output() as output:
            try:
                from otter.assign import main as otter_assign  # slow import, noisy warnings

                otter_assign(str(master_ipynb), str(out), no_pdfs=True, no_run_tests=not run_tests)
            finally:
                captured = output()
    except Exception as exc:  # otter raises bare RuntimeError and AssertionError
        message = str(exc).strip() or type(exc).__name__
        if not isinstance(exc, RuntimeError):
            message = f"{type(exc).__name__}: {message}"
        detail = _tail(captured)
        raise BuildError(
            f"{ps.name}: otter assign failed on {ps.relative(ps.master)}:\n{message}"
            + (f"\n--- otter output (last lines) ---\n{detail}" if detail else "")
        ) from exc
    for side in ("student", "autograder"):
        if not (out / side / master_ipynb.name).is_file():
            raise BuildError(f"{ps.name}: otter assign wrote no {side} notebook")


@contextlib.contextmanager
def _captured_output() -> Iterator[Callable[[], str]]:
    """Send stdout and stderr, at both the Python and the file-descriptor level, to a buffer.

    The descriptor level matters: the Jupyter kernel otter starts inherits descriptors 1 and 2.
    Python warnings raised meanwhile (otter's grading run trips pandas deprecations) are
    silenced. Yields a function returning everything captured so far.
    """
    py_buffer = io.StringIO()
    with tempfile.TemporaryFile(mode="w+b") as fd_buffer:
        saved: dict[int, int] = {}
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            for fd in (1, 2):
                try:
                    saved[fd] = os.dup(fd)
                except OSError:  # no such descriptor (e.g. a detached daemon)
                    continue
                os.dup2(fd_buffer.fileno(), fd)

            def read_all() -> str:
                fd_buffer.flush()
                fd_buffer.seek(0)
                raw = fd_buffer.read().decode("utf-8", "replace")
                fd_buffer.seek(0, os.SEEK_END)
                return py_buffer.getvalue() + raw

            with (
                contextlib.redirect_stdout(py_buffer),
                contextlib.redirect_stderr(py_buffer),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore")
                yield read_all
        finally:
            for fd, copy_ in saved.items():
                os.dup2(copy_, fd)
                os.close(copy_)


def _tail(text: str, lines: int = 25) -> str:
    kept = [
        line
        for line in text.splitlines()
        if line.strip() and "running over TCP without encryption" not in line
    ]
    return "\n".join(kept[-lines:])
