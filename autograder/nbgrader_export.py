"""A problem set as an nbgrader source assignment: the same questions, tests and points.

The nbgrader notebook is derived from an otter-format notebook (the solution notebook in
``dist/<ps>/autograder/``, or a student's submission) by :func:`to_nbgrader`:

- otter's ``import otter`` cell and its notebook metadata (which hold every test's source,
  hidden ones included) are dropped;
- a code cell holding solution code (``# BEGIN SOLUTION``/``# END SOLUTION`` blocks, lines
  marked ``# SOLUTION``) becomes an autograded answer cell (``solution: true, grade: false``)
  with nbgrader's ``### BEGIN SOLUTION``/``### END SOLUTION`` markers;
- each ``grader.check("qN")`` cell becomes one test cell per test function of ``qN``
  (``grade: true, locked: true``, the test's points, ``grade_id`` the function's name): the
  cell defines the function, exactly as in the autograder zip, and calls it with the globals
  its parameters name; a hidden test's cell is wholly between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS``, so ``generate_assignment`` strips it and ``autograde`` restores it;
- a hand-graded question's answer becomes a manual-grade cell (``grade: true,
  solution: true``) worth the question's points.

A student's otter-format notebook has no solution markers, so its answer cells stay plain
cells: autograding needs only the test cells, which ``autograde`` overwrites from its
database anyway. The tests are the autograder zip's, so all three engines run the same test
functions. :func:`export_assignment` writes the source folder, the checks module the hidden
tests import and an ``nbgrader_config.py``.
"""

from __future__ import annotations

import ast
import copy
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from autograder.engine.test_files import GradingTest, Question, load_questions

__all__ = [
    "ManualQuestion",
    "NbgraderTest",
    "export_assignment",
    "manual_questions",
    "nbgrader_tests",
    "to_nbgrader",
    "write_course_config",
]

SCHEMA = 3
SUPPORT_DIR = "nngrade_support"  # course folder on the kernel's path, never released
_CHECK = re.compile(r"""^\s*grader\.check\(\s*["']([^"']+)["']\s*\)\s*$""")
_INLINE = re.compile(r"^(\s*)(.*?)\s*# SOLUTION\s*$")


@dataclass(frozen=True)
class NbgraderTest:
    """A test function as the source of one nbgrader test cell."""

    test: GradingTest
    source: str  # the function's definition, without otter's decorator

    @property
    def cell_source(self) -> str:
        args = ", ".join(self.test.parameters)
        body = f"{self.source}\n\n\n{self.test.name}({args})"
        if self.test.hidden:
            return f"### BEGIN HIDDEN TESTS\n{body}\n### END HIDDEN TESTS"
        return body


@dataclass(frozen=True)
class ManualQuestion:
    """A hand-graded question: its name, points and the master's answer cells' ids."""

    name: str
    points: float
    solution_ids: tuple[str, ...]


def nbgrader_tests(autograder_zip: Path) -> dict[str, list[NbgraderTest]]:
    """Every question's tests with their sources, read from the autograder zip."""
    questions: list[Question] = load_questions(autograder_zip)
    sources: dict[str, str] = {}
    with zipfile.ZipFile(autograder_zip) as archive:
        for info in archive.infolist():
            if info.filename.startswith("tests/") and info.filename.endswith(".py"):
                text = archive.read(info).decode("utf-8")
                lines = text.splitlines()
                for node in ast.parse(text).body:
                    if isinstance(node, ast.FunctionDef):
                        sources[node.name] = "\n".join(lines[node.lineno - 1 : node.end_lineno])
    return {
        q.name: [NbgraderTest(t, sources[t.name]) for t in q.tests] for q in questions
    }


def manual_questions(master_nb: nbformat.NotebookNode) -> list[ManualQuestion]:
    """The master's hand-graded questions (``manual: true``), in order."""
    found: list[ManualQuestion] = []
    current: dict | None = None
    ids: list[str] | None = None
    for cell in master_nb.cells:
        text = cell.source.strip()
        if cell.cell_type == "raw" and text.startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(text.removeprefix("# BEGIN QUESTION")) or {}
            current = config if config.get("manual") else None
        elif cell.cell_type == "raw" and text == "# BEGIN SOLUTION" and current is not None:
            ids = []
        elif cell.cell_type == "raw" and text == "# END SOLUTION" and ids is not None:
            assert current is not None
            found.append(ManualQuestion(str(current["name"]), float(current["points"]),
                                        tuple(ids)))
            ids, current = None, None
        elif ids is not None:
            ids.append(str(cell.get("id", "")))
    return found


