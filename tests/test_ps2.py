"""Problem set 2 end to end: build it, grade a small class with both engines (the solution,
the blank release, every declared mistake and every correct alternative), and run the released
notebook the way a student would.

The class is graded once per engine with ``grade_batch`` (two workers), the way an instructor
grades: ``--engine nngrade`` runs each notebook in the sandbox and the tests here, through
proxies of the student's globals; ``--engine otter`` is otter's own grader.
"""

import json
from pathlib import Path

import nbformat
import pytest
from student_side import check_outputs, error_cells, run_release, with_solution_answers

from autograder.build import build_problem_set
from autograder.engine.batch import grade_batch
from autograder.engine.test_files import load_questions
from autograder.mistakes import apply_mistake, load_alternatives, load_mistakes
from autograder.problem_sets import find_problem_sets, grading_limits
from nnkit.mnist import data_dir

REPO = Path(__file__).resolve().parents[1]
PS = "ps2-backprop"
TOTAL_AUTOGRADED = 34  # 38 points, of which 3d and 8b (2 points each) are graded by hand
MISTAKES = load_mistakes(find_problem_sets(REPO, [PS])[0])
ALTERNATIVES = load_alternatives(find_problem_sets(REPO, [PS])[0])
ENGINES = ("nngrade", "otter")


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


def test_declared_edits_apply_to_the_solution(ps2_solution):
    """Every mistake and alternative edits text that occurs exactly once (apply_mistake raises
    otherwise), and each one changes the notebook."""
    nb = nbformat.read(ps2_solution, as_version=4)
    for entry in [*MISTAKES, *ALTERNATIVES]:
        assert apply_mistake(nb, entry) != nb, entry.name


# ------------------------------------------------------------------ grading a class


@pytest.fixture(scope="module")
def submissions(ps2_built, ps2_solution, tmp_path_factory) -> Path:
    ps, _ = ps2_built
    folder = tmp_path_factory.mktemp("ps2-submissions")
    solution = nbformat.read(ps2_solution, as_version=4)
    (folder / "solution.ipynb").write_bytes(ps2_solution.read_bytes())
    (folder / "blank.ipynb").write_bytes(ps.student_notebook.read_bytes())
    for kind, entries in (("mistake", MISTAKES), ("alternative", ALTERNATIVES)):
        for entry in entries:
            nbformat.write(apply_mistake(solution, entry), folder / f"{kind}-{entry.name}.ipynb")
    return folder


@pytest.fixture(scope="module", params=ENGINES)
def graded(request, ps2_built, ps2_zip, submissions, tmp_path_factory):
    """{student: {question: score}} for the whole class, graded by one engine."""
    ps, _ = ps2_built
    out = tmp_path_factory.mktemp(f"ps2-results-{request.param}")
    report = grade_batch(PS, ps2_zip, submissions, out, workers=2, limits=grading_limits(ps),
                         readonly_paths=(data_dir(),), engine=request.param, progress=False)
    assert report.ok, report.failed
    results = {student: json.loads((out / student / "results.json").read_text())
               for student in report.graded}
    return request.param, results


def question_scores(document: dict) -> dict[str, float]:
    return document["extra_data"]["questions"]


def failures(document: dict) -> list[str]:
    return [f"{t['name']}: {t['output']}" for t in document["tests"] if t["status"] != "passed"]


def test_solution_gets_full_marks(graded):
    engine, results = graded
    document = results["solution"]
    assert document["score"] == TOTAL_AUTOGRADED, (engine, failures(document))
    assert sum(t["max_score"] for t in document["tests"]) == TOTAL_AUTOGRADED
    assert "q3d" not in question_scores(document) and "q8b" not in question_scores(document)
    if engine == "nngrade":
        assert document["extra_data"]["sandboxed"]


def test_blank_release_scores_zero_on_every_question(graded):
    engine, results = graded
    scores = question_scores(results["blank"])
    assert len(scores) == 13 and set(scores.values()) == {0.0}, (engine, scores)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_realistic_mistake_loses_exactly_its_points(graded, mistake, ps2_zip):
    engine, results = graded
    full = {q.name: q.points for q in load_questions(ps2_zip)}
    document = results[f"mistake-{mistake.name}"]
    lost = {q: full[q] - s for q, s in question_scores(document).items() if full[q] != s}
    assert lost == mistake.loses, (engine, failures(document))
    assert document["score"] == TOTAL_AUTOGRADED - mistake.points_lost


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda m: m.name)
def test_correct_alternative_gets_full_marks(graded, alternative):
    engine, results = graded
    document = results[f"alternative-{alternative.name}"]
    assert document["score"] == TOTAL_AUTOGRADED, (engine, failures(document))


def test_feedback_names_the_problem_without_the_answer(graded):
    """The messages a student reads say what is wrong, never the expected values."""
    engine, results = graded
    if engine != "nngrade":  # otter quotes the failing line of a test; that is otter's model
        return
    messages = {t["name"]: t["output"] for t in results["mistake-lecture-missing-w_oj"]["tests"]}
    assert "hidden-weight gradient" in messages["q2b: test_q2b_lecture_size"]
    messages = {t["name"]: t["output"] for t in results["mistake-train-shuffles-separately"][
        "tests"]}
    assert "needs at least 95 %" in messages["q6b: test_q6b_accuracy_95"]
    for document in results.values():
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
