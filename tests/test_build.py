"""``nngrade build``: otter assign on a master, a deterministic student release, leak checks.

Everything runs on the small problem set in ``tests/fixtures/ps-demo``, copied into a
temporary checkout, so these tests do not depend on the course's own problem sets. otter
assign takes a few seconds per build, so builds are shared through module-scoped fixtures;
tests that change files work on a copy of the built checkout.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import click
import nbformat
import pytest
from click.testing import CliRunner

from autograder.build import build_problem_set
from autograder.cli import main
from autograder.errors import BuildError, ConfigError, NngradeError, ProblemSetNotFound
from autograder.leak_checks import check_student_release, declares_hidden, solution_lines
from autograder.notebooks import read_master
from autograder.problem_sets import find_problem_sets, grading_limits, repo_root

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "ps-demo"
FIXTURE = FIXTURE_DIR / "ps-demo.py"
NAME = "ps-demo"
CHECKS = "ps_demo_checks.py"
STUDENT_NB = f"assignments/{NAME}/{NAME}.ipynb"
AUTOGRADER_ZIP = f"dist/{NAME}/autograder/{NAME}-autograder.zip"


def make_checkout(root: Path, master_text: str | None = None) -> Path:
    """A minimal course checkout: a pyproject stub and a copy of the problem set's folder,
    solutions/ps-demo/ (its master, optionally replaced by ``master_text``, and its checks)."""
    folder = root / "solutions" / NAME
    shutil.copytree(FIXTURE_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    if master_text is not None:
        (folder / f"{NAME}.py").write_text(master_text, encoding="utf-8")
    (root / "pyproject.toml").write_text('[project]\nname = "course"\n', encoding="utf-8")
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def nngrade(root: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"NNGRADE_ROOT": str(root)})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A checkout built once through the Python API."""
    root = make_checkout(tmp_path_factory.mktemp("course"))
    [ps] = find_problem_sets(root)
    result = build_problem_set(ps)
    return root, ps, result, snapshot(root / "assignments")


@pytest.fixture(scope="module")
def rebuilt(built):
    """The same checkout built a second time, through the command line."""
    root = built[0]
    return nngrade(root, "build", NAME), snapshot(root / "assignments")


@pytest.fixture
def copy_of_built(built, rebuilt, tmp_path):
    """A private copy of the built checkout, in another place, for tests that change files."""
    copy = tmp_path / "elsewhere"
    shutil.copytree(built[0], copy)
    [ps] = find_problem_sets(copy)
    return copy, ps


def student_notebook(root: Path) -> nbformat.NotebookNode:
    return nbformat.read(root / STUDENT_NB, as_version=4)


# ------------------------------------------------------------------------------- the build


