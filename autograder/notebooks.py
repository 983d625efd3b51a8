"""Deterministic notebooks: the master read with stable cell ids, and the student notebook
stripped of everything that changes from one build to the next.

``nngrade build`` must leave ``git status`` clean when a master has not changed, so every
random or volatile part of a notebook (jupytext's and otter's random cell ids, outputs,
execution counts, UI metadata) is replaced by something computed from the content.
"""

from __future__ import annotations

import hashlib
from typing import Any

import jupytext
import nbformat

from autograder.errors import BuildError
from autograder.problem_sets import ProblemSet

__all__ = [
    "KEPT_CELL_METADATA",
    "NBFORMAT_MINOR",
    "normalise_student_notebook",
    "read_master",
    "stable_cell_id",
]

NBFORMAT_MINOR = 5  # cell ids exist from nbformat 4.5 on

# Cell metadata a student notebook keeps: the locks (as set by autograder.student_cells's
# policy, not otter's) and tags. Everything else (jupytext's blank-line bookkeeping, execution
# timings, UI state) is dropped.
KEPT_CELL_METADATA = ("deletable", "editable", "tags", "otter")


def read_master(ps: ProblemSet) -> nbformat.NotebookNode:
    """The master as a notebook, with stable cell ids (jupytext draws random ones).

    Raises :class:`BuildError` when the master cannot be parsed.
    """
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
