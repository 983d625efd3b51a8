"""Shared fixtures: each problem set built once per test session into a temporary course folder,
so that tests never depend on (or write to) the repository's own assignments/ and dist/, and
each problem set's declared variants graded once per engine.

For every problem set there are three fixtures: ``psN_built`` (the ProblemSet and its
BuildResult), ``psN_solution`` (the solution notebook, as a student would submit it) and
``psN_zip`` (the autograder zip with every test). ``built_problem_set(name)`` builds any
problem set by name, once.

``variant_gradings.get(ps, engine)`` grades, in one batch of two workers, the solution, the
blank release and every entry of the problem set's ``mistakes.yaml`` and ``alternatives.yaml``
with one engine, once per session, and gives back every results.json. The specification
(``test_problem_sets.py``) and the problem sets' own tests read the same gradings.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from background_gradings import Batch, grade_in_background
from student_side import run_release, with_solution_answers

from autograder.build import BuildResult, build_problem_set
from autograder.engine.test_files import load_questions
from autograder.mistakes import apply_mistake, load_alternatives, load_mistakes
from autograder.problem_sets import ProblemSet, find_problem_sets
from nnkit.mnist import course_data_dir

REPO = Path(__file__).resolve().parents[1]
PS1 = "ps1-perceptron"
PS2 = "ps2-backprop"
PS3 = "ps3-keras-mnist"
PS4 = "ps4-network-design"
WORKERS = 2  # the cores of the machine the suite is sized for

Built = tuple[ProblemSet, BuildResult]


def _build(tmp_path_factory: pytest.TempPathFactory, name: str) -> Built:
    root = tmp_path_factory.mktemp(f"course-{name}")
    shutil.copytree(REPO / "solutions" / name, root / "solutions" / name)
    (root / "pyproject.toml").write_text("")
    (ps,) = find_problem_sets(root, [name])
    # The solution's own test run is left to the specification, which grades the solution
    # under every engine (test_problem_sets.py); tests/test_build.py covers the build's.
    return ps, build_problem_set(ps, run_solution=False)


@pytest.fixture(scope="session")
def built_problem_set(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Built]:
    """``built_problem_set(name)``: the problem set built once per session."""
    cache: dict[str, Built] = {}

    def get(name: str) -> Built:
        if name not in cache:
            cache[name] = _build(tmp_path_factory, name)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def ps1_built(built_problem_set) -> Built:
    return built_problem_set(PS1)


@pytest.fixture(scope="session")
def ps1_solution(ps1_built) -> Path:
    return ps1_built[0].solution_notebook


@pytest.fixture(scope="session")
def ps1_zip(ps1_built) -> Path:
    return ps1_built[1].autograder_zip


@pytest.fixture(scope="session")
def ps2_built(built_problem_set) -> Built:
    return built_problem_set(PS2)


@pytest.fixture(scope="session")
def ps2_solution(ps2_built) -> Path:
    return ps2_built[0].solution_notebook


@pytest.fixture(scope="session")
def ps2_zip(ps2_built) -> Path:
    return ps2_built[1].autograder_zip


@pytest.fixture(scope="session")
def ps3_built(built_problem_set) -> Built:
    return built_problem_set(PS3)


@pytest.fixture(scope="session")
def ps3_solution(ps3_built) -> Path:
    return ps3_built[0].solution_notebook


@pytest.fixture(scope="session")
def ps3_zip(ps3_built) -> Path:
    return ps3_built[1].autograder_zip


@pytest.fixture(scope="session")
def ps3_student_folder(ps3_built, ps3_solution, tmp_path_factory) -> Path:
    """Problem set 3's release with the solution's answers, run as a student runs it (public
    checks, no grader packages): the executed notebook, saved with the ``.keras`` files its
    training cells wrote next to it. Trained once per session: ``test_ps3.py`` grades that
    folder, and the classroom template's run of the solution loads its models (the template's
    notebook loads a model file it finds, as a student's second run does)."""
    ps, _ = ps3_built
    folder = tmp_path_factory.mktemp("ps3-student")
    ran = run_release(ps, folder, with_solution_answers(ps, ps3_solution))
    nbformat.write(ran, folder / f"{PS3}.ipynb")
    return folder


