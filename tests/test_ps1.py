"""Problem set 1 end to end: build it, grade its solution, its blank release and its realistic
mistakes with otter's own grader, and run the released notebook the way a student would.

The build goes into a temporary copy of the course layout, so these tests never touch the
repository's own ``assignments/`` or ``dist/``; ``test_release_is_up_to_date`` checks those.
"""

from pathlib import Path

import nbformat
import pytest
from student_side import check_outputs, error_cells, run_release, with_solution_answers

from autograder.build import build_problem_set
from autograder.engine.otter_runner import grade_with_otter
from autograder.mistakes import apply_mistake, load_mistakes
from autograder.problem_sets import find_problem_sets

REPO = Path(__file__).resolve().parents[1]
PS = "ps1-perceptron"
TOTAL_AUTOGRADED = 38  # 40 points, of which question 7 (2 points) is graded by hand


@pytest.fixture(scope="module")
def solution_grade(ps1_solution, ps1_zip):
    return grade_with_otter(ps1_solution, ps1_zip)


@pytest.fixture(scope="module")
def blank_grade(ps1_built, ps1_zip):
    ps, _ = ps1_built
    return grade_with_otter(ps.student_notebook, ps1_zip)


def scores(grade: dict) -> dict[str, float]:
    return {q: r["score"] for q, r in grade["questions"].items()}


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


# ------------------------------------------------------------------ grading with otter


def test_solution_gets_full_marks(solution_grade):
    assert solution_grade["possible"] == TOTAL_AUTOGRADED
    assert solution_grade["total"] == TOTAL_AUTOGRADED, scores(solution_grade)
    assert "q7" not in solution_grade["questions"]  # graded by hand, never by the autograder


def test_blank_release_scores_zero_on_every_question(blank_grade):
    assert blank_grade["possible"] == TOTAL_AUTOGRADED
    assert all(score == 0 for score in scores(blank_grade).values()), scores(blank_grade)


def test_public_tests_pass_for_the_solution_and_fail_for_the_blank(solution_grade, blank_grade):
    for question, result in solution_grade["questions"].items():
        public = [t for t in result["tests"] if not t["hidden"]]
        assert public and all(t["passed"] for t in public), question
    for question, result in blank_grade["questions"].items():
        public = [t for t in result["tests"] if not t["hidden"]]
        assert any(not t["passed"] for t in public), f"{question}: the blank passes its checks"


@pytest.mark.parametrize(
    "mistake", load_mistakes(find_problem_sets(REPO, [PS])[0]), ids=lambda m: m.name
)
def test_realistic_mistake_loses_exactly_its_points(
    mistake, ps1_solution, ps1_zip, solution_grade, tmp_path
):
    nb = apply_mistake(nbformat.read(ps1_solution, as_version=4), mistake)
    submission = tmp_path / f"{PS}.ipynb"
    nbformat.write(nb, submission)
    grade = grade_with_otter(submission, ps1_zip)
    lost = {q: solution_grade["questions"][q]["score"] - s for q, s in scores(grade).items()}
    assert {q: pts for q, pts in lost.items() if pts} == mistake.loses
    assert grade["total"] == TOTAL_AUTOGRADED - mistake.points_lost


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
