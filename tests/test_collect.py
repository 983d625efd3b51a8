"""``nngrade collect``: real git repositories made here, one per student, with commits before
and after the due date (their committer dates set with ``GIT_COMMITTER_DATE``), one student
with an extension, one repository that matches no roster student; problem set 1 graded from
the commit each student submitted. No network: the clones are local repositories.
"""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PS1

from autograder.classroom.collect import (
    COLLECTED,
    NO_COMMIT,
    collect,
    course_from_gradebook,
    match_repositories,
    parse_time,
    read_push_times,
)
from autograder.cli import main
from autograder.results import read_results
from gradebook import Gradebook

DUE = "2026-10-05T23:59:00+02:00"
BEFORE, AFTER = "2026-10-04T12:00:00+02:00", "2026-10-07T12:00:00+02:00"
WELL_BEFORE, TOO_LATE = "2026-10-01T09:00:00+02:00", "2026-10-12T09:00:00+02:00"
ROSTER = """id,name,email,github
s01,Ann A,ann@example.org,ann-gh
s02,Bob B,bob@example.org,Bobby
s03,Cat C,cat@example.org,cat
s04,Dan D,dan@example.org,dan
"""


def git(repo: Path, *args: str, when: str | None = None) -> str:
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo),
           "PATH": "/usr/local/bin:/usr/bin:/bin"}  # fmt: skip
    if when is not None:
        env |= {"GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": when}
    command = ["git", "-c", "user.name=Student", "-c", "user.email=s@example.org",
               "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", "-C", str(repo),
               *args]  # fmt: skip
    return subprocess.run(command, check=True, capture_output=True, text=True,
                          env=env).stdout.strip()  # fmt: skip


def repository(folder: Path, name: str, commits: list[tuple[Path, str]]) -> list[str]:
    """A repository ``folder/name`` with one commit of the notebook per (notebook, time);
    returns the commits' shas."""
    repo = folder / name
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "README.md").write_text("# ps1\n")
    shas = []
    for notebook, when in commits:
        (repo / f"{PS1}.ipynb").write_bytes(notebook.read_bytes())
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--allow-empty", "-m", f"work at {when}", when=when)
        shas.append(git(repo, "rev-parse", "HEAD"))
    return shas


@pytest.fixture(scope="module")
def classroom(ps1_built, tmp_path_factory):
    """The class's clones: s01 solved it before the deadline and broke it after; s02 solved it
    after the deadline but within a 3-day extension; s03 solved it only after the deadline;
    s04 pushed nothing before it; and a repository of someone not on the roster."""
    ps, _ = ps1_built
    solution, blank = ps.solution_notebook, ps.student_notebook
    root = tmp_path_factory.mktemp("collect")
    repos = root / "ps1-perceptron-submissions"
    shas = {
        "s01": repository(repos, "ps1-perceptron-ann-gh", [(solution, BEFORE), (blank, AFTER)]),
        "s02": repository(repos, "ps1-perceptron-bobby", [(blank, WELL_BEFORE),
                                                           (solution, AFTER)]),
        "s03": repository(repos, "ps1-perceptron-cat", [(blank, BEFORE), (solution, AFTER)]),
        "s04": repository(repos, "ps1-perceptron-dan", [(solution, TOO_LATE)]),
        "stranger": repository(repos, "ps1-perceptron-mallory", [(solution, BEFORE)]),
    }
    (root / "roster.csv").write_text(ROSTER)
    return ps, root, repos, shas


@pytest.fixture(scope="module")
def collected(classroom):
    ps, root, repos, shas = classroom
    out = root / "results"
    result = CliRunner().invoke(
        main,
        ["collect", PS1, str(repos), "--out", str(out), "--roster", str(root / "roster.csv"),
         "--due", DUE, "--extension", "s02=3", "--workers", "2"],
        env={"NNGRADE_ROOT": str(ps.root)},
    )  # fmt: skip
    return result, out


def test_collect_grades_the_last_commit_before_each_deadline(classroom, collected):
    _, _, _, shas = classroom
    result, out = collected
    assert result.exit_code == 0, result.output
    expected = {"s01": shas["s01"][0], "s02": shas["s02"][1], "s03": shas["s03"][0]}
    graded = {s: read_results(out / s / "results.json") for s in expected}
    assert {s: r.submission_commit for s, r in graded.items()} == expected
    assert {s: r.submitted_at for s, r in graded.items()} == {
        "s01": BEFORE, "s02": AFTER, "s03": BEFORE}
    maximum = graded["s01"].max_score
    # s01's and s02's graded commits are the solution; s03's is the blank release.
    assert graded["s01"].score == graded["s02"].score == maximum > 0
    assert graded["s03"].score == 0
    assert not (out / "s04").exists()


def test_collect_reports_the_unmatched_repository_and_the_student_without_a_commit(collected):
    result, out = collected
    assert "unmatched: ps1-perceptron-mallory" in result.stderr
    rows = list(csv.DictReader((out / "collected.csv").open()))
    by_repo = {r["repository"]: r for r in rows}
    assert by_repo["ps1-perceptron-mallory"]["status"].startswith("unmatched")
    assert by_repo["ps1-perceptron-dan"]["status"] == NO_COMMIT
    assert by_repo["ps1-perceptron-bobby"]["extension_days"] == "3"
    assert by_repo["ps1-perceptron-bobby"]["due"] == "2026-10-08T23:59:00+02:00"
    assert by_repo["ps1-perceptron-ann-gh"]["time_source"] == "committer date"
    summary = list(csv.DictReader((out / "summary.csv").open()))
    assert sorted(r["student"] for r in summary) == ["s01", "s02", "s03"]


