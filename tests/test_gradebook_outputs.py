"""What leaves the gradebook: the Canvas, CSV and JSON exports, the HTML report (rendered by
headless Chromium, as a reader sees it), and the ``nngrade gradebook`` commands."""

import base64
import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

from autograder.cli import main
from gradebook import Gradebook, LatePolicy, Policy
from gradebook.exports import canvas_csv, gradescope_json, wide_csv
from gradebook.render import chromium, render_png
from gradebook.report import build_report
from gradebook.store import Result, Run, Submission

DUE = datetime(2026, 10, 5, 23, 59, tzinfo=UTC)
POLICY = Policy(late=LatePolicy(percent_per_day=10))


@pytest.fixture
def gb(tmp_path) -> Gradebook:
    """Twelve students, one problem set with three questions; s00 is a day late, s01's
    notebook was malformed, s11 handed nothing in."""
    book = Gradebook(tmp_path / "gb.db")
    book.add_students([{"id": f"s{i:02d}", "name": f"Student {i:02d}",
                        "email": f"s{i:02d}@uni.edu"} for i in range(12)])
    book.set_assignment("ps1", due_at=DUE.isoformat(), title="PS1 Perceptron")
    rng = np.random.default_rng(1)
    submissions = []
    for i in range(11):
        results = [Result("q1", "q1", float(rng.integers(0, 3)), 2.0, "q1: off by one"),
                   Result("q2", "q2", float(rng.integers(0, 4)), 3.0),
                   Result("q3", "q3", float(rng.integers(0, 6)), 5.0)]
        submissions.append(Submission(f"s{i:02d}", results, submitted_at=(
            DUE + timedelta(hours=20 if i == 0 else -2)).isoformat()))
    submissions[1] = Submission("s01", [Result(q, q, 0.0, p) for q, p in
                                        (("q1", 2.0), ("q2", 3.0), ("q3", 5.0))],
                                status="malformed", message="not valid JSON")
    book.record(Run("ps1", "nngrade", submissions, questions={"q1": 2.0, "q2": 3.0, "q3": 5.0}))
    return book


def test_canvas_csv_is_what_canvas_imports(gb):
    rows = list(csv.reader(io.StringIO(canvas_csv(gb, POLICY))))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "PS1 Perceptron"]
    assert rows[1][0] == "Points Possible" and rows[1][5] == "10"
    by_id = {r[2]: r for r in rows[2:]}
    assert len(by_id) == 12 and by_id["s05"][3] == "s05@uni.edu"
    final = gb.assignment_scores(POLICY).set_index("student")["final_points"]
    for student, row in by_id.items():
        assert float(row[5]) == pytest.approx(round(final[student], 2))
    assert by_id["s11"][5] == "0"  # no submission counts as zero, as in the totals
    late = gb.assignment_scores(POLICY).set_index("student").loc["s00"]
    assert late["days_late"] == 1 and late["final_points"] == pytest.approx(0.9 * late["points"])


def test_wide_csv_and_gradescope_json(gb):
    table = list(csv.DictReader(io.StringIO(wide_csv(gb, POLICY))))
    assert set(table[0]) == {"student", "name", "email", "github", "ps1", "total_percent",
                             "letter", "dropped"}
    documents = gradescope_json(gb, POLICY)
    doc = documents["s03"]
    assert [t["name"] for t in doc["tests"]] == ["ps1: q1", "ps1: q2", "ps1: q3"]
    assert sum(t["max_score"] for t in doc["tests"]) == 10
    assert doc["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]))
    assert doc["tests"][0]["output"] == "q1: off by one"
    assert doc["extra_data"]["letter"] in {"A", "B", "C", "D", "F"}
    json.dumps(documents)  # plain JSON all the way down


def test_report_has_every_section_and_its_plots_are_pngs(gb):
    page = build_report(gb, POLICY, title="Course <report>")
    assert "<title>Course &lt;report&gt;</title>" in page  # escaped
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3  # course histogram, score histogram, item analysis
    for data in images:
        picture = imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert picture.shape[0] > 100 and picture.shape[1] > 300
    for heading in ("Score distribution", "Questions", "Failed to grade", "No submission"):
        assert heading in page
    assert "not valid JSON" in page and "s11" in page
    for column in ("difficulty", "discrimination", "mean", "median"):
        assert f"<th>{column}</th>" in page


def test_report_renders_in_chromium_with_its_plots(gb, tmp_path):
    assert chromium(), "Chromium is missing: `make setup` installs it (Debian package chromium)"
    page = tmp_path / "report.html"
    page.write_text(build_report(gb, POLICY))
    png = render_png(page, tmp_path / "report.png", width=1000, height=2400)
    pixels = imread(png)[:, :, :3]
    assert pixels.shape[:2] == (2400, 1000)
    # The plots' bars are drawn in the report's blue (#2b6cb0); text alone has none.
    blue = np.all(np.abs(pixels - np.array([0x2B, 0x6C, 0xB0]) / 255) < 0.03, axis=2)
    assert blue.sum() > 5000


def test_gradebook_commands(gb, tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "gb.db")
    for command in ("import", "show", "export", "report", "override", "extend"):
        result = runner.invoke(main, ["gradebook", command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output
    (tmp_path / "policy.yaml").write_text("late: {percent_per_day: 10}\n")  # found beside db
    shown = runner.invoke(main, ["gradebook", "show", "scores", "--csv", "--db", db])
    assert shown.exit_code == 0 and len(shown.output.splitlines()) == 1 + 12 * 3 - 3
    result = runner.invoke(main, ["gradebook", "override", "s02", "ps1", "9.5", "--by", "prof",
                                  "--reason", "exam regrade", "--db", db])
    assert result.exit_code == 0, result.output
    totals = runner.invoke(main, ["gradebook", "show", "totals", "--csv", "--db", db])
    row = next(r for r in csv.DictReader(io.StringIO(totals.output)) if r["student"] == "s02")
    assert float(row["ps1"]) == pytest.approx(95.0)
    s00 = next(r for r in csv.DictReader(io.StringIO(totals.output)) if r["student"] == "s00")
    points = gb.assignment_scores().set_index("student").loc["s00", "points"]
    assert float(s00["ps1"]) == pytest.approx(points * 0.9 * 10)  # the policy file was used
    bad = runner.invoke(main, ["gradebook", "override", "nobody", "ps1", "1", "--by", "p",
                               "--reason", "r", "--db", db])
    assert bad.exit_code != 0 and "no student" in bad.output
    out = tmp_path / "canvas.csv"
    assert runner.invoke(main, ["gradebook", "export", "--format", "canvas", "--out", str(out),
                                "--db", db]).exit_code == 0
    assert out.read_text().startswith("Student,ID,SIS User ID")
    report = tmp_path / "report.html"
    assert runner.invoke(main, ["gradebook", "report", "--out", str(report), "--db",
                                db]).exit_code == 0
    assert "data:image/png" in report.read_text()