# ------------------------------------------------------------------ every variant, graded once

SOLUTION = "solution"
BLANK = "blank"


def mistake_student(name: str) -> str:
    """The student id under which the mistake ``name`` is graded."""
    return f"mistake-{name}"


def alternative_student(name: str) -> str:
    """The student id under which the alternative ``name`` is graded."""
    return f"alternative-{name}"


@dataclass
class VariantGrading:
    """One engine's grading of one problem set's variants: ``results[student]`` is that
    student's results.json; ``full`` the autograded points of each question."""

    ps: ProblemSet
    engine: str
    out: Path
    full: dict[str, float]
    results: dict[str, dict] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.full.values())


#: (problem set, engine) batches that leave the alternatives out, and why; they grade the
#: solution, the blank and every mistake. An alternative tests the hidden checks' tolerance,
#: which depends on how an answer reaches them: through the sandbox's data-only codec
#: (nngrade) or as the live object in the student's process (otter and nbgrader alike). So
#: every alternative is graded under nngrade, and under otter where its training is cheap
#: enough; nbgrader grades problem set 1's. Each alternative of problem sets 2 to 4 trains as
#: the solution does (problem set 3's about a minute of CPU on MNIST, problem set 4's about
#: 15 s with TensorFlow's start, problem set 2's NumPy network about 6 s), which keeps the
#: whole suite within its time on 2 cores.
ALTERNATIVES_LEFT_OUT: dict[tuple[str, str], str] = {
    (PS2, "nbgrader"): "graded under nngrade and otter",
    (PS3, "otter"): "each alternative retrains MNIST; graded under nngrade",
    (PS3, "nbgrader"): "each alternative retrains MNIST; graded under nngrade",
    (PS4, "nbgrader"): "each alternative starts TensorFlow and trains; graded under nngrade "
                       "and otter",
}


#: The (problem set, engine) batches left to ``make test-slow`` (``pytest -m slow``): problem
#: set 3's under every engine, whose notebooks train on full MNIST, and every problem set but
#: the first under otter and nbgrader. ``make test`` grades every variant of every problem set
#: under nngrade and problem set 1's under all three engines, which exercises each engine's
#: adapter end to end; CI runs both tiers, so every case of the specification still runs.
FAST_UNDER_EVERY_ENGINE = {PS1}
TRAINS_ON_MNIST = {PS3}


def slow_grading(ps_name: str, engine: str) -> bool:
    """Whether the (problem set, engine) batch belongs to the slow tier (see above)."""
    return ps_name in TRAINS_ON_MNIST or (
        engine != "nngrade" and ps_name not in FAST_UNDER_EVERY_ENGINE)


