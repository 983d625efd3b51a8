"""``make demo``'s pipeline end to end on problem set 1: build, sample class, sandboxed
grading, gradebook, report and Canvas export; then run again and nothing is redone."""

import csv
import io

import pytest

from autograder.pipeline import run_pipeline
from gradebook import Gradebook, Policy

PS1 = "ps1-perceptron"


@pytest.fixture(scope="module")
def demo(ps1_built, tmp_path_factory):
    ps, _ = ps1_built
    out = tmp_path_factory.mktemp("demo")
    messages = []
    result = run_pipeline(out, [PS1], root=ps.root, workers=2, say=messages.append)
    return result, messages


def manifest(result) -> list[dict]:
    return list(csv.DictReader((result.out / PS1 / "manifest.csv").open()))


def test_the_sample_class_has_every_kind_of_submission(demo):
    result, _ = demo
    kinds = {row["kind"] for row in manifest(result)}
    assert kinds == {"correct", "alternative", "mistake", "partial", "blank", "malformed",
                     "hostile"}
    assert len(manifest(result)) == 30
    assert sum(float(row["late_hours"]) > 0 for row in manifest(result)) == 3


def test_every_student_gets_the_points_their_kind_deserves(demo):
    """Correct and alternative: all 38; each mistake: 38 minus its declared loss; blank,
    malformed and hostile: 0. (Partial students have no fixed expectation.)"""
    result, _ = demo
    with Gradebook(result.gradebook) as gb:
        points = gb.assignment_scores().set_index("student")["points"]
        status = gb.submissions().set_index("student")["status"]
        for row in manifest(result):
            if row["expected_points"]:
                assert points[row["student"]] == float(row["expected_points"]), row
            if row["kind"] == "malformed":
                assert status[row["student"]] == "malformed"
        assert result.failed == {PS1: {}}


def test_the_gradebook_report_and_export_are_written(demo):
    result, messages = demo
    assert any("5/5" in m for m in messages)
    page = result.report.read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "Failed to grade" in page and "No submission" in page
    rows = list(csv.reader(io.StringIO(result.canvas.read_text())))
    assert rows[1][0] == "Points Possible" and len(rows) == 2 + 32  # the whole roster
    with Gradebook(result.gradebook) as gb:
        assert len(gb.missing()) == 2  # two students on the roster handed nothing in
        late = gb.assignment_scores(Policy.from_yaml(result.out / "policy.yaml"))
        late = late.query("days_late > 0")
        assert len(late) == 3 and (late["late_penalty_percent"] > 0).all()


def test_running_again_regrades_nothing_and_records_nothing_twice(demo, ps1_built):
    result, _ = demo
    ps, _ = ps1_built
    again = run_pipeline(result.out, [PS1], root=ps.root, workers=2, say=lambda m: None)
    assert again.graded == {PS1: 0}
    with Gradebook(again.gradebook) as gb:
        assert len(gb.runs()) == 1
