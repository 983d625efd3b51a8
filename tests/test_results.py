"""The results contract (``autograder.results``): one typed definition of what grading a
submission produced, the only writer of ``results.json`` and ``summary.csv``, and the reader
the gradebook uses.

``tests/fixtures/results/`` holds files written before the contract existed (a PS1
submission with the dropped factor 2, and an unreadable one); they must still be read.
"""

import csv
import json
import shutil
from pathlib import Path

import pytest

from autograder.results import (
    ResultsFormatError,
    SubmissionResult,
    TestResult,
    read_results,
    status_of_test,
    write_results,
    write_summary,
)
from gradebook.store import Result

FIXTURES = Path(__file__).parent / "fixtures" / "results"


def a_result() -> SubmissionResult:
    return SubmissionResult(
        student="ann",
        tests=[
            TestResult("q1a", "test_q1a_weighted_sum", 3.0, 3.0, False),
            TestResult("q1b", "test_q1b_row_2", 0.0, 1.0, True, "expected 1, got 0: check b"),
        ],
        sha256="a" * 64,
        status="graded",
        output=["Cell 3 raised NameError: name 'x' is not defined", "second notice"],
        sandboxed=True,
        seconds=3.512,
        problem_set="ps1-perceptron",
        engine="nngrade",
        engine_version="0.1.0",
        submission_digest="b" * 64,
        tests_fingerprint="c" * 64,
        submitted_at="2026-11-30T23:59:00+01:00",
        submission_commit="e" * 40,
        graded_at="2026-12-01T10:00:00+00:00",
        solutions_commit="d" * 40,
        manual={"q7": 2.0},
        enforcement={"memory": "cgroup v1 memory.limit_in_bytes=2048 MB", "user": "sandbox"},
    )


def test_a_result_survives_a_round_trip_through_results_json(tmp_path):
    result = a_result()
    write_results(result, tmp_path / "ann", feedback="# Feedback for ann\n")
    assert read_results(tmp_path / "ann" / "results.json") == result
    assert SubmissionResult.from_json(json.loads(result.dumps())) == result
    assert (tmp_path / "ann" / "feedback.md").read_text() == "# Feedback for ann\n"


def test_results_json_is_gradescopes_format_with_our_extra_data():
    document = a_result().to_json()
    assert document["score"] == 3.0
    assert document["output"] == "Cell 3 raised NameError: name 'x' is not defined\nsecond notice"
    assert document["tests"][1] == {
        "name": "q1b: test_q1b_row_2", "score": 0.0, "max_score": 1.0, "status": "failed",
        "output": "expected 1, got 0: check b", "visibility": "after_published",
    }
    assert document["tests"][0]["visibility"] == "visible"
    assert document["extra_data"] == {
        "student": "ann", "problem_set": "ps1-perceptron", "engine": "nngrade",
        "engine_version": "0.1.0", "status": "graded", "sha256": "a" * 64,
        "submission_digest": "b" * 64, "tests_fingerprint": "c" * 64, "sandboxed": True,
        "seconds": 3.512, "submitted_at": "2026-11-30T23:59:00+01:00",
        "submission_commit": "e" * 40, "graded_at": "2026-12-01T10:00:00+00:00",
        "solutions_commit": "d" * 40,
        "notices": ["Cell 3 raised NameError: name 'x' is not defined", "second notice"],
        "questions": {"q1a": 3.0, "q1b": 0.0},
        "question_max_scores": {"q1a": 3.0, "q1b": 1.0},
        "manual_questions": {"q7": 2.0},
        "enforcement": {"memory": "cgroup v1 memory.limit_in_bytes=2048 MB", "user": "sandbox"},
    }