def _nbgrader_solution(source: str) -> str | None:
    """``source`` with otter's solution markers as nbgrader's, or None if it has none."""
    lines, changed = [], False
    for line in source.splitlines():
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == "# BEGIN SOLUTION":
            lines.append(f"{indent}### BEGIN SOLUTION")
        elif stripped == "# END SOLUTION":
            lines.append(f"{indent}### END SOLUTION")
        elif (match := _INLINE.match(line)) and not stripped.startswith("#"):
            lines += [f"{match[1]}### BEGIN SOLUTION", f"{match[1]}{match[2]}",
                      f"{match[1]}### END SOLUTION"]
        else:
            lines.append(line)
            continue
        changed = True
    return "\n".join(lines) if changed else None


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool,
          points: float | None = None) -> dict:
    meta = {"schema_version": SCHEMA, "grade": grade, "solution": solution, "locked": locked,
            "grade_id": grade_id}
    if points is not None:
        meta["points"] = points
    return meta


def to_nbgrader(nb: nbformat.NotebookNode, tests: dict[str, list[NbgraderTest]],
                manual: list[ManualQuestion]) -> nbformat.NotebookNode:
    """The nbgrader notebook for an otter-format notebook (a solution or a submission)."""
    out = copy.deepcopy(nb)
    out.cells = []
    out.metadata.pop("otter", None)  # otter keeps every test's source there, hidden ones too
    solution_ids = {i: m for m in manual for i in m.solution_ids}
    manual_left = list(manual)
    pending: ManualQuestion | None = None  # a manual question whose answer cell comes next
    answers = 0
    cells = nb.cells
    for index, cell in enumerate(cells):
        cell = copy.deepcopy(cell)
        meta = cell.metadata
        meta.pop("nbgrader", None)
        if cell.cell_type == "code" and cell.source.lstrip().startswith("# Initialize Otter"):
            continue
        if cell.cell_type == "code" and (match := _CHECK.match(cell.source)):
            for test in tests.get(match[1], []):
                test_cell = nbformat.v4.new_code_cell(test.cell_source)
                test_cell.id = f"{test.test.name}"[:64]
                test_cell.metadata["nbgrader"] = _meta(
                    test.test.name, grade=True, solution=False, locked=True,
                    points=test.test.points)
                out.cells.append(test_cell)
            continue
        if cell.cell_type == "markdown" and cell.source.startswith("<!-- BEGIN QUESTION -->"):
            pending = manual_left.pop(0) if manual_left else None
            out.cells.append(cell)
            continue
        if pending is not None and cell.cell_type == "markdown":
            following = cells[index + 1] if index + 1 < len(cells) else None
            if following is not None and str(following.get("id", "")) in solution_ids:
                continue  # otter's placeholder before the solution: the solution replaces it
            if str(cell.get("id", "")) in solution_ids or not cell.source.startswith("<!--"):
                meta["nbgrader"] = _meta(pending.name, grade=True, solution=True, locked=False,
                                         points=pending.points)
                pending = None
            out.cells.append(cell)
            continue
        if cell.cell_type == "code" and (source := _nbgrader_solution(cell.source)) is not None:
            answers += 1
            cell.source = source
            meta["nbgrader"] = _meta(f"answer_{answers}", grade=False, solution=True,
                                     locked=False)
        out.cells.append(cell)
    return out


def write_course_config(course: Path, timeout: float) -> Path:
    """``course/nbgrader_config.py``: the cell timeout and the support folder on the kernel's
    path (the hidden tests import the problem set's checks module from it)."""
    config = course / "nbgrader_config.py"
    config.write_text(
        '"""nbgrader settings for the nngrade problem sets (written by nngrade export)."""\n'
        "import os\n\n"
        "c = get_config()  # noqa: F821\n"
        f"c.ExecutePreprocessor.timeout = {int(timeout)}\n"
        "# The hidden tests import nngrade (autograder.checks, reference_impl), which must be\n"
        f"# installed, and each problem set's checks module, kept in {SUPPORT_DIR}/ so that\n"
        "# generate_assignment never releases it.\n"
        f"_support = os.path.abspath({SUPPORT_DIR!r})\n"
        'os.environ["PYTHONPATH"] = os.pathsep.join(\n'
        '    p for p in (_support, os.environ.get("PYTHONPATH", "")) if p\n'
        ")\n",
        encoding="utf-8",
    )
    return config


def export_assignment(ps_name: str, solution_notebook: Path, master_notebook: Path,
                      autograder_zip: Path, course: Path, timeout: float) -> Path:
    """Write ``course/source/<ps>/<ps>.ipynb``, the zip's support modules into
    ``course/nngrade_support/`` and, if there is none, ``course/nbgrader_config.py``.
    Returns the notebook's path."""
    solution = nbformat.read(solution_notebook, as_version=4)
    master = nbformat.read(master_notebook, as_version=4)
    nb = to_nbgrader(solution, nbgrader_tests(autograder_zip), manual_questions(master))
    source = course / "source" / ps_name
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    notebook = source / f"{ps_name}.ipynb"
    nbformat.write(nb, notebook)
    support = course / SUPPORT_DIR
    support.mkdir(exist_ok=True)
    with zipfile.ZipFile(autograder_zip) as archive:
        for info in archive.infolist():
            if re.fullmatch(r"files/[A-Za-z_]\w*\.py", info.filename):
                (support / Path(info.filename).name).write_bytes(archive.read(info))
    if not (course / "nbgrader_config.py").exists():
        write_course_config(course, timeout)
    return notebook