def test_build_writes_the_student_notebook_and_the_autograder_zip(built):
    root, ps, result, _ = built
    assert result.student_files == [root / STUDENT_NB]
    assert result.autograder_zip == root / AUTOGRADER_ZIP
    assert result.stale == []
    # The student release holds the notebook and nothing else.
    assert [p.name for p in ps.assignment_dir.iterdir()] == [f"{NAME}.ipynb"]
    # dist: otter's autograder folder under stable names, and the converted master.
    autograder = root / "dist" / NAME / "autograder"
    assert sorted(p.name for p in autograder.iterdir()) == sorted(
        [f"{NAME}-autograder.zip", f"{NAME}.ipynb", "otter_config.json", CHECKS]
    )
    assert (root / "dist" / NAME / "master" / f"{NAME}.ipynb").is_file()
    with zipfile.ZipFile(root / AUTOGRADER_ZIP) as zf:
        tests = {n: zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/")}
        shipped = zf.read(f"files/{CHECKS}")
    assert set(tests) == {"tests/q1.py", "tests/q2.py"}
    assert "def test_sigmoid_unseen_inputs" in tests["tests/q1.py"]
    assert "hidden=True" in tests["tests/q1.py"]
    # The problem set's checks module travels in the zip, byte for byte, for the hidden tests.
    assert "from ps_demo_checks import check_sigmoid" in tests["tests/q1.py"]
    assert shipped == (FIXTURE_DIR / CHECKS).read_bytes()
    # No staging folder is left behind.
    assert not [p for p in (root / "assignments").iterdir() if p.name.startswith(".")]
    assert not [p for p in (root / "dist").iterdir() if p.name.startswith(".")]


def test_a_second_build_is_byte_identical(built, rebuilt):
    result, second = rebuilt
    assert result.exit_code == 0, result.output
    assert f"{NAME}: wrote {STUDENT_NB}" in result.output
    assert f"{NAME}: wrote {AUTOGRADER_ZIP}" in result.output
    assert second == built[3]


def test_the_student_notebook_is_normalised(built):
    nb = student_notebook(built[0])
    assert set(nb.metadata) == {"kernelspec", "otter"}
    assert nb.nbformat == 4 and nb.nbformat_minor == 5
    for cell in nb.cells:
        assert re.fullmatch(r"c\d{2}-[0-9a-f]{8}", cell.id)
        assert set(cell.metadata) <= {"deletable", "editable", "tags"}
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert len({cell.id for cell in nb.cells}) == len(nb.cells)
    text = (built[0] / STUDENT_NB).read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_student_notebook_has_public_tests_only_and_no_solution(built):
    root = built[0]
    nb = student_notebook(root)
    tests = nb.metadata["otter"]["tests"]
    assert set(tests) == {"q1", "q2"}
    assert "def test_sigmoid_at_zero(sigmoid)" in tests["q1"]
    assert "def test_p_zero(p_zero)" in tests["q2"]
    assert not any(declares_hidden(source) for source in tests.values())

    text = (root / STUDENT_NB).read_text(encoding="utf-8")
    for leak in (
        "test_sigmoid_unseen_inputs",
        "ps_demo_checks",
        "check_sigmoid",
        "reference_impl",
        "hidden=True",
        "np.exp(-z)",
        "p_zero = 0.5",
        "SOLUTION",
    ):
        assert leak not in text
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert "def sigmoid(z):\n    ..." in sources
    assert "p_zero = ..." in sources


# ------------------------------------------------------------------------------ --check


def test_check_passes_right_after_a_build(built, rebuilt):
    root, ps, _, _ = built
    assert build_problem_set(ps, check=True).stale == []
    result = nngrade(root, "build", "--check")
    assert result.exit_code == 0, result.output
    assert f"{NAME}: assignments/{NAME}/ is up to date" in result.output


def test_check_fails_after_the_master_changes(copy_of_built):
    root, ps = copy_of_built
    # The release does not depend on where the checkout is.
    assert build_problem_set(ps, check=True).stale == []

    before = snapshot(root / "assignments")
    master = ps.master.read_text(encoding="utf-8")
    edited = master.replace("Used by the test suite", "Used by the tests", 1)
    assert edited != master
    ps.master.write_text(edited, encoding="utf-8")

    result = nngrade(root, "build", "--check", NAME)
    assert result.exit_code == 1
    assert f"{STUDENT_NB} (differs)" in result.output
    assert f"run: nngrade build {NAME}" in result.output
    assert snapshot(root / "assignments") == before  # a check writes nothing


@pytest.mark.parametrize("change", ["edited", "extra", "missing"])
def test_check_fails_after_the_release_is_touched_by_hand(copy_of_built, change):
    root, ps = copy_of_built
    notebook = root / STUDENT_NB
    if change == "edited":
        nb = nbformat.read(notebook, as_version=4)
        nb.cells[1].source += "\n\nA note added by hand."
        nbformat.write(nb, notebook)
        expected = f"{STUDENT_NB} (differs)"
    elif change == "extra":
        (ps.assignment_dir / "notes.txt").write_text("scratch\n", encoding="utf-8")
        expected = f"assignments/{NAME}/notes.txt (extra)"
    else:
        notebook.unlink()
        expected = f"{STUDENT_NB} (missing)"
    # Git-ignored editor folders never make the release stale.
    (ps.assignment_dir / ".ipynb_checkpoints").mkdir(exist_ok=True)
    (ps.assignment_dir / ".ipynb_checkpoints" / "x.ipynb").write_text("{}", encoding="utf-8")

    assert build_problem_set(ps, check=True).stale == [expected]
    result = nngrade(root, "build", "--check")
    assert result.exit_code == 1
    assert expected in result.output


# ------------------------------------------------------------------------- failing builds


def test_a_master_whose_solution_fails_its_public_test_does_not_build(tmp_path):
    broken = FIXTURE.read_text(encoding="utf-8").replace(
        "return 1.0 / (1.0 + np.exp(-z))", "return 1.0 / (2.0 + np.exp(-z))"
    )
    assert broken != FIXTURE.read_text(encoding="utf-8")
    root = make_checkout(tmp_path, broken)

    result = nngrade(root, "build", NAME)
    assert result.exit_code == 1
    assert "otter assign failed on solutions/ps-demo/ps-demo.py" in result.output
    assert "sigmoid(0) should be 0.5" in result.output  # otter's own report of the failure
    assert "Traceback" not in result.output
    assert not (root / "assignments").exists() and not (root / "dist").exists()

    # Without the solution's run the same master builds: the flag skips exactly that check.
    skipped = nngrade(root, "build", NAME, "--skip-solution-run")
    assert skipped.exit_code == 0, skipped.output
    assert (root / "dist" / NAME).is_dir() and (root / "assignments" / NAME).is_dir()


def test_a_leaking_release_is_refused(built, tmp_path):
    """Feed the safety check the autograder notebook, which has everything students must not."""
    root, ps, _, _ = built
    autograder = root / "dist" / NAME / "autograder"
    fake_release = tmp_path / "student"
    fake_release.mkdir()
    shutil.copy(autograder / f"{NAME}.ipynb", fake_release)

    shutil.copy(autograder / CHECKS, fake_release)

    with pytest.raises(BuildError) as error:
        check_student_release(ps, read_master(ps), fake_release, autograder)
    assert not isinstance(error.value, click.ClickException)  # library code knows no click
    message = str(error.value)
    assert "test 'q1' in the student release is marked hidden" in message
    assert "hidden test 'test_sigmoid_unseen_inputs' appears" in message
    assert "return 1.0 / (1.0 + np.exp(-z))" in message
    assert f"the checks module is in the student release: {CHECKS}" in message


def test_solution_lines_and_hidden_markers(tmp_path):
    [ps] = find_problem_sets(make_checkout(tmp_path))
    lines = solution_lines(read_master(ps))
    assert lines == {
        "z = np.asarray(z, dtype=float)",
        "return 1.0 / (1.0 + np.exp(-z))",
        "p_zero = 0.5",
    }
    assert declares_hidden("@test_case(points=2, hidden=True)\ndef t(): pass")
    assert declares_hidden({"suites": [{"cases": [{"code": "", "hidden": True}]}]})
    assert not declares_hidden("@test_case(points=1, hidden=False)\ndef t(): pass")


# -------------------------------------------------------------------------- the command line


def test_build_help():
    result = CliRunner().invoke(main, ["build", "--help"])
    assert result.exit_code == 0
    assert "Usage: main build [OPTIONS] [PS]..." in result.output
    assert "--check" in result.output


def test_an_unknown_problem_set_is_refused_with_the_list_of_available_ones(built):
    """The library raises ProblemSetNotFound; the command line shows its message alone."""
    result = nngrade(built[0], "build", "nonexistent")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: unknown problem set: nonexistent. Available: {NAME}\n"
    )
    assert isinstance(result.exception, SystemExit)  # click's clean exit, no traceback


