"""Shared fixtures: each problem set built once per test session into a temporary course folder,
so that tests never depend on (or write to) the repository's own assignments/ and dist/.

For every problem set there are three fixtures: ``psN_built`` (the ProblemSet and its
BuildResult), ``psN_solution`` (the solution notebook, as a student would submit it) and
``psN_zip`` (the autograder zip with every test).
"""

import shutil
from pathlib import Path

import pytest

from autograder.build import build_problem_set
from autograder.problem_sets import find_problem_sets

REPO = Path(__file__).resolve().parents[1]
PS1 = "ps1-perceptron"
PS2 = "ps2-backprop"
PS3 = "ps3-keras-mnist"


def _build(tmp_path_factory, name: str):
    root = tmp_path_factory.mktemp(f"course-{name}")
    shutil.copytree(REPO / "solutions" / name, root / "solutions" / name)
    (root / "pyproject.toml").write_text("")
    (ps,) = find_problem_sets(root, [name])
    return ps, build_problem_set(ps)


def _solution(built) -> Path:
    ps, _ = built
    return ps.solution_notebook


@pytest.fixture(scope="session")
def ps1_built(tmp_path_factory):
    return _build(tmp_path_factory, PS1)


@pytest.fixture(scope="session")
def ps1_solution(ps1_built) -> Path:
    return _solution(ps1_built)


@pytest.fixture(scope="session")
def ps1_zip(ps1_built) -> Path:
    return ps1_built[1].autograder_zip


@pytest.fixture(scope="session")
def ps2_built(tmp_path_factory):
    return _build(tmp_path_factory, PS2)


@pytest.fixture(scope="session")
def ps2_solution(ps2_built) -> Path:
    return _solution(ps2_built)


@pytest.fixture(scope="session")
def ps2_zip(ps2_built) -> Path:
    return ps2_built[1].autograder_zip


@pytest.fixture(scope="session")
def ps3_built(tmp_path_factory):
    return _build(tmp_path_factory, PS3)


@pytest.fixture(scope="session")
def ps3_solution(ps3_built) -> Path:
    return _solution(ps3_built)


@pytest.fixture(scope="session")
def ps3_zip(ps3_built) -> Path:
    return ps3_built[1].autograder_zip
