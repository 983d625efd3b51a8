"""What a student reads, as the spec: feedback per question, every failed check with its whole
message, the points still graded by hand, and cells named so that a student can find them.

One wrong problem-set-1 submission is graded once per engine through the batch, as
``nngrade grade`` does, and its ``feedback.md``, ``feedback.html`` and ``results.json`` are read.
"""

import json
from pathlib import Path

import nbformat
import pytest

from autograder.engine.batch import grade_batch
from autograder.engine.feedback import (
    CUT_MARKER,
    cell_place,
    feedback_markdown,
    manual_questions,
    whole_message,
)
from autograder.mistakes import apply_mistake, load_mistakes
from autograder.problem_sets import find_problem_sets
from autograder.results import SubmissionResult, TestResult, status_of_test

REPO = Path(__file__).resolve().parents[1]
PS1 = "ps1-perceptron"
FAILING_CALL = "or_w, or_b, or_losses_history = gradient_descent(X_or, y_or, w_lecture)"


def wrong_submission(solution: Path, folder: Path) -> Path:
    """The solution with two declared mistakes (a sign in dl_dp, 2a's losses from y_hat),
    fraud_accuracy as a percentage (fails 6b's 0-point public check), and a cell under
    question 4 that raises TypeError."""
    mistakes = {m.name: m for m in load_mistakes(find_problem_sets(REPO, [PS1])[0])}
    nb = nbformat.read(solution, as_version=4)
    for name in ("dl-dp-wrong-sign", "or-losses-from-y-hat"):
        nb = apply_mistake(nb, mistakes[name])
    for cell in nb.cells:
        cell.source = cell.source.replace("fraud_accuracy = float(", "fraud_accuracy = 100 * (")
    check = next(i for i, c in enumerate(nb.cells) if c.source.strip() == 'grader.check("q4")')
    nb.cells.insert(check, nbformat.v4.new_code_cell(FAILING_CALL))
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{PS1}.ipynb")
    return folder


@pytest.fixture(scope="module", params=["nngrade", "otter"])
def graded(request, ps1_built, ps1_solution, ps1_zip, tmp_path_factory):
    ps, _ = ps1_built
    base = tmp_path_factory.mktemp(f"feedback-{request.param}")
    wrong_submission(ps1_solution, base / "submissions" / "dana")
    out = base / "out"
    grade_batch(PS1, ps1_zip, base / "submissions", out, workers=1, engine=request.param,
                progress=False, master=ps.master)
    folder = out / "dana"
    return {
        "engine": request.param,
        "markdown": (folder / "feedback.md").read_text(),
        "html": (folder / "feedback.html").read_text(),
        "results": json.loads((folder / "results.json").read_text()),
    }


def entry(results: dict, name: str) -> dict:
    return next(t for t in results["tests"] if t["name"].endswith(f": {name}"))


def test_a_question_shows_its_points_and_each_failed_check_with_its_message(graded):
    md = graded["markdown"]
    assert "| q3a | 1 of 2 | 1 |" in md
    section = md.split("### q3a: 1 of 2", 1)[1].split("###", 1)[0]
    assert "`test_q3a_dl_dp`" in section and "dl_dp at a new observation" in section
    assert "### q1a" not in md  # nothing to fix there
    assert graded["results"]["extra_data"]["question_max_scores"]["q3a"] == 2.0


def test_each_mistake_is_charged_once_where_it_is_made(graded):
    scores = graded["results"]["extra_data"]["questions"]
    assert (scores["q2a"], scores["q3a"], scores["q3b"], scores["q3c"], scores["q3d"]) == (
        1.0, 1.0, 0.0, 0.0, 0.0)
    assert scores["q1b"] == 5.0 and scores["q5b"] == 4.0


def test_a_failed_zero_point_check_is_failed_and_its_message_shown(graded):
    public = entry(graded["results"], "test_q6b_public")
    assert public["max_score"] == 0 and public["status"] == "failed"
    message = "fraud_accuracy is a fraction between 0 and 1"
    assert public["output"] == message
    assert f"check `test_q6b_public`, 0 points: {message}" in graded["markdown"]
    assert entry(graded["results"], "test_q1a_public")["status"] == "passed"


def test_the_points_graded_by_hand_are_announced(graded):
    md = graded["markdown"]
    assert "of 38 autograded; 2 more points are graded by hand (q7), 40 in all." in md
    assert "| q7 | graded by hand (2 points) |" in md
    assert graded["results"]["extra_data"]["manual_questions"] == {"q7": 2.0}


def test_a_failing_cell_is_named_by_its_question_and_first_line(graded):
    if graded["engine"] == "otter":
        pytest.skip("otter runs the notebook itself and reports no cells")
    notes = graded["results"]["extra_data"]["notices"]
    assert any(
        n.startswith("The cell under question 4 that starts `or_w, or_b, or_losses_history =")
        and "raised TypeError" in n
        for n in notes
    ), notes
    assert not any(n.startswith("Cell ") for n in notes)


def test_no_message_is_cut_mid_sentence(graded):
    for test in graded["results"]["tests"]:
        text = test["output"]
        assert CUT_MARKER not in text or text[: -len(CUT_MARKER)].rstrip()[-1] in ".!?;:", text


def test_feedback_html_is_one_self_contained_page(graded):
    page = graded["html"]
    assert page.startswith("<!DOCTYPE html>") and "q3a" in page and "1 of 2" in page
    for outside in ("<script", "http://", "https://", "<link", "src="):
        assert outside not in page


# ------------------------------------------------------------------ the pieces


def test_a_long_message_is_cut_after_a_whole_sentence_with_a_marker():
    text = "The first sentence is whole. " * 30 + "A last one"
    short = whole_message(text, 200)
    assert len(short) <= 200 and short.endswith(f"whole. {CUT_MARKER}")
    assert whole_message("short and whole", 200) == "short and whole"
    words = "no sentence end at all " * 20
    cut = whole_message(words, 60)
    assert len(cut) <= 60 and cut.endswith(f" {CUT_MARKER}")
    assert words.startswith(cut[: -len(CUT_MARKER)])  # whole words only


def test_a_failed_zero_point_check_has_status_failed():
    assert status_of_test(0.0, 0.0, "or_table should be a pandas DataFrame") == "failed"
    assert status_of_test(0.0, 0.0) == "passed"
    assert TestResult("q1b", "test_q1b_public", 0.0, 0.0, False, "no").status == "failed"


def test_cells_are_named_as_the_notebook_shows_them():
    assert cell_place("q3a", "\n\ndef dl_dp(y, p):\n    ...") == (
        "the cell under question 3a that starts `def dl_dp(y, p):`")
    assert cell_place("q6b", "print(1)", after=True).startswith("the cell after question 6b")


def test_the_manual_questions_come_from_the_master():
    assert manual_questions(REPO / "solutions" / PS1 / f"{PS1}.py") == {"q7": 2.0}
    ps2 = manual_questions(REPO / "solutions" / "ps2-backprop" / "ps2-backprop.py")
    assert set(ps2) == {"q3d", "q8b"}


def test_full_marks_say_so():
    result = SubmissionResult("eve", [TestResult("q1a", "t", 3.0, 3.0, True)],
                              manual={"q7": 2.0})
    md = feedback_markdown(result)
    assert "**Score: 3 of 3 autograded; 2 more points are graded by hand (q7), 5 in all.**" in md
    assert "Every autograded check passed." in md
