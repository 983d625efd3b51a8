"""Running a released notebook the way a student would: on their own machine, where the
grader's packages (``reference_impl``, ``autograder``) cannot be imported. Shared by the
problem-set tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.problem_sets import ProblemSet


def run_as_student(notebook: nbformat.NotebookNode, workdir: Path) -> nbformat.NotebookNode:
    """Execute a notebook like a student would, in an environment where the grader's
    packages cannot be imported (a student's machine has neither)."""
    block = nbformat.v4.new_code_cell(
        "import sys\n"
        "for _name in ('reference_impl', 'autograder'):\n"
        "    sys.modules[_name] = None  # importing it now raises ImportError\n"
    )
    nb = nbformat.from_dict(json.loads(json.dumps(notebook)))
    nb.cells.insert(0, block)
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    ).execute()
    nb.cells.pop(0)
    return nb


def run_release(ps: ProblemSet, workdir: Path, notebook=None) -> nbformat.NotebookNode:
    """Run ``notebook`` (default: the release as handed out) in ``workdir``, next to a copy
    of the release folder's files, as a student would."""
    shutil.copytree(ps.assignment_dir, workdir, dirs_exist_ok=True)
    if notebook is None:
        notebook = nbformat.read(ps.student_notebook, as_version=4)
    return run_as_student(notebook, workdir)


def with_solution_answers(ps: ProblemSet, solution: Path) -> nbformat.NotebookNode:
    """The released notebook with every ``...`` cell replaced by the solution's cell."""
    student = nbformat.read(ps.student_notebook, as_version=4)
    answers = [c for c in nbformat.read(solution, as_version=4).cells if c.cell_type == "code"]
    cells = [c for c in student.cells if c.cell_type == "code"]
    assert len(answers) == len(cells)
    for cell, answer in zip(cells, answers, strict=True):
        if "..." in cell.source:
            cell.source = answer.source
    return student


def error_cells(nb: nbformat.NotebookNode) -> list[int]:
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and any(o.output_type == "error" for o in c.get("outputs", []))
    ]


def check_outputs(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The text each `grader.check("qN")` cell printed, keyed by question."""
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("grader.check("):
            question = cell.source.split('"')[1]
            out[question] = json.dumps([o for o in cell.get("outputs", [])])
    return out
