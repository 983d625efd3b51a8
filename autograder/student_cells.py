"""What a student can do with each cell of a release: edit and run it.

otter assign locks (``"editable": false, "deletable": false``) every cell it takes for
question text: every cell of a question outside a ``# BEGIN SOLUTION`` / ``# BEGIN TESTS``
raw block. Our masters mark solutions inside the answer cells (``# BEGIN SOLUTION`` lines and
``# SOLUTION`` suffixes), so to otter every answer cell is question text, and JupyterLab and
Notebook 7 would refuse the student's typing. The release therefore does not inherit otter's
locks; :func:`apply_lock_policy` sets its own:

* otter's own cells, the ``grader = otter.Notebook(...)`` cell and the ``grader.check("q1a")``
  cells, are locked: they are plumbing, the same for every student, and the checks they run
  are the student's only feedback before the deadline;
* every other cell (answers, given code, question text, written answers) is the student's
  and stays editable and deletable. Grading does not depend on any cell staying as released
  (the engine reads the code cells and skips otter's by content).

otter also turns ``a, b = f(x)  # SOLUTION`` into ``a, b = ...``, which cannot be unpacked,
so the blank release would stop there on Run All. :func:`runnable_placeholders` makes it
``a, b = ..., ...``: every name is ``...`` (unanswered), and the notebook runs on.
"""

from __future__ import annotations

import ast
import re

import nbformat

__all__ = [
    "apply_lock_policy",
    "is_locked",
    "is_otter_cell",
    "prepare_student_cells",
    "runnable_placeholders",
]

LOCK_KEYS = ("editable", "deletable")

_OTTER_CELL = re.compile(
    r"""\A(?:
        \#\ Initialize\ Otter\n import\ otter\n grader\ =\ otter\.Notebook\([^\n]*\)
      | grader\.check\(\s*["'][\w.-]+["']\s*\)
      | grader\.check_all\(\)
    )\Z""",
    re.VERBOSE,
)


def is_otter_cell(cell: nbformat.NotebookNode) -> bool:
    """Whether ``cell`` is one otter assign adds: its init cell or a ``grader.check`` cell."""
    return cell.cell_type == "code" and bool(_OTTER_CELL.match(cell.source.strip()))


def is_locked(cell: nbformat.NotebookNode) -> bool:
    """Whether a notebook front end refuses to edit or to delete ``cell``."""
    return any(cell.metadata.get(key) is False for key in LOCK_KEYS)


def apply_lock_policy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Lock otter's cells and unlock every other cell, in place; returns ``nb``."""
    for cell in nb.cells:
        for key in LOCK_KEYS:
            cell.metadata.pop(key, None)
        if is_otter_cell(cell):
            cell.metadata.update({key: False for key in LOCK_KEYS})
    return nb


def runnable_placeholders(source: str) -> str:
    """``source`` with every unpacking assignment of a bare ``...`` given one ``...`` per
    target: ``a, b = ...`` becomes ``a, b = ..., ...`` and ``(a, b), c = ...`` becomes
    ``(a, b), c = (..., ...), ...``. Anything else, and a source that does not parse, is
    returned unchanged."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []  # line index, start, end byte, replacement
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Tuple | ast.List)
            and isinstance(node.value, ast.Constant)
            and node.value.value is Ellipsis
            and node.value.lineno == node.value.end_lineno
        ):
            continue
        value = node.value
        edits.append(
            (value.lineno - 1, value.col_offset, value.end_col_offset,
             _placeholder(node.targets[0], top=True))
        )
    for index, start, end, text in sorted(edits, reverse=True):
        raw = lines[index].encode("utf-8")  # ast offsets count UTF-8 bytes
        lines[index] = (raw[:start] + text.encode("utf-8") + raw[end:]).decode("utf-8")
    return "".join(lines)


def _placeholder(target: ast.expr, top: bool = False) -> str:
    if not isinstance(target, ast.Tuple | ast.List):
        return "..."
    parts = [_placeholder(elt) for elt in target.elts if not isinstance(elt, ast.Starred)]
    if not parts:
        return "()"
    text = ", ".join(parts) + ("," if len(parts) == 1 else "")
    return text if top else f"({text})"


def prepare_student_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Runnable placeholders in every code cell, then the lock policy; in place, returns
    ``nb``."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = runnable_placeholders(cell.source)
    return apply_lock_policy(nb)
