"""The released notebooks are the student's to work in: every cell a student fills or may want
to change is editable and deletable, and the blank release runs top to bottom (Run All)
without an error in any cell, each check reporting what is still missing.

These tests read the repository's own ``assignments/``; ``test_release_is_up_to_date`` of each
problem set's tests checks that it is what ``nngrade build`` makes from the masters today.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from student_side import check_outputs, error_cells, run_release

from autograder.problem_sets import find_problem_sets
from autograder.student_cells import (
    apply_lock_policy,
    is_locked,
    is_otter_cell,
    runnable_placeholders,
)

REPO = Path(__file__).resolve().parents[1]
PROBLEM_SETS = [ps.name for ps in find_problem_sets(REPO)]
RELEASES = {name: REPO / "assignments" / name / f"{name}.ipynb" for name in PROBLEM_SETS}


def release(name: str) -> nbformat.NotebookNode:
    return nbformat.read(RELEASES[name], as_version=4)


# ------------------------------------------------------------------ the lock policy


@pytest.mark.parametrize("name", PROBLEM_SETS)
def test_no_cell_a_student_fills_is_locked(name):
    nb = release(name)
    to_fill = [c for c in nb.cells if c.cell_type == "code" and "..." in c.source]
    assert to_fill
    assert [c.source for c in to_fill if is_locked(c)] == []


@pytest.mark.parametrize("name", PROBLEM_SETS)
def test_only_otters_own_cells_are_locked(name):
    """Locked, against both editing and deleting: the ``grader = otter.Notebook(...)`` cell and
    one ``grader.check`` cell per autograded question. Nothing else, not even question text."""
    nb = release(name)
    locked = [c for c in nb.cells if is_locked(c)]
    assert locked == [c for c in nb.cells if is_otter_cell(c)]
    for cell in locked:
        assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
    assert locked[0].source.startswith("# Initialize Otter")
    checks = [c.source for c in locked[1:]]
    assert sorted(checks) == sorted(f'grader.check("{q}")' for q in nb.metadata["otter"]["tests"])
    for cell in nb.cells:
        if not is_locked(cell):
            assert "editable" not in cell.metadata and "deletable" not in cell.metadata


def test_the_policy_replaces_otters_locks():
    """otter locks every cell of a question it takes for question text, which with inline
    solution markers means every answer cell; the policy keeps only its own cells' locks."""
    lock = {"editable": False, "deletable": False}
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                '# Initialize Otter\nimport otter\ngrader = otter.Notebook("ps.ipynb")',
                metadata=dict(lock),
            ),
            nbformat.v4.new_markdown_cell("**1a.** Write `f`.", metadata=dict(lock)),
            nbformat.v4.new_code_cell("def f(x):\n    ...", metadata=dict(lock)),
            nbformat.v4.new_code_cell('grader.check("q1a")', metadata=dict(lock)),
            nbformat.v4.new_code_cell('grader.check("q1a")\nf = 1', metadata={}),
        ]
    )
    apply_lock_policy(nb)
    assert [is_locked(c) for c in nb.cells] == [True, False, False, True, False]
    assert [dict(c.metadata) for c in nb.cells[1:3]] == [{}, {}]


# ------------------------------------------------------------------ placeholders that run


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("or_w, or_b, history = ...", "or_w, or_b, history = ..., ..., ..."),
        ("x_train, y_train = ...  # prepared", "x_train, y_train = ..., ...  # prepared"),
        ("[a, b] = ...", "[a, b] = ..., ..."),
        ("(a, b), c = ...", "(a, b), c = (..., ...), ..."),
        ("a, *rest = ...", "a, *rest = ...,"),
        ("def f():\n    p, q = ...\n    return p", "def f():\n    p, q = ..., ...\n    return p"),
        ("x = ...", "x = ..."),
        ("a, b = 1, 2", "a, b = 1, 2"),
        ("a, b = f(...)", "a, b = f(...)"),
        ("not python (", "not python ("),
    ],
)
def test_an_unpacked_placeholder_gets_one_value_per_name(source, expected):
    assert runnable_placeholders(source) == expected


def test_unpacked_placeholders_run():
    namespace: dict = {}
    exec(runnable_placeholders("(a, b), c = ...\nd, *e = ..."), namespace)
    assert (namespace["a"], namespace["b"], namespace["c"]) == (..., ..., ...)
    assert (namespace["d"], namespace["e"]) == (..., [])


# ------------------------------------------------------------------ Run All on the blank


@pytest.fixture(scope="module", params=PROBLEM_SETS)
def blank_run(request, tmp_path_factory):
    (ps,) = find_problem_sets(REPO, [request.param])
    folder = tmp_path_factory.mktemp(f"run-all-{ps.name}")
    return ps, folder, run_release(ps, folder)


def test_run_all_on_the_blank_release_raises_in_no_cell(blank_run):
    _, _, ran = blank_run
    failures = {
        index: [f"{o.ename}: {o.evalue}" for o in ran.cells[index].outputs
                if o.output_type == "error"]
        for index in error_cells(ran)
    }
    assert failures == {}


def test_every_check_of_the_blank_release_reports_what_is_missing(blank_run):
    _, _, ran = blank_run
    outputs = check_outputs(ran)
    questions = ran.metadata["otter"]["tests"]
    assert sorted(outputs) == sorted(questions)
    for question, text in outputs.items():
        assert "All test cases passed" not in text, question
        assert f"{question} results:" in text, f"{question}: {text[:300]}"


def test_the_blank_release_trains_nothing(blank_run):
    """Problem set 3's model cells skip training while the model is unanswered."""
    ps, folder, ran = blank_run
    assert sorted(p.name for p in folder.glob("*.keras")) == []
    if ps.name == "ps3-keras-mnist":
        printed = json.dumps([c.get("outputs", []) for c in ran.cells if c.cell_type == "code"])
        for model in ("softmax_model", "mlp", "challenge_model"):
            assert f"{model}.keras: nothing trained yet" in printed, model