def test_find_problem_sets(tmp_path, monkeypatch):
    for name in ("ps2-b", "ps1-a"):
        (tmp_path / "solutions" / name).mkdir(parents=True)
        (tmp_path / "solutions" / name / f"{name}.py").write_text("", encoding="utf-8")
    (tmp_path / "solutions" / "notes").mkdir()  # no notes/notes.py: not a problem set
    found = find_problem_sets(tmp_path)
    assert [ps.name for ps in found] == ["ps1-a", "ps2-b"]
    ps = found[0]
    assert ps.master == tmp_path / "solutions" / "ps1-a" / "ps1-a.py"
    assert ps.assignment_dir == tmp_path / "assignments" / "ps1-a"
    assert ps.dist_dir == tmp_path / "dist" / "ps1-a"
    assert ps.student_notebook == tmp_path / "assignments" / "ps1-a" / "ps1-a.ipynb"
    folder = tmp_path / "solutions" / "ps1-a"
    assert ps.folder == folder
    assert ps.mistakes == folder / "mistakes.yaml"
    assert ps.alternatives == folder / "alternatives.yaml"
    assert ps.grading_config == folder / "grading.yaml"
    assert ps.checks_module_name == "ps1_a_checks"
    assert ps.checks_module == folder / "ps1_a_checks.py"
    dist = tmp_path / "dist" / "ps1-a"
    assert ps.autograder_dir == dist / "autograder"
    assert ps.autograder_zip == dist / "autograder" / "ps1-a-autograder.zip"
    assert ps.solution_notebook == dist / "autograder" / "ps1-a.ipynb"
    assert ps.master_notebook == dist / "master" / "ps1-a.ipynb"
    assert not ps.is_built
    assert ps.relative(ps.master) == "solutions/ps1-a/ps1-a.py"
    assert find_problem_sets(tmp_path, ["solutions/ps2-b/", "ps2-b.py"]) == [found[1]]
    with pytest.raises(ProblemSetNotFound, match="Available: ps1-a, ps2-b"):
        find_problem_sets(tmp_path, ["ps1-a", "notes"])

    monkeypatch.setenv("NNGRADE_ROOT", str(tmp_path))
    assert repo_root() == tmp_path.resolve()
    monkeypatch.delenv("NNGRADE_ROOT")
    assert (repo_root() / "pyproject.toml").is_file()
    assert repo_root() == Path(__file__).resolve().parents[1]


