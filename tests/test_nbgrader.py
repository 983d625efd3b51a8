"""nbgrader end to end: each problem set exported as an nbgrader assignment, released by
nbgrader's ``generate_assignment`` and graded by its ``autograde`` (``--engine nbgrader``).

The specification here: the release holds no hidden test and no solution line, one test cell
per test function; a batch's forked workers never share a scratch course; and an nbgrader
course graded by the hardened engine through the command line, its scores written into the
course's gradebook and read back by nbgrader's own API. What nbgrader's ``autograde`` gives
the solution, the blank and every declared mistake and alternative of every problem set is
stated, with the other engines, in ``test_problem_sets.py`` (one batch per problem set).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
import pytest

from autograder.engine.job import ProblemSetTests
from autograder.engine.registry import ENGINES
from autograder.leak_checks import hidden_test_names, solution_lines
from autograder.nbgrader_export import export_assignment, nbgrader_tests

AUTOGRADED = {"ps1-perceptron": 38, "ps2-backprop": 34}


@pytest.fixture(scope="module", params=["ps1-perceptron", "ps2-backprop", "ps3-keras-mnist",
                                        "ps4-network-design"])
def built(request, built_problem_set):
    return built_problem_set(request.param)


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
    release = scratch.root / "release" / ps.name / f"{ps.name}.ipynb"
    text = release.read_text()  # metadata included: otter's holds every test's source
    hidden = hidden_test_names(nbformat.read(ps.solution_notebook, 4))
    # A hidden test's cell keeps its grade_id (the test's name, which feedback shows too), but
    # never its source: neither the function nor the call that runs it.
    assert hidden and not [name for name in hidden if f"def {name}(" in text]
    assert not [name for name in hidden if f"{name}(" in text.replace(f'"{name}"', "")]
    assert "BEGIN SOLUTION" not in text and "reference_impl" not in text
    assert not list((scratch.root / "release").rglob("*_checks.py"))
    cells = "\n".join(c.source for c in nbformat.read(release, 4).cells).splitlines()
    # A solution line that our own release also shows (in given code or a public test, such
    # as `net.train()`) is no leak.
    release_nb = nbformat.read(ps.student_notebook, 4)
    public_tests = release_nb.metadata["otter"]["tests"].values()
    shown = [c.source for c in release_nb.cells] + list(public_tests)
    ours = {x.strip() for source in shown for x in source.splitlines()}
    leaked = solution_lines(nbformat.read(ps.master_notebook, 4)) & {x.strip() for x in cells}
    leaked -= ours
    assert not leaked


def _course_root(ps_name: str, zip_path: Path) -> Path:
    from autograder.engine.nbgrader_engine import scratch_course

    return scratch_course(ps_name, zip_path, "fork-check", 30).root


def test_a_forked_worker_never_shares_its_parents_course(ps1_built):
    """A batch's workers are forked from a process that may have graded already; sharing its
    scratch course, two workers would remove each other's autograded notebooks."""
    from concurrent.futures import ProcessPoolExecutor

    ps, result = ps1_built
    parent = _course_root(ps.name, result.autograder_zip)
    with ProcessPoolExecutor(max_workers=2) as pool:
        roots = list(pool.map(_course_root, [ps.name] * 2, [result.autograder_zip] * 2))
        assert parent not in roots and all(root.is_dir() for root in roots)
    assert parent.is_dir()  # a worker's exit leaves its parent's course alone


def test_a_batch_leaves_no_scratch_course_behind(ps1_built, tmp_path, monkeypatch):
    """Each worker's scratch course holds the last student's notebook and the course's
    gradebook: it goes with the worker, and the grader's own with the grader."""
    import subprocess
    import sys
    import tempfile

    from autograder.engine.batch import grade_batch

    ps, result = ps1_built
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    # The forked workers inherit this: each course they make is listed, so that the test fails
    # rather than pass on an empty folder if the courses were made somewhere else.
    made_here = tmp_path / "courses.txt"
    mkdtemp = tempfile.mkdtemp

    def listed_mkdtemp(*args, **kwargs):
        path = mkdtemp(*args, **kwargs)
        if str(kwargs.get("prefix", "")).startswith("nngrade-nbgrader-"):
            with open(made_here, "a") as listing:
                listing.write(path + "\n")
        return path

    monkeypatch.setattr(tempfile, "mkdtemp", listed_mkdtemp)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for student in ("a", "b", "c"):
        (submissions / f"{student}.ipynb").write_bytes(ps.student_notebook.read_bytes())
    report = grade_batch(ps.name, result.autograder_zip, submissions, tmp_path / "out",
                         workers=2, engine="nbgrader", progress=False)
    assert sorted(report.graded) == ["a", "b", "c"] and not report.failed
    courses = made_here.read_text().split()
    assert courses and all(course.startswith(str(scratch)) for course in courses)
    assert list(scratch.iterdir()) == []
    # The grader's own process, grading in itself, cleans up when it exits.
    script = ("import tempfile; from pathlib import Path; "
              "from autograder.engine.nbgrader_engine import scratch_course; "
              f"tempfile.tempdir = {str(scratch)!r}; "
              f"print(scratch_course({ps.name!r}, Path({str(result.autograder_zip)!r}), "
              "'exit-check', 30).root)")
    made = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert made.startswith(str(scratch)) and list(scratch.iterdir()) == []


# ------------------------------------------ an nbgrader course graded by the hardened engine


