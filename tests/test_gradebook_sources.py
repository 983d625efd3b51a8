"""Every source the gradebook reads, made by the real tool, ingested, then queried back.

- nngrade: a batch graded by our engine (``grade_batch``);
- otter: ``final_grades.csv`` and ``results.json`` written by otter's own code from real
  gradings;
- nbgrader: a tiny course generated and autograded by the ``nbgrader`` command line;
- GitHub Classroom: its grades CSV (a file format; Classroom itself is a web service);
- the roster and due dates.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from autograder.engine.batch import grade_batch
from autograder.mistakes import apply_mistake, load_mistakes
from gradebook import Gradebook, IngestError

PS1 = "ps1-perceptron"


# ------------------------------------------------------------------ nngrade


@pytest.fixture(scope="module")
def graded_ps1(ps1_built, ps1_solution, ps1_zip, tmp_path_factory):
    """Three PS1 students graded by the engine: correct, dropped factor 2, and unreadable."""
    ps, _ = ps1_built
    folder = tmp_path_factory.mktemp("ps1-submissions")
    solution = nbformat.read(ps1_solution, as_version=4)
    mistake = next(m for m in load_mistakes(ps) if m.name == "dropped-factor-2")
    nbformat.write(solution, folder / "ann.ipynb")
    nbformat.write(apply_mistake(solution, mistake), folder / "bob.ipynb")
    (folder / "cat.ipynb").write_text("{ this is not a notebook")
    os.utime(folder / "ann.ipynb", (1_790_000_000, 1_790_000_000))
    out = tmp_path_factory.mktemp("ps1-results")
    report = grade_batch(PS1, ps1_zip, folder, out, workers=2, progress=False)
    assert report.ok
    return folder, out


def test_nngrade_results_round_trip(graded_ps1, tmp_path):
    _, out = graded_ps1
    gb = Gradebook(tmp_path / "gb.db")
    (recorded,) = gb.ingest("nngrade", out)  # the problem set is read from the files
    assert recorded.created and recorded.assignment == PS1
    scores = gb.scores(PS1)
    for student in ("ann", "bob", "cat"):
        document = json.loads((out / student / "results.json").read_text())
        mine = scores[scores["student"] == student]
        assert len(mine) == len(document["tests"])
        assert mine["score"].sum() == pytest.approx(document["score"])
    totals = gb.assignment_scores().set_index("student")
    assert totals.loc["ann", "points"] == 38 and totals.loc["bob", "points"] == 32
    assert gb.matrix(PS1).loc["bob", "q3b"] == 0  # where the dropped factor 2 costs points
    submissions = gb.submissions().set_index("student")
    assert submissions.loc["cat", "status"] == "malformed"
    mtime = datetime.fromtimestamp(1_790_000_000, UTC).isoformat()
    assert submissions.loc["ann", "submitted_at"] == mtime  # when the file was last changed
    run = gb.runs().iloc[0]
    assert run["engine"] == "nngrade" and run["engine_version"]
    assert gb.failures()["student"].tolist() == ["cat"]


def test_nngrade_reingest_is_a_no_op_and_a_regrade_is_a_new_run(graded_ps1, ps1_zip, tmp_path):
    folder, out = graded_ps1
    gb = Gradebook(tmp_path / "gb.db")
    gb.ingest("nngrade", out)
    (again,) = gb.ingest("nngrade", out)
    assert not again.created and len(gb.runs()) == 1
    # bob fixes his mistake and is regraded: a second run, and the views read it.
    regraded = tmp_path / "regraded"
    shutil.copytree(out, regraded)
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    shutil.copy(folder / "ann.ipynb", fixed / "bob.ipynb")
    grade_batch(PS1, ps1_zip, fixed, regraded, workers=1, progress=False)
    gb.ingest("nngrade", regraded)
    assert len(gb.runs()) == 2
    assert gb.assignment_scores().set_index("student").loc["bob", "points"] == 38


def test_the_solutions_commit_lands_in_the_gradebook(ps1_built, ps1_solution, ps1_zip, tmp_path,
                                                     monkeypatch):
    """Graded with the problem set's master, every results.json names the master's commit
    and the run the gradebook records carries it."""
    ps, _ = ps1_built
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    course = tmp_path / "course"
    shutil.copytree(ps.master.parent, course / "solutions" / PS1)
    git = ["git", "-c", "user.name=I", "-c", "user.email=i@example.org", "-C", str(course)]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "ps1"]):
        subprocess.run([*git, *command], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    folder, out = tmp_path / "subs", tmp_path / "out"
    folder.mkdir()
    shutil.copy(ps1_solution, folder / "ann.ipynb")
    report = grade_batch(PS1, ps1_zip, folder, out, workers=1, progress=False,
                         master=course / "solutions" / PS1 / f"{PS1}.py")
    assert report.ok, report.failed
    document = json.loads((out / "ann" / "results.json").read_text())
    assert document["extra_data"]["solutions_commit"] == commit
    gb = Gradebook(tmp_path / "gb.db")
    gb.ingest("nngrade", out)
    assert gb.runs().iloc[0]["solutions_commit"] == commit
    assert gb.assignment_scores().set_index("student").loc["ann", "points"] == 38


def test_a_folder_that_is_not_results_is_refused(tmp_path):
    gb = Gradebook(tmp_path / "gb.db")
    with pytest.raises(IngestError, match="results.json"):
        gb.ingest("nngrade", tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "results.json").write_text("[1, 2")
    with pytest.raises(IngestError, match="not a readable"):
        gb.ingest("nngrade", tmp_path, PS1)
    assert len(gb.runs()) == 0


# ------------------------------------------------------------------ otter

OTTER_OUTPUTS = """
import json, sys
from pathlib import Path
import otter.api
from otter.grade.utils import merge_scores_to_df
from otter.run.run_autograder.autograder_config import AutograderConfig

