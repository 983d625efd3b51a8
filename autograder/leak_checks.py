"""What a student release must never hold: a hidden test, a solution line, the checks module.

:func:`check_student_release` compares the release otter assign wrote with the master and the
autograder notebook, and refuses it (a :class:`BuildError` listing every leak) when anything
instructor-only survived: a test marked hidden, the name of a hidden test function, a line of
a solution, a solution marker, or the problem set's checks module.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat

from autograder.errors import BuildError
from autograder.problem_sets import ProblemSet
from autograder.release_files import files

__all__ = ["check_student_release", "declares_hidden", "hidden_test_names", "solution_lines"]

_BEGIN_SOLUTION = re.compile(r"^\s*#\s*BEGIN SOLUTION\b")
_END_SOLUTION = re.compile(r"^\s*#\s*END SOLUTION\b")
_SOLUTION_SUFFIX = re.compile(r"\s*#\s*SOLUTION(?: NO PROMPT)?\s*$")
_HIDDEN_TRUE = re.compile(r"\bhidden\s*=\s*True\b")
_WORD = re.compile(r"\w+")


def check_student_release(
    ps: ProblemSet, master_nb: nbformat.NotebookNode, student: Path, otter_autograder: Path
) -> None:
    """Refuse a student release that holds a hidden test or a line of the master's solutions."""
    nb = nbformat.read(student / f"{ps.name}.ipynb", as_version=4)
    problems: list[str] = []

    # 1. Tests shipped to students (notebook metadata, or test files) must all be public.
    for name, source in _student_test_sources(nb, student):
        if declares_hidden(source):
            problems.append(f"test {name!r} in the student release is marked hidden")

    # 2. No hidden test function of the autograder notebook may be named anywhere in it.
    release_text = "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in files(student)
    )
    ag_nb = nbformat.read(otter_autograder / f"{ps.name}.ipynb", as_version=4)
    for name in sorted(hidden_test_names(ag_nb)):
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

    # 4. The checks module is the grader's: it goes in the autograder zip only.
    for path in files(student):
        if path.name == ps.checks_module.name:
            rel = path.relative_to(student).as_posix()
            problems.append(f"the checks module is in the student release: {rel}")

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
    for path in files(student):
        if path.suffix == ".py":
            yield path.relative_to(student).as_posix(), path.read_text(encoding="utf-8")


def declares_hidden(test: Any) -> bool:
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


def hidden_test_names(ag_nb: nbformat.NotebookNode) -> set[str]:
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
                isinstance(d, ast.Call) and declares_hidden(ast.unparse(d))
                for d in node.decorator_list
            ):
                names.add(node.name)
    return names
