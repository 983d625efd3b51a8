"""Problem set 2's own guarantees: its release and points, the feedback its hidden tests give
(the trained network's accuracy among them), and the released notebook run the way a student
would. What grading guarantees (solution, blank, every declared mistake and alternative,
under every engine) is stated for every problem set in ``test_problem_sets.py``; the tests
here read the same nngrade grading.
"""

from pathlib import Path

import nbformat
import pytest
from student_side import check_outputs, error_cells, run_release, with_solution_answers

from autograder.build import build_problem_set
from autograder.engine.test_files import load_questions
from autograder.problem_sets import find_problem_sets

REPO = Path(__file__).resolve().parents[1]
PS = "ps2-backprop"
TOTAL_AUTOGRADED = 34  # 38 points, of which 3d and 8b (2 points each) are graded by hand


# ------------------------------------------------------------------ the release


def test_release_is_up_to_date():
    """assignments/ps2-backprop/ is what `nngrade build` makes from the master today."""
    (ps,) = find_problem_sets(REPO, [PS])
    result = build_problem_set(ps, check=True)
    assert result.up_to_date, f"stale: {result.stale}; run: nngrade build {PS}"


def test_student_notebook_holds_no_solution_and_no_hidden_test(ps2_built):
    ps, _ = ps2_built
    nb = nbformat.read(ps.student_notebook, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for solution_line in ("* np.asarray(w_o) * h * (1 - h)", "dW_h = dW_h + lmbd * W_h",
                          "q1b_answer = {", "eta_vals = np.logspace", "[20.0, 20.0]"):
        assert solution_line not in code
    tests = nb.metadata["otter"]["tests"]
    assert set(tests) == {"q1a", "q1b", "q2a", "q2b", "q3a", "q3b", "q3c", "q4", "q5", "q6a",
                          "q6b", "q7", "q8a"}
    for source in tests.values():
        assert "hidden=True" not in source
        assert "reference_impl" not in source and "autograder" not in source


def test_master_declares_38_points_with_two_manual_questions(ps2_built):
    ps, _ = ps2_built
    text = ps.master.read_text()
    assert "| **total** | | **38** |" in text
    assert "name: q3d\n# manual: true\n# points: 2" in text
    assert "name: q8b\n# manual: true\n# points: 2" in text


def test_the_autograder_grades_34_points_and_leaves_3d_and_8b_to_the_instructor(ps2_zip):
    questions = {q.name: q.points for q in load_questions(ps2_zip)}
    assert sum(questions.values()) == TOTAL_AUTOGRADED
    assert "q3d" not in questions and "q8b" not in questions


# ------------------------------------------------------------------ grading


@pytest.fixture(scope="module")
def sandboxed(variant_gradings):
    """The nngrade engine's grading of every declared variant (shared with
    ``test_problem_sets.py``): {student: results.json}."""
    return variant_gradings.get(PS, "nngrade").results


def test_the_sandbox_grades_the_solution(sandboxed):
    assert sandboxed["solution"]["extra_data"]["sandboxed"]


def test_feedback_names_the_problem_without_the_answer(sandboxed):
    """The messages a student reads say what is wrong, never the expected values. (Under
    otter they quote the failing line of a test; that is otter's model.)"""
    messages = {t["name"]: t["output"] for t in sandboxed["mistake-lecture-missing-w_oj"]["tests"]}
    assert "hidden-weight gradient" in messages["q2b: test_q2b_lecture_size"]
    messages = {t["name"]: t["output"]
                for t in sandboxed["mistake-train-shuffles-separately"]["tests"]}
    assert "needs at least 95 %" in messages["q6b: test_q6b_accuracy_95"]
    for document in sandboxed.values():
        text = " ".join(t["output"] for t in document["tests"])
        for leak in ("reference_impl", "default_rng", "Traceback", "assert_close(", "3760"):
            assert leak not in text


# ------------------------------------------------------------------ the student's side


@pytest.fixture(scope="module")
def blank_run(ps2_built, tmp_path_factory):
    ps, _ = ps2_built
    return run_release(ps, tmp_path_factory.mktemp("ps2-student-blank"))


def test_blank_release_runs_without_errors_outside_answer_cells(blank_run):
    for index in error_cells(blank_run):
        cell = blank_run.cells[index]
        assert "..." in cell.source, cell.source
        errors = [o.ename for o in cell.outputs if o.output_type == "error"]
        assert not {"SyntaxError", "IndentationError"} & set(errors), cell.source


def test_public_checks_run_in_the_student_environment(ps2_built, ps2_solution, tmp_path):
    """The released notebook with the solution's answers pasted in: every `grader.check`
    passes, without reference_impl or autograder installed."""
    ps, _ = ps2_built
    ran = run_release(ps, tmp_path, with_solution_answers(ps, ps2_solution))
    assert error_cells(ran) == []
    outputs = check_outputs(ran)
    assert len(outputs) == 13
    for question, text in outputs.items():
        assert "All test cases passed" in text, f"{question}: {text[:300]}"


def test_public_checks_fail_on_the_blank_release(blank_run):
    outputs = check_outputs(blank_run)
    assert len(outputs) == 13
    for question, text in outputs.items():
        assert "All test cases passed" not in text, question
