"""``make demo``'s pipeline end to end on problem set 1: build, sample class, sandboxed
grading, gradebook, report and Canvas export; then run again and nothing is redone.

The demo's class has each kind of submission once (every declared mistake and alternative
among them); ``--class-size`` asks for more, up to a full class of 30."""

import csv
import io
from pathlib import Path

import pytest

from autograder.errors import ConfigError
from autograder.mistakes import load_alternatives, load_mistakes
from autograder.pipeline import demo_class_sizes, run_pipeline
from autograder.problem_sets import ProblemSet, demo_class_size, find_problem_sets
from autograder.sample_class import ClassSizes, class_size, write_sample_class
from gradebook import Gradebook, Policy

REPO = Path(__file__).resolve().parents[1]
PS1 = "ps1-perceptron"
KINDS = {"correct", "alternative", "mistake", "partial", "blank", "malformed", "hostile"}


def smallest_class(ps) -> int:
    """One correct, partial, blank and hostile student, the two malformed kinds, and one
    student per declared mistake and alternative."""
    return 6 + len(load_mistakes(ps)) + len(load_alternatives(ps))


@pytest.fixture(scope="module")
def demo(ps1_built, tmp_path_factory):
    ps, _ = ps1_built
    out = tmp_path_factory.mktemp("demo")
    messages = []
    result = run_pipeline(out, [PS1], root=ps.root, workers=2, say=messages.append)
    return result, messages


def manifest(folder) -> list[dict]:
    return list(csv.DictReader((folder / PS1 / "manifest.csv").open()))


def test_the_sample_class_has_every_kind_of_submission_once(demo, ps1_built):
    result, _ = demo
    ps, _ = ps1_built
    rows = manifest(result.out)
    assert {row["kind"] for row in rows} == KINDS
    assert len(rows) == class_size(ps, None) == smallest_class(ps)
    details = {row["detail"] for row in rows}
    assert {m.name for m in load_mistakes(ps)} <= details
    assert {a.name for a in load_alternatives(ps)} <= details
    assert {"truncated file", "no notebook"} <= details
    assert sum(float(row["late_hours"]) > 0 for row in rows) == 3


def test_every_student_gets_the_points_their_kind_deserves(demo):
    """Correct and alternative: all 38; each mistake: 38 minus its declared loss; blank,
    malformed and hostile: 0. (Partial students have no fixed expectation.)"""
    result, _ = demo
    with Gradebook(result.gradebook) as gb:
        points = gb.assignment_scores().set_index("student")["points"]
        status = gb.submissions().set_index("student")["status"]
        for row in manifest(result.out):
            if row["expected_points"]:
                assert points[row["student"]] == float(row["expected_points"]), row
            if row["kind"] == "malformed":
                assert status[row["student"]] == "malformed"
        assert result.failed == {PS1: {}}


def test_the_gradebook_report_and_export_are_written(demo, ps1_built):
    result, messages = demo
    ps, _ = ps1_built
    assert any("5/5" in m for m in messages)
    page = result.report.read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "Failed to grade" in page and "No submission" in page
    rows = list(csv.reader(io.StringIO(result.canvas.read_text())))
    # The whole roster: the class and the two students who handed nothing in.
    assert rows[1][0] == "Points Possible" and len(rows) == 2 + smallest_class(ps) + 2
    with Gradebook(result.gradebook) as gb:
        assert len(gb.missing()) == 2  # two students on the roster handed nothing in
        late = gb.assignment_scores(Policy.from_yaml(result.out / "policy.yaml"))
        late = late.query("days_late > 0")
        assert len(late) == 3 and (late["late_penalty_percent"] > 0).all()


def test_running_again_rebuilds_nothing_regrades_nothing_and_records_nothing_twice(
    demo, ps1_built
):
    result, _ = demo
    ps, _ = ps1_built
    messages = []
    again = run_pipeline(result.out, [PS1], root=ps.root, workers=2, say=messages.append)
    assert f"    {PS1}: unchanged since its last build" in messages
    assert again.graded == {PS1: 0}
    with Gradebook(again.gradebook) as gb:
        assert len(gb.runs()) == 1