def test_library_errors_are_plain_exceptions_with_their_messages(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGRADE_ROOT", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=r"\$NNGRADE_ROOT is '.*nowhere', which is not a folder"):
        repo_root()
    [ps] = find_problem_sets(make_checkout(tmp_path))
    ps.grading_config.write_text("cell_timeout: 5\nspeed: fast\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"grading.yaml: unknown setting\(s\) \['speed'\]"):
        grading_limits(ps)
    for error in (BuildError, ProblemSetNotFound, ConfigError):
        assert issubclass(error, NngradeError) and not issubclass(error, click.ClickException)


def test_a_library_error_from_any_command_is_a_clean_message(tmp_path):
    result = nngrade(tmp_path / "nowhere", "grade", "ps-demo", str(tmp_path), "--out", "x")
    assert result.exit_code == 1
    assert result.output.startswith("Error: $NNGRADE_ROOT is ")
    assert "Traceback" not in result.output


# ------------------------------------------------------------- a self-contained problem set


def test_a_problem_set_needs_nothing_outside_its_folder(tmp_path):
    """A course made of solutions/ps-demo/ (a copy of the fixture folder) and an empty
    pyproject builds, and its solution gets full marks from both engines. The hidden test's
    checks module is imported from the autograder zip: no copy of it is importable anywhere
    else, and nothing of the problem set lives in autograder/."""
    from autograder.engine.grade import grade_submission
    from autograder.engine.otter_runner import grade_with_otter
    from autograder.engine.sandbox import SandboxLimits
    from autograder.engine.test_files import load_questions

    course = tmp_path / "course"
    shutil.copytree(FIXTURE_DIR, course / "solutions" / NAME,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (course / "pyproject.toml").write_text("")
    assert sorted(snapshot(course)) == sorted(
        ["pyproject.toml", f"solutions/{NAME}/{NAME}.py", f"solutions/{NAME}/{CHECKS}"]
    )
    [ps] = find_problem_sets(course)
    assert build_problem_set(ps).autograder_zip == ps.autograder_zip

    sys.modules.pop("ps_demo_checks", None)
    assert importlib.util.find_spec("ps_demo_checks") is None
    questions = load_questions(ps.autograder_zip)
    assert sys.modules["ps_demo_checks"].__file__ == f"{ps.autograder_zip}/files/{CHECKS}"

    limits = SandboxLimits(cell_timeout=10, total_timeout=60)
    result = grade_submission("solution", ps.solution_notebook, questions, limits)
    assert (result.score, result.max_score) == (4.0, 4.0), [
        (t.name, t.message) for t in result.tests if not t.passed]
    blank = grade_submission("blank", ps.student_notebook, questions, limits)
    failed = {t.name: t.message for t in blank.tests if not t.passed}
    assert "test_sigmoid_unseen_inputs" in failed  # the checks module ran, and failed the blank

    otter = grade_with_otter(ps.solution_notebook, ps.autograder_zip)
    assert (otter["total"], otter["possible"]) == (4.0, 4.0), otter


def test_the_zips_copy_of_a_checks_module_is_the_one_graded_with(tmp_path):
    """Loading a zip registers its own copy of each support module; the same copy again is
    kept, a changed one replaces it, and the tests fingerprint follows the change."""
    from autograder.engine.test_files import load_support_modules, tests_fingerprint

    def zip_with(value: int) -> Path:
        path = tmp_path / f"v{value}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("tests/q1.py", "points = 1\n")
            zf.writestr("files/nngrade_probe_checks.py", f"VALUE = {value}\n")
        return path

    one, two = zip_with(1), zip_with(2)
    try:
        first = load_support_modules(one)["nngrade_probe_checks"]
        assert first.VALUE == 1 and sys.modules["nngrade_probe_checks"] is first
        assert load_support_modules(one)["nngrade_probe_checks"] is first
        assert load_support_modules(two)["nngrade_probe_checks"].VALUE == 2
        assert sys.modules["nngrade_probe_checks"].VALUE == 2
        assert tests_fingerprint(one) != tests_fingerprint(two)
        shadow = tmp_path / "shadow.zip"
        with zipfile.ZipFile(shadow, "w") as zf:
            zf.writestr("files/json.py", "VALUE = 3\n")
        with pytest.raises(ImportError, match="would replace the module 'json'"):
            load_support_modules(shadow)
        assert sys.modules["json"] is json
    finally:
        sys.modules.pop("nngrade_probe_checks", None)