def test_collect_leaves_the_clones_as_they_were(classroom, collected):
    _, _, repos, shas = classroom
    for repo in sorted(repos.iterdir()):
        assert len(git(repo, "worktree", "list").splitlines()) == 1, repo
        assert git(repo, "status", "--porcelain") == ""
    assert git(repos / "ps1-perceptron-ann-gh", "rev-parse", "HEAD") == shas["s01"][1]


def test_results_json_records_the_commit(collected):
    _, out = collected
    document = json.loads((out / "s01" / "results.json").read_text())
    assert len(document["extra_data"]["submission_commit"]) == 40


# ------------------------------------------------------------------ matching and picking


def make_repos(folder: Path, names: list[str]) -> None:
    for name in names:
        (folder / name / ".git").mkdir(parents=True)


def test_repositories_match_by_username_the_longest_that_fits(tmp_path):
    make_repos(tmp_path, ["ps1-jim-bob", "ps1-bob", "Ps1-ANN", "ann", "ps1-nobody", ".hidden"])
    (tmp_path / "notes.txt").write_text("not a repository")
    (tmp_path / "no-git-bob").mkdir()
    by_student, unmatched = match_repositories(tmp_path, {"bob": "s1", "jim-bob": "s2",
                                                          "Ann": "s3"})  # fmt: skip
    assert {s: [p.name for p in ps] for s, ps in by_student.items()} == {
        "s1": ["ps1-bob"], "s2": ["ps1-jim-bob"], "s3": ["Ps1-ANN", "ann"]}
    assert [p.name for p in unmatched] == ["ps1-nobody"]


def test_two_repositories_for_one_student_grade_neither(tmp_path):
    for name in ("ps1-ann", "ann"):
        repository(tmp_path, name, [(write_notebook(tmp_path, name), BEFORE)])
    found = collect(tmp_path, {"ann": "s1"}, parse_time(DUE))
    assert found.picks == [] and sorted(p.name for p in found.ambiguous["s1"]) == [
        "ann", "ps1-ann"]


def write_notebook(folder: Path, text: str) -> Path:
    path = folder / f"notebook-{text}.json"
    path.write_text(json.dumps({"cells": [], "text": text}))
    return path


def test_push_times_decide_instead_of_forgeable_committer_dates(tmp_path):
    """The last commit claims a date before the deadline, but was pushed after it: with the
    platform's push times it is not the submission; a tag names a push as well as a sha."""
    shas = repository(tmp_path, "ps1-ann", [(write_notebook(tmp_path, "a"), WELL_BEFORE),
                                            (write_notebook(tmp_path, "b"), BEFORE)])
    git(tmp_path / "ps1-ann", "tag", "submit/1", shas[0])
    by_commit = collect(tmp_path, {"ann": "s1"}, parse_time(DUE))
    assert by_commit.picks[0].commit == shas[1]  # the forged date wins without push times
    pushes = tmp_path / "pushes.csv"
    pushes.write_text("username,submission_tag,pushed_at\n"
                      f"Ann,submit/1,2026-10-02T10:00:00Z\n"
                      f"ann,{shas[1]},2026-10-06T08:00:00Z\n"
                      "ann,not-a-ref,2026-10-03T08:00:00Z\n")  # fmt: skip
    by_push = collect(tmp_path, {"ann": "s1"}, parse_time(DUE), push_times=read_push_times(pushes))
    (pick,) = by_push.picks
    assert (pick.status, pick.commit, pick.time_source) == (COLLECTED, shas[0], "push time")
    assert pick.time == datetime(2026, 10, 2, 10, tzinfo=UTC)
    late = collect(tmp_path, {"ann": "s1"}, parse_time("2026-10-01T00:00:00Z"),
                   push_times=read_push_times(pushes))  # fmt: skip
    assert late.picks[0].status == NO_COMMIT and late.picks[0].commit == ""


def test_an_extension_moves_the_deadline_by_its_days(tmp_path):
    shas = repository(tmp_path, "ps1-ann", [(write_notebook(tmp_path, "a"), BEFORE),
                                            (write_notebook(tmp_path, "b"), AFTER)])
    due = parse_time(DUE)
    assert collect(tmp_path, {"ann": "s1"}, due).picks[0].commit == shas[0]
    assert collect(tmp_path, {"ann": "s1"}, due, {"s1": 1.0}).picks[0].commit == shas[0]
    assert collect(tmp_path, {"ann": "s1"}, due, {"s1": 2.0}).picks[0].commit == shas[1]


def test_the_gradebook_gives_the_roster_due_date_and_extensions(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    (tmp_path / "due.csv").write_text(f"name,due\n{PS1},{DUE}\nps2-backprop,\n")
    db = str(tmp_path / "gradebook.db")
    with Gradebook(db) as book:
        book.import_roster(roster)
        book.import_assignments(tmp_path / "due.csv")
        book.extend("s02", PS1, 2, "prof", "medical")
        book.extend("s02", PS1, 3, "prof", "longer")
    usernames, due, extensions = course_from_gradebook(db, PS1)
    assert usernames == {"ann-gh": "s01", "Bobby": "s02", "cat": "s03", "dan": "s04"}
    assert due == parse_time(DUE)
    assert extensions == {"s02": 3.0}
    assert course_from_gradebook(db, "ps2-backprop")[1] is None


def test_collect_needs_a_roster_and_a_due_date(tmp_path):
    result = CliRunner().invoke(main, ["collect", PS1, str(tmp_path), "--out", str(tmp_path)])
    assert result.exit_code != 0 and "--roster and --due" in result.output
