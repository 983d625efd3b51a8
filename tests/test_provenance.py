"""``solutions_commit``: every result names the commit of the problem set's master it was
graded with, ``"dirty"`` when the master in the working tree is not that commit, and nothing
when the master is not in a git repository."""

import subprocess
from pathlib import Path

import pytest

from autograder.engine.provenance import DIRTY, solutions_commit


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=Instructor", "-c", "user.email=i@example.org",
               "-c", "commit.gpgsign=false", "-C", str(repo), *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A course repository with one committed master, then a later commit elsewhere."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never a repo above it
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    root = tmp_path / "course"
    master = root / "solutions" / "ps1" / "ps1.py"
    master.parent.mkdir(parents=True)
    master.write_text("# the master\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "ps1")
    (root / "README.md").write_text("later\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "unrelated")
    return root, master


def test_a_committed_master_gives_the_last_commit_that_touched_it(repo):
    root, master = repo
    expected = git(root, "log", "-1", "--format=%H", "--", "solutions/ps1/ps1.py")
    assert expected != git(root, "rev-parse", "HEAD")  # not HEAD: the master's own commit
    assert solutions_commit(master) == expected
    assert len(expected) == 40


def test_a_master_edited_in_the_working_tree_is_dirty(repo):
    _, master = repo
    master.write_text("# the master, edited\n")
    assert solutions_commit(master) == DIRTY == "dirty"


def test_a_master_edited_and_staged_but_not_committed_is_dirty(repo):
    root, master = repo
    master.write_text("# staged\n")
    git(root, "add", str(master))
    assert solutions_commit(master) == DIRTY


def test_an_untracked_master_is_dirty(repo):
    root, _ = repo
    new = root / "solutions" / "ps2" / "ps2.py"
    new.parent.mkdir()
    new.write_text("# never committed\n")
    assert solutions_commit(new) == DIRTY


def test_a_master_outside_any_git_repository_has_no_commit(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    master = tmp_path / "solutions" / "ps1" / "ps1.py"
    master.parent.mkdir(parents=True)
    master.write_text("# not in git\n")
    assert solutions_commit(master) == ""
