"""``nngrade build``: from a master in ``solutions/`` to the student release and the autograder.

One build of problem set ``<ps>``:

1. ``solutions/<ps>/<ps>.py`` (jupytext percent format) is converted to a notebook in a
   fresh temporary folder.
2. otter assign runs on it. It splits the master into a student notebook (public tests only) and
   an autograder notebook and zip (all tests), and runs the solution against every test; a master
   whose solution fails its own tests stops the build.
3. The student notebook is made deterministic (stable cell ids, no outputs, no volatile
   metadata), checked for leaks (no hidden test, no solution line) and written, with any other
   file otter put beside it, to ``assignments/<ps>/``.
4. The autograder folder goes to ``dist/<ps>/autograder/`` with its zip under the stable name
   ``<ps>-autograder.zip``; the converted master goes to ``dist/<ps>/master/<ps>.ipynb``.

Both output folders are assembled elsewhere and swapped in whole, so an interrupted or failed
build leaves the previous release as it was. ``check=True`` does steps 1 to 3 in a temporary
folder only and reports how ``assignments/<ps>/`` differs from what a build would write.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jupytext
import nbformat

from autograder.errors import BuildError
from autograder.problem_sets import ProblemSet

__all__ = ["BuildError", "BuildResult", "build_problem_set"]

NBFORMAT_MINOR = 5  # cell ids exist from nbformat 4.5 on

# Cell metadata a student notebook keeps: otter's locks and tags. Everything else (jupytext's
# blank-line bookkeeping, execution timings, UI state) is dropped.
KEPT_CELL_METADATA = ("deletable", "editable", "tags", "otter")

# Files that may sit in assignments/<ps>/ without making it stale (all git-ignored).
IGNORED_NAMES = frozenset({".ipynb_checkpoints", "__pycache__", ".DS_Store"})

_BEGIN_SOLUTION = re.compile(r"^\s*#\s*BEGIN SOLUTION\b")
_END_SOLUTION = re.compile(r"^\s*#\s*END SOLUTION\b")
_SOLUTION_SUFFIX = re.compile(r"\s*#\s*SOLUTION(?: NO PROMPT)?\s*$")
_HIDDEN_TRUE = re.compile(r"\bhidden\s*=\s*True\b")
_WORD = re.compile(r"\w+")


@dataclass
class BuildResult:
    """What a build wrote, or, for a check, what it would write and what is out of date.

    ``stale`` holds one entry per file, its path relative to the repository root followed by
    ``(differs)``, ``(missing)`` or ``(extra)``; it is empty after a build and for an up-to-date
    check.
    """

    ps: ProblemSet
    student_files: list[Path]
    autograder_zip: Path | None
    stale: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not self.stale


def build_problem_set(ps: ProblemSet, check: bool = False) -> BuildResult:
    """Build ``ps`` into ``assignments/<ps>/`` and ``dist/<ps>/``, or with ``check`` only compare.

    Raises :class:`BuildError` when the master cannot be read, otter assign fails (a malformed
    master, or a solution that fails its own tests), or the student notebook would contain a
    hidden test or solution code. Nothing is written in any of those cases.
    """
    with tempfile.TemporaryDirectory(prefix=f"nngrade-build-{ps.name}-") as tmp_name:
        tmp = Path(tmp_name)
        master_nb = read_master(ps)
        master_ipynb = tmp / "master" / f"{ps.name}.ipynb"
        master_ipynb.parent.mkdir()
        nbformat.write(master_nb, master_ipynb)

        otter_out = tmp / "otter"
        # A check only compares the student release, which does not depend on the solution
        # passing its tests, so it skips the test run (a kernel start and a grading pass).
        run_otter_assign(ps, master_ipynb, otter_out, run_tests=not check)

        student = tmp / "student"
        stage_student_release(ps, otter_out / "student", student)
        check_student_release(ps, master_nb, student, otter_out / "autograder")
        student_rel = _files_under(student)

        if check:
            stale = compare_release(ps, student)
            return BuildResult(ps, [ps.assignment_dir / r for r in student_rel], None, stale)

        dist = tmp / "dist"
        stage_dist(ps, otter_out / "autograder", master_ipynb, dist)

        _replace_dir(dist, ps.dist_dir)
        _replace_dir(student, ps.assignment_dir)
        return BuildResult(ps, [ps.assignment_dir / r for r in student_rel], ps.autograder_zip)


# ------------------------------------------------------------------------------- the master


def read_master(ps: ProblemSet) -> nbformat.NotebookNode:
    """The master as a notebook, with stable cell ids (jupytext draws random ones)."""
    try:
        nb = jupytext.read(ps.master, fmt="py:percent")
    except Exception as exc:  # any parse failure is the author's to fix
        raise BuildError(f"{ps.name}: cannot read {ps.relative(ps.master)}: {exc}") from exc
    nb.nbformat, nb.nbformat_minor = 4, max(nb.nbformat_minor, NBFORMAT_MINOR)
    for index, cell in enumerate(nb.cells):
        cell["id"] = stable_cell_id(index, cell.source)
    return nb


def stable_cell_id(index: int, source: str) -> str:
    """``c<index>-<first 8 hex digits of sha1(source)>``: the same cell always gets the same id."""
    digest = hashlib.sha1(source.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"c{index:02d}-{digest[:8]}"


# ----------------------------------------------------------------------------- otter assign


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
def _captured_output() -> Iterator[Any]:
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
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)


def _tail(text: str, lines: int = 25) -> str:
    kept = [
        line
        for line in text.splitlines()
        if line.strip() and "running over TCP without encryption" not in line
    ]
    return "\n".join(kept[-lines:])


# -------------------------------------------------------------------------- student release


def stage_student_release(ps: ProblemSet, otter_student: Path, staged: Path) -> None:
    """Copy otter's student folder to ``staged``, with the notebook made deterministic."""
    shutil.copytree(otter_student, staged)
    notebook = staged / ps.student_notebook.name
    nb = nbformat.read(notebook, as_version=4)
    nbformat.write(normalise_student_notebook(nb), notebook)


