"""Shared fixtures: problem set 1 built once per test session into a temporary course folder,
so that tests never depend on (or write to) the repository's own assignments/ and dist/."""

import shutil
from pathlib import Path

import pytest

from autograder.build import build_problem_set
from autograder.problem_sets import find_problem_sets

REPO = Path(__file__).resolve().parents[1]
PS1 = "ps1-perceptron"


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


PS3 = "ps3-keras-mnist"


@pytest.fixture(scope="session")
def ps3_built(tmp_path_factory):
    """(ProblemSet, BuildResult) for problem set 3 built in a temporary copy of the layout."""
    root = tmp_path_factory.mktemp("course3")
    shutil.copytree(REPO / "solutions" / PS3, root / "solutions" / PS3)
    (root / "pyproject.toml").write_text("")
    (ps,) = find_problem_sets(root, [PS3])
    return ps, build_problem_set(ps)


@pytest.fixture(scope="session")
def ps3_solution(ps3_built) -> Path:
    """The solution notebook of problem set 3 (all answers, as a student would submit it)."""
    ps, _ = ps3_built
    return ps.dist_dir / "autograder" / f"{PS3}.ipynb"


@pytest.fixture(scope="session")
def ps3_zip(ps3_built) -> Path:
    return ps3_built[1].autograder_zip
