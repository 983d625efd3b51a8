"""Problem set 3 (Keras on MNIST) end to end, with real TensorFlow and the full MNIST.

Training is the expensive part, so each notebook is trained once per session:

* the released notebook with the solution's answers pasted in runs as a student would run it
  (public checks, no grader packages); it leaves its three ``.keras`` files behind;
* a batch grades twice a folder submission holding the notebook and those saved models,
  trusting them (``--trust-saved-models``), so that the notebook loads them instead of
  training.

The solution, the blank release and every declared mistake and alternative are graded once
per engine for ``test_problem_sets.py``, which states what grading guarantees; the tests here
read the same nngrade grading for what is particular to problem set 3 (its accuracy feedback).
"""

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from student_side import check_outputs, error_cells, run_release

from autograder.build import build_problem_set
from autograder.engine.batch import grade_batch
from autograder.engine.test_files import load_questions
from autograder.problem_sets import find_problem_sets, grading_limits
from nnkit.mnist import course_data_dir

REPO = Path(__file__).resolve().parents[1]
PS = "ps3-keras-mnist"
FULL = 30.0  # 28 points and the 2 bonus points of the design challenge
QUESTIONS = ["q1", "q2", "q3a", "q3b", "q4", "q5a", "q5b", "q6", "q7", "q8a", "q8b"]
SAVED_MODELS = ("softmax_model.keras", "mlp.keras", "challenge_model.keras")

slow = pytest.mark.slow


# ------------------------------------------------------------------ the release (fast)


def test_release_is_up_to_date():
    (ps,) = find_problem_sets(REPO, [PS])
    result = build_problem_set(ps, check=True)
    assert result.up_to_date, f"stale: {result.stale}; run: nngrade build {PS}"


def test_student_notebook_holds_no_solution_and_no_hidden_test(ps3_built):
    ps, _ = ps3_built
    nb = nbformat.read(ps.student_notebook, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for solution_line in ("np.eye(10, dtype", 'activation="relu"', "q7_answer = {", "1e-4"):
        assert solution_line not in code
    tests = nb.metadata["otter"]["tests"]
    assert set(tests) == set(QUESTIONS)
    for source in tests.values():
        assert "hidden=True" not in source
        assert "reference_impl" not in source and "autograder" not in source


def test_the_limits_allow_what_the_notebook_promises():
    """The notebook promises 3 minutes of training; grading.yaml must allow it."""
    (ps,) = find_problem_sets(REPO, [PS])
    limits = grading_limits(ps)
    assert "**3 minutes**" in ps.master.read_text()
    assert limits.cell_timeout >= 180 and limits.total_timeout >= 180 + 60
    assert limits.memory_mb >= 4096


# ------------------------------------------------------------------ sessions that train


@pytest.fixture(scope="module")
def student_folder(ps3_student_folder) -> Path:
    """The release with the solution's answers, run as a student (``conftest.py``; the
    classroom template's run loads the models it saved)."""
    return ps3_student_folder


@pytest.fixture(scope="module")
def sandboxed(variant_gradings) -> dict:
    """The nngrade engine's grading of every declared variant (shared with
    ``test_problem_sets.py``): {student: results.json}."""
    return variant_gradings.get(PS, "nngrade").results


@pytest.fixture(scope="module")
def saved(ps3_built, ps3_zip, student_folder, tmp_path_factory) -> dict:
    """Twice the same folder submission: the notebook and the models it saved, which grading
    loads instead of training. {student: results.json}."""
    ps, _ = ps3_built
    subs = tmp_path_factory.mktemp("ps3-saved-submissions")
    for name in ("saved-a", "saved-b"):
        (subs / name).mkdir()
        for file in (f"{PS}.ipynb", *SAVED_MODELS):
            shutil.copy(student_folder / file, subs / name / file)
    out = tmp_path_factory.mktemp("ps3-saved-results")
    report = grade_batch(
        PS, ps3_zip, subs, out, workers=2, limits=grading_limits(ps),
        readonly_paths=(course_data_dir(),), progress=False, trust_saved_models=True,
    )  # fmt: skip
    assert report.ok, report.failed
    return {s: json.loads((out / s / "results.json").read_text()) for s in report.graded}


def question_scores(result: dict) -> dict[str, float]:
    return result["extra_data"]["questions"]


def test_the_autograder_grades_28_points_and_2_bonus(ps3_zip):
    questions = {q.name: q.points for q in load_questions(ps3_zip)}
    assert list(questions) == QUESTIONS
    assert sum(questions.values()) == FULL


@slow
def test_the_solution_trains_in_the_sandbox(sandboxed):
    result = sandboxed["solution"]
    assert result["extra_data"]["sandboxed"]
    assert list(question_scores(result)) == QUESTIONS
    assert "Files from the submission folder" not in result["output"]  # a lone notebook


@slow
def test_saved_models_are_loaded_instead_of_retrained(saved, sandboxed):
    for name in ("saved-a", "saved-b"):
        result = saved[name]
        assert result["score"] == FULL, question_scores(result)
        assert "Files from the submission folder: " + ", ".join(sorted(SAVED_MODELS)) + "." in (
            result["output"]
        )
    # Loading takes seconds where training takes tens of seconds.
    assert saved["saved-a"]["extra_data"]["seconds"] < sandboxed["solution"]["extra_data"][
        "seconds"]


@slow
def test_a_regrade_gives_the_same_result(saved):
    first, second = saved["saved-a"], saved["saved-b"]
    assert [(t["name"], t["score"], t["output"]) for t in first["tests"]] == [
        (t["name"], t["score"], t["output"]) for t in second["tests"]
    ]


@slow
def test_accuracy_messages_give_the_students_accuracy_not_the_answer(sandboxed):
    messages = [t["output"] for t in sandboxed["mistake-one-epoch"]["tests"] if t["output"]]
    assert any(m.startswith("mlp reaches 9") and "on the public test set); this point needs "
               "97.5% on the held-back digits" in m for m in messages), messages


# ------------------------------------------------------------------ the student's side


@slow
def test_public_checks_pass_in_the_student_environment(student_folder):
    ran = nbformat.read(student_folder / f"{PS}.ipynb", as_version=4)
    assert error_cells(ran) == []
    outputs = check_outputs(ran)
    assert sorted(outputs) == sorted(QUESTIONS)
    for question, text in outputs.items():
        assert "All test cases passed" in text, f"{question}: {text[:300]}"
    for file in SAVED_MODELS:
        assert (student_folder / file).is_file(), file


@slow
def test_public_checks_fail_on_the_blank_release(ps3_built, tmp_path):
    ps, _ = ps3_built
    ran = run_release(ps, tmp_path)
    for index in error_cells(ran):
        assert "..." in ran.cells[index].source or "fit_or_load(" in ran.cells[index].source
    for question, text in check_outputs(ran).items():
        assert "All test cases passed" not in text, question
