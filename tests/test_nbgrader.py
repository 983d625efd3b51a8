"""nbgrader end to end: each problem set exported as an nbgrader assignment, released by
nbgrader's ``generate_assignment`` and graded by its ``autograde`` (``--engine nbgrader``).

The specification: the release holds no hidden test and no solution line; the solution
gets every autograded point, the blank none, every declared mistake loses exactly the points
``mistakes.yaml`` says (as under the nngrade and otter engines, which their own tests check)
and every alternative loses nothing. These run real nbgrader commands, one kernel each.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

from autograder.engine.job import Job, ProblemSetTests
from autograder.engine.registry import ENGINES, get_engine
from autograder.engine.sandbox import SandboxLimits
from autograder.mistakes import apply_mistake, load_alternatives, load_mistakes
from autograder.nbgrader_export import export_assignment, nbgrader_tests

AUTOGRADED = {"ps1-perceptron": 38, "ps2-backprop": 34}


def _grade(ps, zip_path: Path, notebook: Path) -> dict[str, float]:
    """Points lost per question when nbgrader grades ``notebook``."""
    engine = get_engine("nbgrader")
    tests = ProblemSetTests.from_zip(ps.name, zip_path)
    result = engine.grade(Job("student", notebook, tests), SandboxLimits(cell_timeout=60))
    lost: dict[str, float] = defaultdict(float)
    for test in result.tests:
        if test.max_score - test.score:
            lost[test.question] += test.max_score - test.score
    return dict(lost)


@pytest.fixture(scope="module", params=sorted(AUTOGRADED))
def built(request):
    return request.getfixturevalue(f"ps{request.param[2]}_built")


def test_the_engine_is_registered():
    assert "nbgrader" in ENGINES


def test_one_test_cell_per_test_function_and_the_release_hides_the_hidden(built, tmp_path):
    ps, result = built
    course = tmp_path / "course"
    notebook = export_assignment(ps.name, ps.solution_notebook, ps.master_notebook,
                                 result.autograder_zip, course, 30)
    nb = nbformat.read(notebook, as_version=4)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
           if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    every = [t.test.name for ts in nbgrader_tests(result.autograder_zip).values() for t in ts]
    assert ids == every

    from autograder.engine.nbgrader_engine import scratch_course

    scratch = scratch_course(ps.name, result.autograder_zip, "release-check", 30)
    release = nbformat.read(scratch.root / "release" / ps.name / f"{ps.name}.ipynb", 4)
    text = "\n".join(c.source for c in release.cells)
    hidden = [t.test.name for ts in nbgrader_tests(result.autograder_zip).values()
              for t in ts if t.test.hidden]
    assert hidden and not any(name in text for name in hidden)
    assert "BEGIN SOLUTION" not in text and "reference_impl" not in text
    assert not list((scratch.root / "release").rglob("*_checks.py"))
    solution = nbformat.read(ps.solution_notebook, 4)
    for line in ("return 2.0 * (np.asarray(p", "or_table = complete", "q2c_answer = {"):
        if any(line in c.source for c in solution.cells):
            assert line not in text


def test_solution_gets_every_autograded_point_and_the_blank_none(built):
    ps, result = built
    assert _grade(ps, result.autograder_zip, ps.solution_notebook) == {}
    blank = _grade(ps, result.autograder_zip, ps.student_notebook)
    assert sum(blank.values()) == AUTOGRADED[ps.name]


def test_every_declared_mistake_loses_its_points_and_alternatives_nothing(built, tmp_path):
    ps, result = built
    solution = nbformat.read(ps.solution_notebook, as_version=4)
    got, expected = {}, {}
    for entries in (load_mistakes(ps), load_alternatives(ps)):
        for entry in entries:
            path = tmp_path / f"{entry.name}.ipynb"
            nbformat.write(apply_mistake(solution, entry), path)
            got[entry.name] = _grade(ps, result.autograder_zip, path)
            expected[entry.name] = {q: p for q, p in entry.loses.items() if p}
    assert got == expected