def _with_answers(release: nbformat.NotebookNode, source: nbformat.NotebookNode,
                  answered: int) -> nbformat.NotebookNode:
    """The release with the solution in its first ``answered`` answer cells (a student)."""
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    nb = copy.deepcopy(release)
    done = 0
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade") and done < answered:
            cell.source = "\n".join(
                line for line in solutions[grade_id].splitlines()
                if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
            done += 1
    return nb


def test_an_nbgrader_course_is_graded_in_the_sandbox_and_its_gradebook_filled(
        ps1_built, tmp_path):
    """``nngrade grade PS course/submitted OUT --write-nbgrader-gradebook course/gradebook.db``:
    the hardened engine grades nbgrader's layout and nbgrader's own API reads the scores."""
    from click.testing import CliRunner
    from nbgrader.api import Gradebook as NbgraderGradebook

    from autograder.cli import main
    from autograder.engine.nbgrader_course import find_nbgrader_jobs, is_nbgrader_layout
    from autograder.engine.nbgrader_engine import ScratchCourse
    from autograder.results import read_results
    from gradebook import Gradebook

    ps, result = ps1_built
    course = ScratchCourse(ps.name, result.autograder_zip, 30)  # exported and released
    release = nbformat.read(course.root / "release" / ps.name / f"{ps.name}.ipynb", 4)
    source = nbformat.read(course.source, 4)
    stamps = {"ada": "2026-10-05 20:00:00.000000 UTC", "bea": "2026-10-06 08:30:00.000000 UTC",
              "cy": "2026-10-04 12:00:00.000000 UTC"}
    for student, answered in (("ada", 99), ("bea", 0), ("cy", 3)):
        folder = course.root / "submitted" / student / ps.name
        folder.mkdir(parents=True)
        nbformat.write(_with_answers(release, source, answered), folder / f"{ps.name}.ipynb")
        (folder / "timestamp.txt").write_text(stamps[student])
    submitted = course.root / "submitted"
    assert is_nbgrader_layout(submitted, ps.name)

    # What an instructor types: the layout is recognised, the scores go into the course.
    out, db = tmp_path / "graded", course.root / "gradebook.db"
    ran = CliRunner().invoke(main, ["grade", ps.name, str(submitted), "--out", str(out),
                                    "--workers", "2", "--write-nbgrader-gradebook", str(db)])
    assert ran.exit_code == 0, ran.output
    assert "graded 3, already graded 0, grader failures 0" in ran.output
    assert f"wrote 3 submissions into {db}" in ran.output
    students = sorted(p.name for p in out.iterdir() if (p / "results.json").is_file())
    assert students == ["ada", "bea", "cy"]
    assert [j.student for j in find_nbgrader_jobs(submitted, ProblemSetTests.from_zip(
        ps.name, result.autograder_zip))] == students
    results = {s: read_results(out / s / "results.json") for s in students}
    totals = {s: sum(t.score for t in r.tests) for s, r in results.items()}
    assert totals["ada"] == AUTOGRADED[ps.name], totals
    assert totals["bea"] == 0, totals
    assert 0 < totals["cy"] < AUTOGRADED[ps.name], totals
    assert results["ada"].submitted_at == "2026-10-05T20:00:00+00:00"
    for student in students:  # our feedback never shows a hidden test's code or traceback
        feedback = (out / student / "feedback.md").read_text()
        for hidden_code in ("def test_", "reference_impl", "assert_close(", "Traceback"):
            assert hidden_code not in feedback

    with NbgraderGradebook(f"sqlite:///{db}") as nbgb:
        for student, total in totals.items():
            notebook = nbgb.find_submission_notebook(ps.name, ps.name, student)
            assert notebook.score == total  # the manual question is still ungraded
            grade = nbgb.find_grade("test_q1a_weighted_sum", ps.name, ps.name, student)
            assert grade.auto_score == (1.0 if student != "bea" else 0.0)

    gb = Gradebook(tmp_path / "gb.db")
    gb.ingest("nbgrader", db)
    scores = gb.assignment_scores().set_index("student")["points"]
    assert {s: scores[s] for s in totals} == totals


def test_grading_with_nbgrader_shows_the_grader_no_warning_about_nbgrader(ps1_built):
    """nbgrader's gradebook makes SQLAlchemy 2 warn about its legacy backref cascade on each
    submission; an instructor grading a class would read a screenful per student."""
    import warnings

    from autograder.engine.nbgrader_engine import ScratchCourse

    ps, result = ps1_built
    course = ScratchCourse(ps.name, result.autograder_zip, 30)
    course.submit("blank", nbformat.read(ps.student_notebook, as_version=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = course.autograde("blank")
    assert scores and all(score == 0 for score, _ in scores.values()), scores
    assert [str(w.message)[:120] for w in caught if "not in session" in str(w.message)] == []


def test_nbgraders_kernels_get_the_engines_thread_counts_and_the_grader_gets_its_own_back(
        tmp_path, monkeypatch):
    """nbgrader starts its kernels from this process's environment: while a course grades,
    that environment carries ``compute_threads``; afterwards it is as it was."""
    from autograder.engine.nbgrader_engine import _kernel_environment
    from autograder.limits import THREAD_VARIABLES, SandboxLimits

    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    with _kernel_environment(tmp_path, SandboxLimits(compute_threads=1).thread_env):
        assert [os.environ[name] for name in THREAD_VARIABLES] == ["1"] * len(THREAD_VARIABLES)
    assert os.environ["OMP_NUM_THREADS"] == "8"
    assert "TF_NUM_INTRAOP_THREADS" not in os.environ
