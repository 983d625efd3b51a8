"""Shared fixtures: problem sets 1 and 2 built once per test session into temporary course
folders, so that tests never depend on (or write to) the repository's own assignments/ and
dist/."""

import shutil
from pathlib import Path

import pytest

from autograder.build import build_problem_set
from autograder.problem_sets import find_problem_sets

REPO = Path(__file__).resolve().parents[1]
PS1 = "ps1-perceptron"
PS2 = "ps2-backprop"


@pytest.fixture(scope="session")
def ps1_built(tmp_path_factory):
    """(ProblemSet, BuildResult) for problem set 1 built in a temporary copy of the layout."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO / "solutions" / PS1, root / "solutions" / PS1)
    (root / "pyproject.toml").write_text("")
    (ps,) = find_problem_sets(root, [PS1])
    return ps, build_problem_set(ps)


@pytest.fixture(scope="session")
def ps1_solution(ps1_built) -> Path:
    """The solution notebook (all answers, as a student would submit it)."""
    ps, _ = ps1_built
    return ps.dist_dir / "autograder" / f"{PS1}.ipynb"


@pytest.fixture(scope="session")
def ps1_zip(ps1_built) -> Path:
    return ps1_built[1].autograder_zip


@pytest.fixture(scope="session")
def ps2_built(tmp_path_factory):
    """(ProblemSet, BuildResult) for problem set 2 built in a temporary copy of the layout."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO / "solutions" / PS2, root / "solutions" / PS2)
    (root / "pyproject.toml").write_text("")
    (ps,) = find_problem_sets(root, [PS2])
    return ps, build_problem_set(ps)


@pytest.fixture(scope="session")
def ps2_solution(ps2_built) -> Path:
    """The solution notebook (all answers, as a student would submit it)."""
    ps, _ = ps2_built
    return ps.dist_dir / "autograder" / f"{PS2}.ipynb"


@pytest.fixture(scope="session")
def ps2_zip(ps2_built) -> Path:
    return ps2_built[1].autograder_zip