def test_a_full_class_has_30_submissions_of_every_kind(ps1_built, tmp_path):
    ps, _ = ps1_built
    write_sample_class([ps], tmp_path, sizes=ClassSizes.parse(["30"]))
    rows = manifest(tmp_path)
    assert len(rows) == 30 and {row["kind"] for row in rows} == KINDS
    kinds = [row["kind"] for row in rows]
    assert kinds.count("correct") == 4 and kinds.count("blank") == 2
    assert sum("+" in row["detail"] for row in rows) == 2  # two students with two mistakes
    assert len(list(csv.DictReader((tmp_path / "roster.csv").open()))) == 32
    # Asked again for the smallest class, the other students' submissions are gone.
    write_sample_class([ps], tmp_path, sizes=ClassSizes.parse([f"{PS1}=0"]))
    smallest = smallest_class(ps)
    assert len(list((tmp_path / PS1 / "submissions").iterdir())) == smallest == len(
        manifest(tmp_path)
    )


def test_a_class_size_is_a_number_for_all_or_for_one_problem_set():
    sizes = ClassSizes.parse(["20", "ps3-keras-mnist=8"])
    assert sizes.of("ps1-perceptron") == 20 and sizes.of("ps3-keras-mnist") == 8
    assert ClassSizes.parse([], default=None).of("ps2-backprop") is None
    for wrong in ("many", "ps1=x", "-3"):
        with pytest.raises(ConfigError, match="class-size"):
            ClassSizes.parse([wrong])


def test_a_short_class_keeps_the_most_telling_kinds_first(ps1_built, tmp_path):
    ps, _ = ps1_built
    mistakes = [m.name for m in load_mistakes(ps)]
    write_sample_class([ps], tmp_path, sizes=ClassSizes.parse([f"{PS1}=3"]))
    assert sorted(row["kind"] for row in manifest(tmp_path)) == ["blank", "correct", "hostile"]
    write_sample_class([ps], tmp_path, sizes=ClassSizes.parse([f"{PS1}={3 + len(mistakes)}"]))
    rows = manifest(tmp_path)
    assert sorted(row["detail"] for row in rows if row["kind"] == "mistake") == sorted(mistakes)
    assert {row["kind"] for row in rows} == {"correct", "blank", "hostile", "mistake"}
    assert len(list((tmp_path / PS1 / "submissions").iterdir())) == 3 + len(mistakes)


def test_the_demo_grades_the_short_class_a_grading_yaml_asks_for(tmp_path):
    """Problem sets 3 and 4 ask for 4 (each of their gradings starts TensorFlow and trains)
    and problem set 2 for 5 (each trains a NumPy network); problem set 1 grades each kind
    once; a size given on the command line wins."""
    sets = find_problem_sets(REPO)
    by_name = {ps.name: ps for ps in sets}
    sizes = demo_class_sizes(sets)
    assert sizes.of("ps3-keras-mnist") == demo_class_size(by_name["ps3-keras-mnist"]) == 4
    assert sizes.of("ps4-network-design") == 4
    assert sizes.of(PS1) is None and sizes.of("ps2-backprop") == 5
    assert demo_class_sizes(sets, ClassSizes.parse(["ps3-keras-mnist=0"], default=None)).of(
        "ps3-keras-mnist") == 0
    assert demo_class_sizes(sets, ClassSizes.parse(["30"])).of("ps3-keras-mnist") == 30
    course = tmp_path / "solutions" / "ps-broken"
    course.mkdir(parents=True)
    broken = ProblemSet("ps-broken", course / "ps-broken.py", tmp_path)
    for wrong in ("many", "0", "true", "2.5"):
        (course / "grading.yaml").write_text(f"demo_class_size: {wrong}\n")
        with pytest.raises(ConfigError, match="demo_class_size"):
            demo_class_size(broken)