def write_variants(ps: ProblemSet, folder: Path, alternatives: bool = True) -> list[str]:
    """The solution, the blank release, and every declared mistake and alternative (unless
    not ``alternatives``), one notebook each in ``folder``; returns the student ids."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ps.solution_notebook, folder / f"{SOLUTION}.ipynb")
    shutil.copy(ps.student_notebook, folder / f"{BLANK}.ipynb")
    solution = nbformat.read(ps.solution_notebook, as_version=4)
    students = [SOLUTION, BLANK]
    for student, entry in [
        *((mistake_student(m.name), m) for m in load_mistakes(ps)),
        *((alternative_student(a.name), a) for a in (load_alternatives(ps) if alternatives
                                                     else [])),
    ]:
        nbformat.write(apply_mistake(solution, entry), folder / f"{student}.ipynb")
        students.append(student)
    return students


class VariantGradings:
    """Grades each (problem set, engine) once: in the background process when the session
    prefetched it (:mod:`background_gradings`), else on first use; a failure is kept and
    raised again to every test that asks, so a broken batch is never graded twice."""

    def __init__(self, built: Callable[[str], Built], tmp: pytest.TempPathFactory) -> None:
        self._built = built
        self._tmp = tmp
        self._batches: dict[tuple[str, str], tuple[Batch, list[str]]] = {}
        self._done: dict[tuple[str, str], VariantGrading | BaseException] = {}
        self._background: multiprocessing.process.BaseProcess | None = None

    def _batch(self, ps_name: str, engine: str) -> tuple[Batch, list[str]]:
        key = (ps_name, engine)
        if key not in self._batches:
            ps, build = self._built(ps_name)
            submissions = self._tmp.mktemp(f"{ps_name}-variants-{engine}")
            students = write_variants(ps, submissions,
                                      alternatives=key not in ALTERNATIVES_LEFT_OUT)
            out = self._tmp.mktemp(f"{ps_name}-results-{engine}")
            batch = Batch(str(ps.root), ps_name, str(build.autograder_zip), str(submissions),
                          str(out), engine, WORKERS, str(course_data_dir()))
            self._batches[key] = (batch, students)
        return self._batches[key]

    def prefetch(self, keys: list[tuple[str, str]]) -> None:
        """Start grading ``keys``, in this order, in a spawned process of their own."""
        batches = [self._batch(*key)[0] for key in keys]
        if batches and self._background is None:
            context = multiprocessing.get_context("spawn")
            self._background = context.Process(
                target=grade_in_background, args=(batches,), name="variant-gradings")
            self._background.start()

    def close(self) -> None:
        if self._background is not None and self._background.is_alive():
            self._background.kill()
            self._background.join()

    def get(self, ps_name: str, engine: str) -> VariantGrading:
        key = (ps_name, engine)
        if key not in self._done:
            try:
                self._done[key] = self._grade(ps_name, engine)
            except Exception as error:  # kept: every later test reports the same failure
                self._done[key] = error
        done = self._done[key]
        if isinstance(done, BaseException):
            raise done
        return done

    def _grade(self, ps_name: str, engine: str) -> VariantGrading:
        batch, students = self._batch(ps_name, engine)
        if batch.claim():
            status = batch.grade()
        else:  # the background process has it
            background = self._background
            status = batch.wait(alive=lambda: background is not None and background.is_alive())
        assert "error" not in status, status["error"]
        assert not status["failed"], status["failed"]
        ps, build = self._built(ps_name)
        full = {q.name: q.points for q in load_questions(build.autograder_zip)}
        grading = VariantGrading(ps, engine, Path(batch.out), full)
        for student in students:
            document = Path(batch.out) / student / "results.json"
            grading.results[student] = json.loads(document.read_text())
        return grading


@pytest.fixture(scope="session")
def variant_gradings(built_problem_set, tmp_path_factory, request) -> VariantGradings:
    """Every (problem set, engine) batch the session's tests will read, started at once in
    the background, the slowest first (see :mod:`background_gradings`)."""
    gradings = VariantGradings(built_problem_set, tmp_path_factory)
    gradings.prefetch(sorted(_needed_gradings(request.session.items), key=_slowest_first))
    yield gradings
    gradings.close()


@pytest.fixture(scope="session", autouse=True)
def _variant_gradings_start_early(request):
    """Sessions that read variant gradings start them before their first test runs."""
    if _needed_gradings(request.session.items):
        request.getfixturevalue("variant_gradings")


def _needed_gradings(items: list[pytest.Item]) -> set[tuple[str, str]]:
    """The (problem set, engine) batches the tests read: a ``grading`` parameter of the
    specification, or the nngrade batch of the problem set (``PS``) of a module whose tests
    use ``variant_gradings`` directly."""
    needed = set()
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "grading" in params:
            needed.add(tuple(params["grading"]))
        elif "variant_gradings" in getattr(item, "fixturenames", ()):
            module_ps = getattr(getattr(item, "module", None), "PS", None)
            if module_ps:
                needed.add((module_ps, "nngrade"))
    return needed


def _slowest_first(key: tuple[str, str]) -> tuple[int, int]:
    ps_name, engine = key
    order = [PS3, PS4, PS2, PS1]
    engines = ["otter", "nbgrader", "nngrade"]
    return (order.index(ps_name) if ps_name in order else len(order),
            engines.index(engine) if engine in engines else len(engines))