def normalise_student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The same notebook with nothing that changes from one build to the next.

    Cell ids become :func:`stable_cell_id` (otter draws random ids for the cells it adds),
    outputs and execution counts go, and only the metadata students need stays: the kernelspec,
    the language name and otter's block (which holds the public tests).
    """
    meta = nb.get("metadata", {})
    kept: dict[str, Any] = {}
    if "kernelspec" in meta:
        kept["kernelspec"] = meta["kernelspec"]
    language = meta.get("language_info", {}).get("name")
    if language:
        kept["language_info"] = {"name": language}
    if "otter" in meta:
        kept["otter"] = meta["otter"]

    cells = []
    for index, cell in enumerate(nb.cells):
        source = cell.source
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(source)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source)
            if cell.get("attachments"):
                new["attachments"] = cell["attachments"]
        else:
            new = nbformat.v4.new_raw_cell(source)
        new["metadata"] = {k: cell.metadata[k] for k in KEPT_CELL_METADATA if k in cell.metadata}
        new["id"] = stable_cell_id(index, source)
        cells.append(new)

    clean = nbformat.v4.new_notebook(cells=cells, metadata=kept)
    clean.nbformat_minor = max(nb.get("nbformat_minor", 0), NBFORMAT_MINOR)
    return clean


def check_student_release(
    ps: ProblemSet, master_nb: nbformat.NotebookNode, student: Path, otter_autograder: Path
) -> None:
    """Refuse a student release that holds a hidden test or a line of the master's solutions."""
    nb = nbformat.read(student / f"{ps.name}.ipynb", as_version=4)
    problems: list[str] = []

    # 1. Tests shipped to students (notebook metadata, or test files) must all be public.
    for name, source in _student_test_sources(nb, student):
        if _declares_hidden(source):
            problems.append(f"test {name!r} in the student release is marked hidden")

    # 2. No hidden test function of the autograder notebook may be named anywhere in it.
    release_text = "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in _files(student)
    )
    ag_nb = nbformat.read(otter_autograder / f"{ps.name}.ipynb", as_version=4)
    for name in sorted(_hidden_test_names(ag_nb)):
        if re.search(rf"\b{re.escape(name)}\b", release_text):
            problems.append(f"hidden test {name!r} appears in the student release")

    # 3. No solution line may survive in a cell.
    student_lines = {
        _SOLUTION_SUFFIX.sub("", line).strip()
        for cell in nb.cells
        for line in cell.source.splitlines()
    }
    for line in sorted(solution_lines(master_nb) & student_lines):
        problems.append(f"solution line appears in the student notebook: {line!r}")
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            if _BEGIN_SOLUTION.match(line) or _SOLUTION_SUFFIX.search(line):
                problems.append(f"solution marker left in the student notebook: {line.strip()!r}")

    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise BuildError(
            f"{ps.name}: refusing to write the student release, it would leak:\n{listing}\n"
            f"Check the question/solution/test markers in {ps.relative(ps.master)}."
        )


def solution_lines(master_nb: nbformat.NotebookNode) -> set[str]:
    """The master's solution text, line by line, stripped, minus lines too generic to matter.

    Solution lines are the lines of a code cell between ``# BEGIN SOLUTION`` and
    ``# END SOLUTION``, lines ending in ``# SOLUTION`` (without that marker), and the lines of a
    markdown cell inside a solution block (a written answer). Lines with fewer than two words
    (``pass``, ``else:``, ``return x``) are left out: a prompt may contain them too.
    """
    found: set[str] = set()
    in_block = False  # between raw-cell BEGIN SOLUTION / END SOLUTION delimiters
    for cell in master_nb.cells:
        source = cell.source
        if cell.cell_type == "raw":
            first = source.strip().splitlines()[0] if source.strip() else ""
            if _BEGIN_SOLUTION.match(first):
                in_block = True
            elif _END_SOLUTION.match(first):
                in_block = False
            continue
        if cell.cell_type == "markdown":
            if in_block:
                found.update(line.strip() for line in source.splitlines())
            continue
        inside = False
        for line in source.splitlines():
            if _BEGIN_SOLUTION.match(line):
                inside = True
            elif _END_SOLUTION.match(line):
                inside = False
            elif inside:
                found.add(line.strip())
            elif _SOLUTION_SUFFIX.search(line):
                found.add(_SOLUTION_SUFFIX.sub("", line).strip())
    return {
        line
        for line in found
        if len(_WORD.findall(line)) >= 2 and not line.startswith("#") and line != "..."
    }