@pytest.mark.parametrize("name", ["bob", "cat"])
def test_a_results_json_written_before_the_contract_is_still_read(name):
    """Every field the old writer wrote is read back unchanged; the new ones are empty or,
    for the points possible per question, derived from the tests."""
    old = json.loads((FIXTURES / f"{name}-results.json").read_text())
    result = read_results(FIXTURES / f"{name}-results.json")
    new = result.to_json()
    # The old writer called a failed 0-point check "passed"; read back, it is "failed".
    for entry in old["tests"]:
        if entry["max_score"] == 0 and entry["output"]:
            entry["status"] = "failed"
    assert {k: v for k, v in new.items() if k != "extra_data"} == {
        k: v for k, v in old.items() if k != "extra_data"}
    assert {k: new["extra_data"][k] for k in old["extra_data"]} == old["extra_data"]
    assert set(new["extra_data"]) - set(old["extra_data"]) == {
        "solutions_commit", "notices", "question_max_scores", "manual_questions", "enforcement",
        "submission_commit"}
    assert result.solutions_commit == "" and result.submission_commit == ""
    assert result.output == (old["output"].split("\n") if old["output"] else [])


def test_the_old_fixture_is_what_it_claims():
    bob, cat = read_results(FIXTURES / "bob-results.json"), read_results(
        FIXTURES / "cat-results.json")
    assert (bob.student, bob.score, bob.max_score, bob.status) == ("bob", 32.0, 38.0, "graded")
    assert bob.question_scores()["q3b"] == 0.0 and bob.sandboxed and bob.engine == "nngrade"
    assert (cat.status, cat.score) == ("malformed", 0.0)
    assert "could not be graded" in cat.output[0]


def test_a_tests_status_has_one_definition_everywhere():
    """Passed when it earned its maximum, or more (extra credit from another source)."""
    for score, maximum, status in [(1.0, 1.0, "passed"), (0.0, 1.0, "failed"),
                                   (0.5, 1.0, "failed"), (2.0, 1.0, "passed"),
                                   (0.0, 0.0, "passed")]:  # a 0-point check, no message
        assert status_of_test(score, maximum) == status
        assert TestResult("q", "t", score, maximum, False).status == status
        assert TestResult("q", "t", score, maximum, False).to_json()["status"] == status
        assert Result("q", "t", score, maximum).status == status  # the gradebook's


def test_gradescope_notices_without_max_score_are_not_tests():
    document = a_result().to_json()
    document["tests"].append({"name": "a notice", "output": "read me"})
    assert SubmissionResult.from_json(document).tests == a_result().tests


def test_a_missing_extra_data_reads_as_an_nngrade_result():
    document = {"score": 1.0, "tests": [{"name": "q1: t", "score": 1, "max_score": 1}]}
    result = SubmissionResult.from_json(document)
    assert result.engine == "nngrade" and result.status == "graded"
    assert result.tests == [TestResult("q1", "t", 1.0, 1.0, False)]


@pytest.mark.parametrize("text, reason", [
    ("[1, 2", "not a readable results.json"),
    ("[1, 2]", "has no list of tests"),
    ('{"tests": {}}', "has no list of tests"),
    ('{"tests": [{"name": "q: t", "score": "lots", "max_score": 1}]}', "not a number"),
])
def test_what_is_not_a_results_json_is_refused_with_a_reason(tmp_path, text, reason):
    (tmp_path / "results.json").write_text(text)
    with pytest.raises(ResultsFormatError, match=reason):
        read_results(tmp_path / "results.json")


def test_summary_csv_lists_every_student_and_marks_the_ungraded(tmp_path):
    """The summary of the old fixture files is the one the old code wrote, byte for byte."""
    for name in ("bob", "cat"):
        (tmp_path / name).mkdir()
        shutil.copy(FIXTURES / f"{name}-results.json", tmp_path / name / "results.json")

    class Question:
        def __init__(self, name, points):
            self.name, self.points = name, points

    with open(FIXTURES / "summary.csv", newline="") as handle:
        header = next(csv.reader(handle))
    bob = read_results(FIXTURES / "bob-results.json")
    maxima = {}
    for t in bob.tests:
        maxima[t.question] = maxima.get(t.question, 0.0) + t.max_score
    questions = [Question(n, maxima[n]) for n in header[1:-3]]
    write_summary(tmp_path, ["bob", "cat"], questions)
    assert (tmp_path / "summary.csv").read_text() == (FIXTURES / "summary.csv").read_text()
    write_summary(tmp_path, ["bob", "cat", "dan"], questions)
    with open(tmp_path / "summary.csv", newline="") as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    assert rows["dan"]["status"] == "not graded" and rows["dan"]["total"] == ""
    assert rows["bob"]["total"] == "32.0" and rows["cat"]["status"] == "malformed"
