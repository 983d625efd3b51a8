"""What every problem set guarantees, under every grading engine.

For each problem set in ``solutions/`` and each engine in ``autograder/engine/registry.py``:

* the solution gets every autograded point, question by question;
* the blank release, as handed out, gets zero on every question;
* each mistake declared in ``mistakes.yaml`` loses exactly the points it declares, on exactly
  the questions it declares, and nothing else;
* each alternative declared in ``alternatives.yaml`` gets full marks.

The cases come from the files: a new problem set, a new engine or a new yaml entry is a new
case without touching this module. Each (problem set, engine) is graded once, in one batch of
two workers (``variant_gradings`` in ``conftest.py``); the tests read its results.json files.

Where an engine cannot honour a guarantee for a variant, the case is listed by name in
``ENGINE_LIMITATIONS`` with the reason, and expected to fail (strictly: if the engine starts
honouring it, the listing must go). The batches of ``ALTERNATIVES_LEFT_OUT`` (``conftest.py``:
problem sets 2 to 4 under nbgrader and problem set 3 under otter, whose alternatives each
train a network) grade the solution, the blank and every mistake; every alternative is
graded under nngrade, and all but problem set 3's under otter as well.

The cases of the batches ``slow_grading`` names (``conftest.py``: problem set 3 under every
engine, the other problem sets but the first under otter and nbgrader) are marked ``slow``:
``make test`` leaves them to ``make test-slow``, and CI runs both.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import (
    ALTERNATIVES_LEFT_OUT,
    BLANK,
    SOLUTION,
    VariantGrading,
    alternative_student,
    mistake_student,
    slow_grading,
)

from autograder.engine.registry import ENGINES
from autograder.engine.test_files import load_questions
from autograder.mistakes import Mistake, apply_mistake, load_alternatives, load_mistakes
from autograder.problem_sets import ProblemSet, find_problem_sets

REPO = Path(__file__).resolve().parents[1]
PROBLEM_SETS: list[ProblemSet] = find_problem_sets(REPO)

#: (engine, problem set, variant) -> why that engine cannot give the guaranteed score.
ENGINE_LIMITATIONS: dict[tuple[str, str, str], str] = {}


def _marks(ps: ProblemSet, engine: str, variant: str = "") -> list[pytest.MarkDecorator]:
    marks = [pytest.mark.slow] if slow_grading(ps.name, engine) else []
    reason = ENGINE_LIMITATIONS.get((engine, ps.name, variant))
    if reason:
        marks.append(pytest.mark.xfail(reason=reason, strict=True))
    return marks


def _gradings() -> list:
    return [
        pytest.param((ps.name, engine), id=f"{ps.name}-{engine}", marks=_marks(ps, engine))
        for ps in PROBLEM_SETS
        for engine in ENGINES
    ]


def _entries(load) -> list:
    return [
        pytest.param(
            (ps.name, engine), entry, id=f"{ps.name}-{engine}-{entry.name}",
            marks=_marks(ps, engine, entry.name),
        )  # fmt: skip
        for ps in PROBLEM_SETS
        for engine in ENGINES
        for entry in load(ps)
        if load is not load_alternatives or (ps.name, engine) not in ALTERNATIVES_LEFT_OUT
    ]


@pytest.fixture
def grading(request, variant_gradings) -> VariantGrading:
    """The (problem set, engine) grading of every variant; the batch runs on first use."""
    ps_name, engine = request.param
    return variant_gradings.get(ps_name, engine)


def question_scores(document: dict) -> dict[str, float]:
    return document["extra_data"]["questions"]


def failures(document: dict) -> list[str]:
    """What a failed test told the student, to explain an assertion."""
    return [f"{t['name']}: {t['output']}" for t in document["tests"] if t["status"] != "passed"]


def points_lost(grading: VariantGrading, document: dict) -> dict[str, float]:
    """The points a submission lost, per question where it lost any."""
    scores = question_scores(document)
    assert set(scores) == set(grading.full), "every autograded question is scored"
    return {q: grading.full[q] - scores[q] for q in grading.full if scores[q] != grading.full[q]}


# ------------------------------------------------------------------ the declarations


@pytest.mark.parametrize("ps", PROBLEM_SETS, ids=lambda ps: ps.name)
def test_declared_edits_apply_once_and_change_the_solution(ps: ProblemSet, built_problem_set):
    """Every mistake and alternative edits text that occurs exactly once in the solution
    (``apply_mistake`` raises otherwise), and changes it."""
    built, _ = built_problem_set(ps.name)
    solution = nbformat.read(built.solution_notebook, as_version=4)
    for entry in [*load_mistakes(ps), *load_alternatives(ps)]:
        assert apply_mistake(solution, entry) != solution, entry.name


@pytest.mark.parametrize("ps", PROBLEM_SETS, ids=lambda ps: ps.name)
def test_declared_losses_are_possible(ps: ProblemSet, built_problem_set):
    """A mistake loses something, only on autograded questions, and never more than a
    question is worth."""
    _, build = built_problem_set(ps.name)
    full = {q.name: q.points for q in load_questions(build.autograder_zip)}
    for mistake in load_mistakes(ps):
        assert mistake.loses, f"{mistake.name} declares no loss: it belongs in alternatives.yaml"
        for question, points in mistake.loses.items():
            assert question in full, f"{mistake.name}: {question} is not autograded"
            assert 0 < points <= full[question], f"{mistake.name}: {question} loses {points}"


# ------------------------------------------------------------------ what grading guarantees


@pytest.mark.parametrize("grading", _gradings(), indirect=True)
def test_solution_gets_full_marks(grading: VariantGrading):
    document = grading.results[SOLUTION]
    assert document["extra_data"]["engine"] == grading.engine
    assert document["extra_data"]["status"] == "graded"
    assert points_lost(grading, document) == {}, failures(document)
    assert document["score"] == grading.total
    assert sum(t["max_score"] for t in document["tests"]) == grading.total


@pytest.mark.parametrize("grading", _gradings(), indirect=True)
def test_blank_release_scores_zero_on_every_question(grading: VariantGrading):
    scores = question_scores(grading.results[BLANK])
    assert set(scores) == set(grading.full)
    assert all(score == 0 for score in scores.values()), scores


@pytest.mark.parametrize(("grading", "mistake"), _entries(load_mistakes), indirect=["grading"])
def test_mistake_loses_exactly_its_declared_points(grading: VariantGrading, mistake: Mistake):
    document = grading.results[mistake_student(mistake.name)]
    assert points_lost(grading, document) == mistake.loses, failures(document)
    assert document["score"] == grading.total - mistake.points_lost


@pytest.mark.parametrize(
    ("grading", "alternative"), _entries(load_alternatives), indirect=["grading"]
)
def test_alternative_gets_full_marks(grading: VariantGrading, alternative: Mistake):
    document = grading.results[alternative_student(alternative.name)]
    assert points_lost(grading, document) == {}, failures(document)
    assert document["score"] == grading.total
