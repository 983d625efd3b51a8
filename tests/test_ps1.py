"""Problem set 1's own guarantees: its release, its points, and the released notebook run the
way a student would. What grading guarantees (solution, blank, every declared mistake and
alternative, under every engine) is stated for every problem set in ``test_problem_sets.py``.

The build goes into a temporary copy of the course layout, so these tests never touch the
repository's own ``assignments/`` or ``dist/``; ``test_release_is_up_to_date`` checks those.
"""

from pathlib import Path

import nbformat
import pytest
from student_side import check_outputs, error_cells, run_release, with_solution_answers

from autograder.build import build_problem_set
from autograder.engine.test_files import load_questions
from autograder.problem_sets import find_problem_sets

REPO = Path(__file__).resolve().parents[1]
PS = "ps1-perceptron"


# ------------------------------------------------------------------ the release


def test_release_is_up_to_date():
    """assignments/ps1-perceptron/ is what `nngrade build` makes from the master today."""
    (ps,) = find_problem_sets(REPO, [PS])
    result = build_problem_set(ps, check=True)
    assert result.up_to_date, f"stale: {result.stale}; run: nngrade build {PS}"


def test_student_notebook_holds_no_solution_and_no_hidden_test(ps1_built):
    ps, _ = ps1_built
    nb = nbformat.read(ps.student_notebook, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for solution_line in ("return 2.0 * (np.asarray(p", "q2c_answer = {", "or_table = complete"):
        assert solution_line not in code
    tests = nb.metadata["otter"]["tests"]
    assert set(tests) >= {"q1a", "q3d", "q6b"}
    for source in tests.values():
        assert "hidden=True" not in source
        assert "reference_impl" not in source and "autograder" not in source


def test_master_declares_40_points_with_a_manual_question(ps1_built):
    ps, _ = ps1_built
    text = ps.master.read_text()
    assert "| **total** | | **40** |" in text
    assert "name: q7\n# manual: true\n# points: 2" in text


def test_the_autograder_grades_38_points_and_leaves_q7_to_the_instructor(ps1_zip):
    questions = {q.name: q.points for q in load_questions(ps1_zip)}
    assert sum(questions.values()) == 38
    assert "q7" not in questions


# ------------------------------------------------------------------ the student's side


@pytest.fixture(scope="module")
def blank_run(ps1_built, tmp_path_factory):
    ps, _ = ps1_built
    return run_release(ps, tmp_path_factory.mktemp("student-blank"))


def test_blank_release_runs_without_errors_outside_answer_cells(blank_run):
    """The only cells allowed to fail are those still holding `...` for the student, and
    even those must be valid Python: a placeholder may fail when used, never when parsed."""
    for index in error_cells(blank_run):
        cell = blank_run.cells[index]
        assert "..." in cell.source, cell.source
        errors = [o.ename for o in cell.outputs if o.output_type == "error"]
        assert not {"SyntaxError", "IndentationError"} & set(errors), cell.source


def test_public_checks_run_in_the_student_environment(ps1_built, ps1_solution, tmp_path):
    """The released notebook with the solution's answers pasted in: every `grader.check`
    passes, without reference_impl or autograder installed."""
    ps, _ = ps1_built
    ran = run_release(ps, tmp_path, with_solution_answers(ps, ps1_solution))
    assert error_cells(ran) == []
    outputs = check_outputs(ran)
    assert len(outputs) == 16
    for question, text in outputs.items():
        assert "All test cases passed" in text, f"{question}: {text[:300]}"


def test_public_checks_fail_on_the_blank_release(blank_run):
    outputs = check_outputs(blank_run)
    assert len(outputs) == 16
    for question, text in outputs.items():
        assert "All test cases passed" not in text, question