zip_path, out = sys.argv[1], Path(sys.argv[2])
scores = []
for notebook in sys.argv[3:]:
    result = otter.api.grade_submission(notebook, ag_path=zip_path, quiet=True)
    result.file = Path(notebook).name
    scores.append(result)
    folder = out / "json" / Path(notebook).stem
    folder.mkdir(parents=True)
    document = result.to_gradescope_dict(AutograderConfig())
    (folder / "results.json").write_text(json.dumps(document, indent=4))
merge_scores_to_df(scores).to_csv(out / "final_grades.csv", index=False)
"""


@pytest.fixture(scope="module")
def otter_outputs(graded_ps1, ps1_zip, tmp_path_factory):
    """otter's final_grades.csv (as `otter grade` writes it) and results.json files (as
    `otter run` writes them), from otter grading ann's and bob's notebooks."""
    folder, _ = graded_ps1
    out = tmp_path_factory.mktemp("otter")
    done = subprocess.run(
        [sys.executable, "-c", OTTER_OUTPUTS, str(ps1_zip), str(out),
         str(folder / "ann.ipynb"), str(folder / "bob.ipynb")],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_otter_final_grades_round_trip(otter_outputs, tmp_path):
    gb = Gradebook(tmp_path / "gb.db")
    (recorded,) = gb.ingest("otter-csv", otter_outputs / "final_grades.csv", PS1)
    assert recorded.submissions == 2
    points = gb.assignment_scores().set_index("student")["points"]
    assert points.to_dict() == {"ann": 38.0, "bob": 32.0}
    assert gb.question_points()[PS1]["q1b"] == 5
    assert gb.runs().iloc[0]["engine"] == "otter"


def test_otter_results_json_round_trip(otter_outputs, tmp_path):
    gb = Gradebook(tmp_path / "gb.db")
    gb.ingest("otter-json", otter_outputs / "json", PS1)
    matrix = gb.matrix(PS1)
    assert matrix.loc["ann"].sum() == 38 and matrix.loc["bob"].sum() == 32
    assert matrix.loc["bob", "q3a"] == 1  # 2 points, of which the factor 2 costs 1


def test_otter_sources_need_the_assignment_named(otter_outputs, tmp_path):
    gb = Gradebook(tmp_path / "gb.db")
    with pytest.raises(IngestError, match="assignment"):
        gb.ingest("otter-csv", otter_outputs / "final_grades.csv")


# ------------------------------------------------------------------ nbgrader

NBGRADER_META = {"schema_version": 3, "locked": False, "solution": False, "grade": False,
                 "task": False}


def _cell(kind: str, source: str, **meta) -> nbformat.NotebookNode:
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(textwrap.dedent(source).strip())
    cell.metadata["nbgrader"] = {**NBGRADER_META, **meta}
    return cell


def _nbgrader(course: Path, *args: str) -> None:
    # nbgrader runs `alembic` from PATH when it creates its database.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PATH": path})
    assert done.returncode == 0, f"nbgrader {args}: {done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def nbgrader_course(tmp_path_factory) -> Path:
    """A one-notebook nbgrader assignment (two autograded test cells worth 2 and 3 points, a
    written answer worth 1), generated and autograded by nbgrader for alice (all right, and a
    written answer) and bob (half right, no written answer); carol never submits."""
    course = tmp_path_factory.mktemp("nbgrader-course")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'nn'\n"
    )
    source = course / "source" / "tiny"
    source.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        _cell("code", """
            def double(x):
                ### BEGIN SOLUTION
                return 2 * x
                ### END SOLUTION
        """, solution=True, grade_id="double"),
        _cell("code", "assert double(2) == 4", grade=True, grade_id="test_small", points=2,
              locked=True),
        _cell("code", "assert double(-1.5) == -3", grade=True, grade_id="test_negative",
              points=3, locked=True),
        _cell("markdown", "Why? YOUR ANSWER HERE", solution=True, grade=True,
              grade_id="why", points=1),
    ]
    nbformat.write(nb, source / "tiny.ipynb")
    _nbgrader(course, "db", "assignment", "add", "tiny", "--duedate=2026-10-05 23:59:00 UTC")
    for student, first in (("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")):
        _nbgrader(course, "db", "student", "add", student, f"--first-name={first}",
                  "--last-name=Example")
    _nbgrader(course, "generate_assignment", "tiny", "--force")
    release = nbformat.read(course / "release" / "tiny" / "tiny.ipynb", as_version=4)
    answers = {"alice": "return 2 * x", "bob": "return x + 2"}
    for student, answer in answers.items():
        submitted = nbformat.reads(nbformat.writes(release), as_version=4)
        cell = submitted.cells[0]
        cell.source = cell.source.replace("# YOUR CODE HERE\n    raise NotImplementedError()",
                                          answer)
        if student == "alice":  # a written answer nbgrader leaves for a person to grade
            submitted.cells[3].source = "Doubling is linear, so one multiplication suffices."
        folder = course / "submitted" / student / "tiny"
        folder.mkdir(parents=True)
        nbformat.write(submitted, folder / "tiny.ipynb")
        (folder / "timestamp.txt").write_text("2026-10-05 20:00:00.000000 UTC")
    _nbgrader(course, "autograde", "tiny")
    return course / "gradebook.db"


def test_nbgrader_gradebook_round_trip(nbgrader_course, tmp_path):
    gb = Gradebook(tmp_path / "gb.db")
    (recorded,) = gb.ingest("nbgrader", nbgrader_course)
    assert recorded.assignment == "tiny"
    matrix = gb.matrix("tiny")
    assert list(matrix.columns) == ["test_negative", "test_small", "why"]  # nbgrader's cells
    assert matrix.loc["alice", "test_small"] == 2 and matrix.loc["alice", "test_negative"] == 3
    assert matrix.loc["bob", "test_small"] == 2 and matrix.loc["bob", "test_negative"] == 0
    submissions = gb.submissions().set_index("student")
    assert submissions.loc["carol", "status"] == "missing"
    assert "manual" in submissions.loc["alice", "message"]  # the written answer awaits a TA
    assert submissions.loc["alice", "submitted_at"] == "2026-10-05T20:00:00+00:00"
    assert gb.assignments().set_index("name").loc["tiny", "due_at"] == "2026-10-05T23:59:00+00:00"
    assert gb.students().set_index("id").loc["alice", "name"] == "Alice Example"
    # A TA grades the written answer here; it counts, and the import history is unchanged.
    gb.override("alice", "tiny", 1, author="ta", reason="clear explanation", question="why")
    assert gb.assignment_scores().set_index("student").loc["alice", "points"] == 6


def test_a_missing_nbgrader_database_is_not_created(tmp_path):
    gb = Gradebook(tmp_path / "gb.db")
    with pytest.raises(IngestError, match="no such"):
        gb.ingest("nbgrader", tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


# ------------------------------------------------------------------ GitHub Classroom and roster

CLASSROOM_CSV = """\
assignment_name,assignment_url,starter_code_url,github_username,roster_identifier,\
student_repository_name,student_repository_url,submission_timestamp,points_awarded,\
points_available
ps1-perceptron,https://classroom.github.com/a/x,,ann-nn,ann@uni.edu,ps1-ann-nn,\
https://github.com/course/ps1-ann-nn,2026-10-05T21:14:03Z,12,15
ps1-perceptron,https://classroom.github.com/a/x,,bobby,,ps1-bobby,\
https://github.com/course/ps1-bobby,2026-10-07T09:00:00Z,15,15
ps1-perceptron,https://classroom.github.com/a/x,,cat-nn,,ps1-cat-nn,\
https://github.com/course/ps1-cat-nn,,0,0
"""


def test_classroom_csv_round_trip_matches_the_roster(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email,github\nann,Ann A,ann@uni.edu,ann-nn\n"
                      "cat,Cat C,cat@uni.edu,cat-nn\n")
    (tmp_path / "due.csv").write_text("name,due\nps1-perceptron,2026-10-06T01:59:00+02:00\n")
    grades = tmp_path / "grades.csv"
    grades.write_text(CLASSROOM_CSV)
    gb = Gradebook(tmp_path / "gb.db")
    assert gb.import_roster(roster) == 2
    gb.import_assignments(tmp_path / "due.csv")
    (recorded,) = gb.ingest("classroom", grades)
    assert recorded.assignment == "ps1-perceptron" and recorded.submissions == 3
    scores = gb.assignment_scores().set_index("student")
    assert scores.loc["ann", "points"] == 12 and scores.loc["ann", "max_points"] == 15
    assert scores.loc["bobby", "points"] == 15  # not on the roster: kept under the username
    assert scores.loc["bobby", "days_late"] == 2  # due 23:59 UTC on the 5th
    assert scores.loc["cat", "status"] == "missing"
    assert gb.missing().to_dict("records") == [{"student": "cat", "assignment": "ps1-perceptron"}]


# As `gh teacher download` writes it: one line per push, newest first within each student;
# one line with empty scores for a student who never submitted; student-controlled cells that
# start like a spreadsheet formula guarded with a leading quote.
CLASSROOM50_CSV = """\
username,first_name,last_name,email,section,score,max_score,datetime,submission_tag,\
submitted_by,review_url,late,override
ann-nn,Ann,A,ann@uni.edu,1,2,2,2026-10-05T21:14:03Z,submit/3,ann-nn,,false,
ann-nn,Ann,A,ann@uni.edu,1,1,2,2026-10-04T10:00:00Z,submit/2,ann-nn,,false,
Bobby,Bob,B,'-bob@uni.edu,2,1,2,2026-10-07T09:00:00Z,submit/1,Bobby,'=HYPERLINK(1),true,true
cat-nn,,,,,,,,,,,,
"""


def test_classroom50_scores_are_each_students_newest_push(tmp_path):
    from click.testing import CliRunner

    from autograder.cli import main

    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email,github\nann,Ann A,ann@uni.edu,ann-nn\n"
                      "cat,Cat C,cat@uni.edu,cat-nn\n")
    (tmp_path / "due.csv").write_text("name,due\nps1-pushes,2026-10-06T01:59:00+02:00\n")
    scores = tmp_path / "scores.csv"
    scores.write_text(CLASSROOM50_CSV)
    db = str(tmp_path / "gb.db")
    gb = Gradebook(db)
    gb.import_roster(roster)
    gb.import_assignments(tmp_path / "due.csv")
    result = CliRunner().invoke(main, ["gradebook", "import", "classroom50", str(scores),
                                       "--assignment", "ps1-pushes", "--db", db])
    assert result.exit_code == 0, result.output
    assert "3 submissions" in result.output
    table = gb.assignment_scores().set_index("student")
    assert table.loc["ann", "points"] == 2 and table.loc["ann", "max_points"] == 2
    assert table.loc["Bobby", "points"] == 1  # not on the roster: kept under the username
    assert table.loc["Bobby", "days_late"] == 2
    assert table.loc["cat", "status"] == "missing"
    bob = gb.students().set_index("id").loc["Bobby"]
    assert (bob["name"], bob["email"], bob["section"]) == ("Bob B", "-bob@uni.edu", "2")
    messages = gb.submissions().set_index("student")["message"]
    assert "marked this submission late" in messages["Bobby"] and "submit/1" in messages["Bobby"]
    assert gb.runs().iloc[0]["source_kind"] == "classroom50"
    again = CliRunner().invoke(main, ["gradebook", "import", "classroom50", str(scores),
                                      "--assignment", "ps1-pushes", "--db", db])
    assert "already recorded" in again.output


def test_classroom50_scores_need_the_assignment_and_its_columns(tmp_path):
    gb = Gradebook(tmp_path / "gb.db")
    scores = tmp_path / "scores.csv"
    scores.write_text(CLASSROOM50_CSV)
    with pytest.raises(IngestError, match="does not name the assignment"):
        gb.ingest("classroom50", scores)
    scores.write_text("user,score\nann,3\n")
    with pytest.raises(IngestError, match="Classroom 50"):
        gb.ingest("classroom50", scores, "ps1")
    assert len(gb.runs()) == 0


def test_bad_classroom_and_roster_files_say_what_is_wrong(tmp_path):
    gb = Gradebook(tmp_path / "gb.db")
    bad = tmp_path / "bad.csv"
    bad.write_text("user,score\nann,3\n")
    with pytest.raises(IngestError, match="GitHub Classroom"):
        gb.ingest("classroom", bad)
    bad.write_text("github_username,points_awarded,points_available\nann,lots,10\n")
    with pytest.raises(IngestError, match="line 2"):
        gb.ingest("classroom", bad, "ps1")
    bad.write_text("id,name\nann,A\nann,B\n")
    with pytest.raises(IngestError, match="twice"):
        gb.import_roster(bad)
    bad.write_text("name,due\nps1,next tuesday\n")
    with pytest.raises(IngestError, match="ISO 8601"):
        gb.import_assignments(bad)
    assert len(gb.runs()) == 0 and len(gb.students()) == 0