def _student_test_sources(nb: nbformat.NotebookNode, student: Path) -> Iterator[tuple[str, Any]]:
    tests = nb.metadata.get("otter", {}).get("tests", {})
    yield from tests.items()
    for path in _files(student):
        if path.suffix == ".py":
            yield path.relative_to(student).as_posix(), path.read_text(encoding="utf-8")


def _declares_hidden(test: Any) -> bool:
    """Whether a test (exception-based source, or an OK-format dict) has a hidden case."""
    if isinstance(test, dict):
        return '"hidden": true' in json.dumps(test).lower()
    if not isinstance(test, str):
        return False
    if _HIDDEN_TRUE.search(test):
        return True
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return "hidden" in test
    return any(
        isinstance(node, ast.keyword)
        and node.arg == "hidden"
        and not (isinstance(node.value, ast.Constant) and not node.value.value)
        for node in ast.walk(tree)
    )


def _hidden_test_names(ag_nb: nbformat.NotebookNode) -> set[str]:
    """Names of the functions decorated ``@test_case(..., hidden=True)`` in the autograder nb."""
    names: set[str] = set()
    for source in ag_nb.metadata.get("otter", {}).get("tests", {}).values():
        if not isinstance(source, str):
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and _declares_hidden(ast.unparse(d))
                for d in node.decorator_list
            ):
                names.add(node.name)
    return names


def compare_release(ps: ProblemSet, staged: Path) -> list[str]:
    """How ``assignments/<ps>/`` differs from ``staged``, file by file, byte for byte."""
    want = {p.relative_to(staged).as_posix(): p for p in _files(staged)}
    have: dict[str, Path] = {}
    if ps.assignment_dir.is_dir():
        have = {p.relative_to(ps.assignment_dir).as_posix(): p for p in _files(ps.assignment_dir)}
    prefix = ps.relative(ps.assignment_dir)
    stale = []
    for rel in sorted(want.keys() | have.keys()):
        if rel not in have:
            stale.append(f"{prefix}/{rel} (missing)")
        elif rel not in want:
            stale.append(f"{prefix}/{rel} (extra)")
        elif want[rel].read_bytes() != have[rel].read_bytes():
            stale.append(f"{prefix}/{rel} (differs)")
    return stale


# ------------------------------------------------------------------------------------- dist


def stage_dist(ps: ProblemSet, otter_autograder: Path, master_ipynb: Path, staged: Path) -> None:
    """Assemble ``dist/<ps>/`` in ``staged``: otter's autograder folder with the zip renamed to
    ``ps.autograder_zip``'s name, and the converted master as ``ps.master_notebook``."""
    autograder = staged / ps.autograder_dir.relative_to(ps.dist_dir)
    shutil.copytree(otter_autograder, autograder)
    zips = sorted(autograder.glob(f"{ps.name}-autograder_*.zip"))
    if len(zips) != 1:
        raise BuildError(
            f"{ps.name}: expected one autograder zip from otter, found {len(zips)}; "
            "is `generate` disabled in the ASSIGNMENT CONFIG?"
        )
    zips[0].rename(autograder / ps.autograder_zip.name)
    master = staged / ps.master_notebook.relative_to(ps.dist_dir)
    master.parent.mkdir(parents=True)
    shutil.copy2(master_ipynb, master)


# ---------------------------------------------------------------------------------- helpers


def _files(folder: Path) -> list[Path]:
    """Regular files under ``folder``, sorted, skipping git-ignored editor and cache folders."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_NAMES)
        out.extend(Path(dirpath) / f for f in sorted(filenames) if f not in IGNORED_NAMES)
    return sorted(out)


def _files_under(folder: Path) -> list[Path]:
    return [p.relative_to(folder) for p in _files(folder)]


def _replace_dir(staged: Path, target: Path) -> None:
    """Make ``target`` a copy of ``staged``, swapping whole folders so no half state remains."""
    target.parent.mkdir(parents=True, exist_ok=True)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    new = target.with_name(f".{target.name}.new-{token}")
    old = target.with_name(f".{target.name}.old-{token}")
    try:
        shutil.copytree(staged, new)
        if target.exists():
            target.rename(old)
        try:
            new.rename(target)
        except OSError:
            if old.exists() and not target.exists():
                old.rename(target)
            raise
    finally:
        shutil.rmtree(new, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)

